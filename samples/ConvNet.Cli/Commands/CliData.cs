using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// The data sets of <c>--dataset</c>: the name <c>fashion-mnist</c> (the IDX files, found by <see cref="FashionMnist.Load"/>)
/// or a folder of images with one sub-folder per class, as ML.NET rows.
/// </summary>
internal static class CliData
{
    /// <summary>The name of the built-in data set.</summary>
    public const string FashionMnistName = "fashion-mnist";

    /// <summary>The column holding image paths.</summary>
    public const string PathColumn = "ImagePath";

    /// <summary>The column holding the label as text (the class name).</summary>
    public const string LabelColumn = "Label";

    /// <summary>The label as a key (MapValueToKey of <see cref="LabelColumn"/>).</summary>
    public const string LabelKeyColumn = "LabelKey";

    /// <summary>The column of the images loaded from <see cref="PathColumn"/>.</summary>
    public const string ImageColumn = "Image";

    /// <summary>The column of Fashion-MNIST's pixels, Vector&lt;Single, 1, 28, 28&gt; in [0, 1].</summary>
    public const string PixelsColumn = "Features";

    /// <summary>The predicted class name (MapKeyToValue of the predicted key).</summary>
    public const string PredictedNameColumn = "PredictedName";

    /// <summary>The file extensions read from image folders (what ML.NET's <c>LoadImages</c> decodes).</summary>
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>Whether <paramref name="dataset"/> names Fashion-MNIST.</summary>
    public static bool IsFashionMnist(string dataset) => string.Equals(dataset, FashionMnistName, StringComparison.OrdinalIgnoreCase);

    /// <summary>One Fashion-MNIST split (the first <paramref name="limit"/> images) as rows of pixels and class names.</summary>
    public static (FashionRow[] Rows, IReadOnlyList<string> ClassNames) FashionMnistRows(string? dataDir, DatasetSplit split, int? limit)
    {
        var dataset = FashionMnist.Load(dataDir, split, new FashionMnistOptions { Limit = limit });
        int size = dataset.SampleSize;
        var rows = new FashionRow[dataset.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = new FashionRow { Features = dataset.Images.AsSpan(i * size, size).ToArray(), Label = dataset.ClassNames[dataset.Labels[i]] };
        }
        return (rows, dataset.ClassNames);
    }

    /// <summary>Fashion-MNIST rows as images (gray, 28×28) rather than pixels, for models that start from image files.</summary>
    public static IEnumerable<ImageRow> AsImages(IEnumerable<FashionRow> rows)
    {
        foreach (var row in rows)
        {
            var bgra = new byte[row.Features.Length * 4];
            for (int p = 0; p < row.Features.Length; p++)
            {
                // The IDX loader stores byte b as b · (1/255); rounding recovers b exactly.
                byte b = (byte)MathF.Round(row.Features[p] * 255f);
                bgra[4 * p] = bgra[4 * p + 1] = bgra[4 * p + 2] = b;
                bgra[4 * p + 3] = 255;
            }
            yield return new ImageRow { Image = MLImage.CreateFromPixels(FashionMnist.ImageSize, FashionMnist.ImageSize, MLPixelFormat.Bgra32, bgra), Label = row.Label };
        }
    }

    /// <summary>
    /// The image files under <paramref name="folder"/>: every image in each sub-folder (recursively) with the sub-folder's
    /// name as its label, sorted by path.
    /// </summary>
    /// <exception cref="CliFailureException">The folder does not exist or holds no image files.</exception>
    public static PathRow[] ImageFolder(string folder)
    {
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new CliFailureException(File.Exists(root)
                ? $"--dataset '{folder}' is a file; expected an image folder (one sub-folder of images per class) or '{FashionMnistName}'."
                : $"--dataset folder '{root}' does not exist; expected an image folder (one sub-folder of images per class) or '{FashionMnistName}'.",
                ConvNetCli.MissingFile);
        }
        var rows = new List<PathRow>();
        foreach (string classFolder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string label = Path.GetFileName(classFolder);
            foreach (string file in Directory.EnumerateFiles(classFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (ImageExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                {
                    rows.Add(new PathRow { ImagePath = file, Label = label });
                }
            }
        }
        if (rows.Count == 0)
        {
            throw new CliFailureException(
                $"--dataset folder '{root}' holds no image files ({string.Join(", ", ImageExtensions)}); put the images of each class in a sub-folder named after the class.");
        }
        return [.. rows];
    }

    /// <summary>
    /// Splits <paramref name="rows"/> per class: a seeded <paramref name="testFraction"/> of each class's rows (at least
    /// one when the class has two or more) is held out, so both sides keep the class proportions.
    /// </summary>
    public static (PathRow[] Train, PathRow[] Test) StratifiedSplit(PathRow[] rows, double testFraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<PathRow>();
        var test = new List<PathRow>();
        foreach (var group in rows.GroupBy(r => r.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int held = (int)Math.Round(members.Length * testFraction, MidpointRounding.AwayFromZero);
            held = Math.Clamp(held, members.Length > 1 ? 1 : 0, members.Length - 1);
            test.AddRange(members[..held]);
            train.AddRange(members[held..]);
        }
        return (Order(train), Order(test));

        static PathRow[] Order(List<PathRow> list) => [.. list.OrderBy(r => r.ImagePath, StringComparer.Ordinal)];
    }

    /// <summary>A seeded random subset of at most <paramref name="limit"/> of <paramref name="rows"/>, in their order.</summary>
    public static T[] Subset<T>(T[] rows, int? limit, int seed)
    {
        if (limit is not int n || n >= rows.Length)
        {
            return rows;
        }
        var order = Enumerable.Range(0, rows.Length).ToArray();
        new Random(seed).Shuffle(order);
        return [.. order[..n].Order().Select(i => rows[i])];
    }

    /// <summary>
    /// The class names of <paramref name="labels"/> among <paramref name="names"/>. A label matches a class name exactly, else
    /// ignoring case, else with the characters a folder name cannot hold ('/', '\', ':') written as '_' (so a folder
    /// "T-shirt_top" is the class "T-shirt/top").
    /// </summary>
    /// <exception cref="CliFailureException">A label matches no class name; the message names it and lists the classes.</exception>
    public static string[] MatchLabels(IReadOnlyList<string> labels, IReadOnlyList<string> names, string source)
    {
        var cache = new Dictionary<string, string>(StringComparer.Ordinal);
        var matched = new string[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            string label = labels[i];
            if (!cache.TryGetValue(label, out string? name))
            {
                name = names.FirstOrDefault(n => string.Equals(n, label, StringComparison.Ordinal))
                    ?? names.FirstOrDefault(n => string.Equals(n, label, StringComparison.OrdinalIgnoreCase))
                    ?? names.FirstOrDefault(n => string.Equals(FolderSafe(n), FolderSafe(label), StringComparison.OrdinalIgnoreCase))
                    ?? throw new CliFailureException(
                        $"{source}: class '{label}' is not one of the model's {names.Count} classes: {string.Join(", ", names.Select(n => $"'{n}'"))}.");
                cache[label] = name;
            }
            matched[i] = name;
        }
        return matched;
    }

    private static string FolderSafe(string name) => name.Replace('/', '_').Replace('\\', '_').Replace(':', '_');

    /// <summary>A one-column view of <paramref name="values"/>: the key data of <c>MapValueToKey</c>, fixing the key order.</summary>
    public static IDataView KeyData(MLContext ml, IEnumerable<string> values) => ml.Data.LoadFromEnumerable(values.Select(v => new KeyRow { Value = v }));

    /// <summary>A row of an image folder: the image file and its class.</summary>
    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    /// <summary>A Fashion-MNIST row: 28×28 gray pixels in [0, 1] and the class name.</summary>
    public sealed class FashionRow
    {
        [VectorType(1, FashionMnist.ImageSize, FashionMnist.ImageSize)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    /// <summary>A decoded image and its class.</summary>
    public sealed class ImageRow
    {
        [ImageType(FashionMnist.ImageSize, FashionMnist.ImageSize)]
        public MLImage Image { get; set; } = null!;

        public string Label { get; set; } = "";
    }

    private sealed class KeyRow
    {
        public string Value { get; set; } = "";
    }
}
