using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Data;

/// <summary>Which part of a data set to load.</summary>
public enum DatasetSplit
{
    /// <summary>The training images.</summary>
    Train,

    /// <summary>The held-out test images.</summary>
    Test,
}

/// <summary>Options of <see cref="FashionMnist.Load"/>.</summary>
public sealed class FashionMnistOptions
{
    /// <summary>Load at most this many images (a subset for quick runs); null loads the whole split.</summary>
    public int? Limit { get; set; }

    /// <summary>
    /// With <see cref="Limit"/>: null takes the first <c>Limit</c> images; a seed takes <c>Limit</c> images drawn at
    /// random with that seed (same seed ⇒ same images), kept in file order.
    /// </summary>
    public int? SubsetSeed { get; set; }

    /// <summary>
    /// Maps pixels from [0, 1] to <c>(x − mean) / std</c> with <see cref="Mean"/> and <see cref="Std"/>. Off by default.
    /// </summary>
    public bool Normalize { get; set; }

    /// <summary>Mean used by <see cref="Normalize"/>; defaults to the training set's pixel mean.</summary>
    public float Mean { get; set; } = FashionMnist.PixelMean;

    /// <summary>Standard deviation used by <see cref="Normalize"/>; defaults to the training set's pixel standard deviation.</summary>
    public float Std { get; set; } = FashionMnist.PixelStd;

    /// <summary>Checks the SHA-256 of every file read against the published one (default true).</summary>
    public bool VerifyChecksums { get; set; } = true;
}

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, arXiv:1708.07747; MIT licence, © 2017 Zalando SE): 70 000
/// greyscale 28×28 images of clothing in 10 classes, 60 000 for training and 10 000 for testing, stored as four
/// IDX files (gzip-compressed or raw). <see cref="Load"/> verifies the files' SHA-256 checksums and returns images
/// <c>[N, 1, 28, 28]</c> scaled to [0, 1].
/// </summary>
public static class FashionMnist
{
    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Mean pixel value of the training images, scaled to [0, 1].</summary>
    public const float PixelMean = 0.28604060f;

    /// <summary>Standard deviation of the pixel values of the training images, scaled to [0, 1].</summary>
    public const float PixelStd = 0.35302424f;

    /// <summary>The environment variable naming a data root that holds <c>fashion-mnist/</c> (or the files themselves).</summary>
    public const string DataRootVariable = "CONVNET_DATA_DIR";

    /// <summary>The environment variable naming the folder holding the Fashion-MNIST files.</summary>
    public const string FolderVariable = "FASHION_MNIST_DIR";

    /// <summary>The system-wide location (Debian's <c>dataset-fashion-mnist</c> package).</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    private static readonly string[] Names =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The published files: name (without <c>.gz</c>), SHA-256 and size of the gzip file, SHA-256 and size of the raw file.</summary>
    private static readonly DataFile[] Files =
    [
        new("train-images-idx3-ubyte", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", 26_421_856,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47_040_016),
        new("train-labels-idx1-ubyte", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", 29_491,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60_008),
        new("t10k-images-idx3-ubyte", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", 4_422_079,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7_840_016),
        new("t10k-labels-idx1-ubyte", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", 5_125,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10_008),
    ];

    /// <summary>The class names, indexed by label: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.</summary>
    public static IReadOnlyList<string> ClassNames => Names;

    /// <summary>Number of classes (10).</summary>
    public static int ClassCount => Names.Length;

    /// <summary>The file names of the four files, gzip-compressed form (<c>train-images-idx3-ubyte.gz</c>, ...).</summary>
    public static IReadOnlyList<string> FileNames => Files.Select(f => f.Name + ".gz").ToArray();

    /// <summary>
    /// Loads one split. <paramref name="folder"/> may be null: the folder is then found by <see cref="FindDataDirectory"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No folder holding the files was found; the message lists where it looked.</exception>
    /// <exception cref="InvalidFileException">A file is truncated, corrupt (checksum mismatch) or malformed; the message names it.</exception>
    public static ImageDataset Load(string? folder, DatasetSplit split, FashionMnistOptions? options = null)
    {
        options ??= new FashionMnistOptions();
        if (options.Limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"FashionMnistOptions.Limit must be non-negative, got {options.Limit}.");
        }
        var imagesFile = Files[split == DatasetSplit.Train ? 0 : 2];
        var labelsFile = Files[split == DatasetSplit.Train ? 1 : 3];
        folder = FindFolder(folder, [imagesFile, labelsFile]);
        string imagesPath = Locate(folder, imagesFile) ?? throw MissingFile(folder, imagesFile);
        string labelsPath = Locate(folder, labelsFile) ?? throw MissingFile(folder, labelsFile);
        if (options.VerifyChecksums)
        {
            VerifyChecksum(imagesPath);
            VerifyChecksum(labelsPath);
        }

        // The first N images need only the first N records; a random subset needs them all.
        int? readLimit = options.Limit is int n && options.SubsetSeed == null ? n : null;
        var images = IdxReader.Read(imagesPath, [-1, ImageSize, ImageSize], readLimit);
        var labels = IdxReader.Read(labelsPath, [-1], readLimit);
        if (images.Count != labels.Count)
        {
            throw new InvalidFileException(labelsPath,
                $"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Count} labels (dimensions mismatch).");
        }
        int[] indices = options.Limit is int limit && options.SubsetSeed is int seed
            ? ImageDataset.SampleIndices(images.Count, limit, seed)
            : Enumerable.Range(0, images.Count).ToArray();

        const int pixels = ImageSize * ImageSize;
        var x = new float[(long)indices.Length * pixels];
        var y = new int[indices.Length];
        float scale = 1f / 255f, shift = 0f;
        if (options.Normalize)
        {
            if (!(options.Std > 0f))
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"FashionMnistOptions.Std must be positive, got {options.Std}.");
            }
            scale /= options.Std;
            shift = -options.Mean / options.Std;
        }
        var table = new float[256];
        for (int v = 0; v < 256; v++)
        {
            table[v] = v * scale + shift;
        }
        for (int i = 0; i < indices.Length; i++)
        {
            int src = indices[i];
            int label = labels.Data[src];
            if (label >= Names.Length)
            {
                throw new InvalidFileException(labelsPath, $"{labelsPath}: label {label} of item {src} is outside [0, {Names.Length}).");
            }
            y[i] = label;
            var from = images.Data.AsSpan(src * pixels, pixels);
            var to = x.AsSpan(i * pixels, pixels);
            for (int p = 0; p < pixels; p++)
            {
                to[p] = table[from[p]];
            }
        }
        return new ImageDataset(x, new Shape(1, ImageSize, ImageSize), y, Names);
    }

    /// <summary>
    /// Checks a Fashion-MNIST file (gzip or raw, recognised by name) against its published size and SHA-256.
    /// </summary>
    /// <exception cref="InvalidFileException">The file is truncated or its checksum differs; the message names the file.</exception>
    /// <exception cref="ArgumentException">The file name is not one of the Fashion-MNIST files.</exception>
    public static void VerifyChecksum(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = Path.GetFileName(path);
        bool gz = name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        string stem = gz ? name[..^3] : name;
        var file = Files.FirstOrDefault(f => string.Equals(f.Name, stem, StringComparison.Ordinal))
            ?? throw new ArgumentException($"'{path}' is not a Fashion-MNIST file; expected one of {string.Join(", ", FileNames)} (or without .gz).", nameof(path));
        var (hash, size) = gz ? (file.GzipSha256, file.GzipSize) : (file.RawSha256, file.RawSize);
        long actualSize = InputFile.CheckRegular(path, IdxReader.MaxBytes, "Fashion-MNIST file");
        if (actualSize < size)
        {
            throw new InvalidFileException(path,
                $"{path} is truncated: {actualSize} bytes, expected {size}. Restore it from the Fashion-MNIST release (or {SystemFolder}).");
        }
        if (actualSize != size)
        {
            throw new InvalidFileException(path, $"{path} is corrupt: {actualSize} bytes, expected {size}.");
        }
        string actual;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(fs));
        }
        if (!string.Equals(actual, hash, StringComparison.Ordinal))
        {
            throw new InvalidFileException(path,
                $"{path} is corrupt: SHA-256 {actual} does not match the published {hash}. Restore it from the Fashion-MNIST release (or {SystemFolder}).");
        }
    }

    /// <summary>
    /// Finds the folder holding the Fashion-MNIST files (each either <c>.gz</c> or raw). Looks, in order, at:
    /// <paramref name="explicitPath"/> (when given, only there); <c>$FASHION_MNIST_DIR</c>; <c>$CONVNET_DATA_DIR/fashion-mnist</c>
    /// and <c>$CONVNET_DATA_DIR</c>; <c>samples/data/fashion-mnist</c> in the working directory and each of its parents;
    /// <c>data/fashion-mnist</c> beside the executable and <c>samples/data/fashion-mnist</c> above it;
    /// then <c>/usr/share/datasets/fashion-mnist</c>. <see cref="Load"/> searches the same places for the two files of its split.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">None holds all four files; the message lists every place looked at.</exception>
    public static string FindDataDirectory(string? explicitPath = null) => FindFolder(explicitPath, Files);

    /// <summary>The first candidate folder holding <paramref name="needed"/>.</summary>
    private static string FindFolder(string? explicitPath, DataFile[] needed)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            string full = Path.GetFullPath(explicitPath);
            var missing = needed.Where(f => Locate(full, f) == null).Select(f => f.Name + ".gz").ToList();
            if (missing.Count == 0)
            {
                return full;
            }
            throw new DirectoryNotFoundException(Directory.Exists(full)
                ? $"Fashion-MNIST folder '{full}' lacks {string.Join(", ", missing)} (raw files without .gz are accepted too)."
                : $"Fashion-MNIST folder '{full}' does not exist.");
        }

        return Search(SearchLocations(), needed);
    }

    /// <summary>The first of <paramref name="candidates"/> holding <paramref name="needed"/>; the error lists them all.</summary>
    internal static string Search(IEnumerable<(string Dir, string Why)> candidates, IReadOnlyList<DataFile>? needed = null)
    {
        needed ??= Files;
        var looked = new List<string>();
        foreach (var (dir, why) in candidates)
        {
            string full;
            try
            {
                full = Path.GetFullPath(dir);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                looked.Add($"{dir} ({why}): invalid path");
                continue;
            }
            if (looked.Any(l => l.StartsWith(full + " (", StringComparison.Ordinal)))
            {
                continue;
            }
            if (needed.All(f => Locate(full, f) != null))
            {
                return full;
            }
            looked.Add($"{full} ({why})");
        }
        var sb = new StringBuilder("Fashion-MNIST data not found. Looked for ")
            .Append(string.Join(", ", needed.Select(f => f.Name + ".gz"))).Append(" (or the raw files) in:");
        foreach (var l in looked)
        {
            sb.Append(Environment.NewLine).Append("  ").Append(l);
        }
        sb.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture,
            $"Pass the folder explicitly, or set {FolderVariable} (the folder) or {DataRootVariable} (a root holding fashion-mnist/).");
        throw new DirectoryNotFoundException(sb.ToString());
    }

    /// <summary>The folders searched when no folder is given, in order, each with the reason it is searched.</summary>
    internal static IEnumerable<(string Dir, string Why)> SearchLocations()
    {
        if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } folder)
        {
            yield return (folder, "$" + FolderVariable);
        }
        if (Environment.GetEnvironmentVariable(DataRootVariable) is { Length: > 0 } root)
        {
            yield return (Path.Combine(root, "fashion-mnist"), "$" + DataRootVariable + "/fashion-mnist");
            yield return (root, "$" + DataRootVariable);
        }
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        {
            yield return (Path.Combine(d.FullName, "samples", "data", "fashion-mnist"), "working directory and its parents");
        }
        string exeDir = AppContext.BaseDirectory;
        yield return (Path.Combine(exeDir, "data", "fashion-mnist"), "beside the executable");
        for (var d = new DirectoryInfo(exeDir); d != null; d = d.Parent)
        {
            yield return (Path.Combine(d.FullName, "samples", "data", "fashion-mnist"), "the executable's folder and its parents");
        }
        yield return (SystemFolder, "system data sets");
    }

    /// <summary>The path of <paramref name="file"/> in <paramref name="folder"/>: the .gz form if present, else the raw form, else null.</summary>
    private static string? Locate(string folder, DataFile file)
    {
        string gz = Path.Combine(folder, file.Name + ".gz");
        if (File.Exists(gz))
        {
            return gz;
        }
        string raw = Path.Combine(folder, file.Name);
        return File.Exists(raw) ? raw : null;
    }

    private static FileNotFoundException MissingFile(string folder, DataFile file)
        => new($"Fashion-MNIST file {file.Name}.gz (or {file.Name}) is missing from '{folder}'.", Path.Combine(folder, file.Name + ".gz"));

    internal sealed record DataFile(string Name, string GzipSha256, long GzipSize, string RawSha256, long RawSize);
}
