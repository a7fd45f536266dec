namespace Microsoft.ML.ConvNet.Cli.Commands;

using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// The data sets of <c>--dataset</c>: the name <c>fashion-mnist</c> (the IDX files, found by <see cref="FashionMnist.Load"/>)
/// or a folder of images with one sub-folder per class.
/// </summary>
/// <remarks>
/// Fashion-MNIST is presented as an image column (<see cref="ImageBuffer"/> values, 28×28 gray) rather than as pixel
/// vectors, so that training, evaluation and prediction from image files all run the same image transforms
/// (grayscale, resize, pixel extraction, normalisation) and a model trained from the IDX files scores a PNG of the same
/// garment exactly as it scores the IDX image.
/// </remarks>
internal static class CliData
{
    /// <summary>The name of the built-in data set.</summary>
    public const string FashionMnistName = "fashion-mnist";

    /// <summary>The column holding image paths.</summary>
    public const string PathColumn = "ImagePath";

    /// <summary>The label column.</summary>
    public const string LabelColumn = "Label";

    /// <summary>Whether <paramref name="dataset"/> names Fashion-MNIST.</summary>
    public static bool IsFashionMnist(string dataset) => string.Equals(dataset, FashionMnistName, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One Fashion-MNIST split (the first <paramref name="limit"/> images) with the column <paramref name="imageColumn"/>
    /// (Image&lt;28, 28&gt;, one gray channel, the IDX bytes) and <see cref="LabelColumn"/>, a key over
    /// <paramref name="classNames"/> (default: Fashion-MNIST's ten class names in their order).
    /// </summary>
    /// <exception cref="CliFailureException">A Fashion-MNIST class is not one of <paramref name="classNames"/>.</exception>
    public static IDataView FashionMnistImages(string? dataDir, DatasetSplit split, int? limit, string imageColumn, IReadOnlyList<string>? classNames = null)
    {
        var dataset = FashionMnist.Load(dataDir, split, new FashionMnistOptions { Limit = limit });
        var size = dataset.SampleSize;
        var images = new ImageBuffer[dataset.Count];
        for (int i = 0; i < dataset.Count; i++)
        {
            var bytes = new byte[size];
            var values = dataset.Images.AsSpan(i * size, size);
            for (int p = 0; p < size; p++)
            {
                // The IDX loader stores byte b as b · (1/255); rounding recovers b exactly.
                bytes[p] = (byte)MathF.Round(values[p] * 255f);
            }
            images[i] = new ImageBuffer(FashionMnist.ImageSize, FashionMnist.ImageSize, 1, bytes);
        }
        var (names, labels) = MatchLabels(dataset.Labels.Select(l => dataset.ClassNames[l]).ToArray(), classNames ?? dataset.ClassNames, "Fashion-MNIST");
        var b = new DataViewSchema.Builder();
        b.AddColumn(imageColumn, new ImageDataViewType(FashionMnist.ImageSize, FashionMnist.ImageSize));
        b.AddColumn(LabelColumn, new KeyDataViewType((ulong)names.Count), KeyAnnotations(names));
        return new InMemoryDataView(b.ToSchema(), [images, labels]);
    }

    /// <summary>
    /// One Fashion-MNIST split as pixel vectors (<c>Pixels</c>, Vector&lt;Single, 1, 28, 28&gt; in [0, 1]) with labels keyed
    /// over <paramref name="classNames"/>: for models that read pixels rather than image files.
    /// </summary>
    public static IDataView FashionMnistPixels(ConvNetContext ctx, string? dataDir, DatasetSplit split, int? limit, IReadOnlyList<string> classNames)
    {
        var dataset = FashionMnist.Load(dataDir, split, new FashionMnistOptions { Limit = limit });
        var (names, labels) = MatchLabels(dataset.Labels.Select(l => dataset.ClassNames[l]).ToArray(), classNames, "Fashion-MNIST");
        var pixels = ctx.Data.LoadFromImageDataset(dataset);
        var column = pixels.Schema["Pixels"];
        var values = new float[dataset.Count][];
        using (var cursor = pixels.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<float[]>(column);
            for (int i = 0; cursor.MoveNext(); i++)
            {
                getter(ref values[i]);
            }
        }
        var b = new DataViewSchema.Builder();
        b.AddColumn("Pixels", column.Type);
        b.AddColumn(LabelColumn, new KeyDataViewType((ulong)names.Count), KeyAnnotations(names));
        return new InMemoryDataView(b.ToSchema(), [values, labels]);
    }

    /// <summary>The image files under <paramref name="folder"/> (recursively): absolute paths and their folder names.</summary>
    /// <exception cref="CliFailureException">The folder does not exist or holds no image files.</exception>
    public static (string[] Paths, string[] Labels) ImageFolder(ConvNetContext ctx, string folder)
    {
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new CliFailureException(File.Exists(root)
                ? $"--dataset '{folder}' is a file; expected an image folder (one sub-folder of images per class) or '{FashionMnistName}'."
                : $"--dataset folder '{root}' does not exist; expected an image folder (one sub-folder of images per class) or '{FashionMnistName}'.");
        }
        var view = ctx.Data.LoadFromImageFolder(root);
        var rows = ctx.Data.CreateEnumerable<FolderRow>(view, reuseRowObject: false).ToArray();
        if (rows.Length == 0)
        {
            throw new CliFailureException(
                $"--dataset folder '{root}' holds no image files ({string.Join(", ", DataOperationsCatalog.DefaultImageExtensions)}); put the images of each class in a sub-folder named after the class.");
        }
        return (rows.Select(r => Path.Combine(root, r.ImagePath.Replace('/', Path.DirectorySeparatorChar))).ToArray(), rows.Select(r => r.Label).ToArray());
    }

    /// <summary>A view of <see cref="PathColumn"/> (text) and <see cref="LabelColumn"/> (text).</summary>
    public static IDataView PathsAndTextLabels(string[] paths, string[] labels)
    {
        var b = new DataViewSchema.Builder();
        b.AddColumn(PathColumn, TextDataViewType.Instance);
        b.AddColumn(LabelColumn, TextDataViewType.Instance);
        return new InMemoryDataView(b.ToSchema(), [paths, labels]);
    }

    /// <summary>A view of <paramref name="pathColumn"/> (text) and <see cref="LabelColumn"/>, a key over <paramref name="classNames"/>.</summary>
    /// <exception cref="CliFailureException">A folder name is not one of <paramref name="classNames"/>.</exception>
    public static IDataView PathsAndKeyLabels(string[] paths, string[] labels, IReadOnlyList<string> classNames, string pathColumn, string folder)
    {
        var (names, keys) = MatchLabels(labels, classNames, $"folder '{Path.GetFullPath(folder)}'");
        var b = new DataViewSchema.Builder();
        b.AddColumn(pathColumn, TextDataViewType.Instance);
        b.AddColumn(LabelColumn, new KeyDataViewType((ulong)names.Count), KeyAnnotations(names));
        return new InMemoryDataView(b.ToSchema(), [paths, keys]);
    }

    /// <summary>A view of one text column <paramref name="pathColumn"/>.</summary>
    public static IDataView Paths(string[] paths, string pathColumn)
    {
        var b = new DataViewSchema.Builder();
        b.AddColumn(pathColumn, TextDataViewType.Instance);
        return new InMemoryDataView(b.ToSchema(), [paths]);
    }

    /// <summary>
    /// Keys (1-based) of <paramref name="labels"/> among <paramref name="names"/>. A label matches a class name exactly, else ignoring case, else with the characters a
    /// folder name cannot hold ('/', '\', ':') written as '_' (so a folder "T-shirt_top" is the class "T-shirt/top").
    /// </summary>
    /// <exception cref="CliFailureException">A label matches no class name; the message names it and lists the classes.</exception>
    public static (IReadOnlyList<string> Names, uint[] Keys) MatchLabels(string[] labels, IReadOnlyList<string> names, string source)
    {
        var cache = new Dictionary<string, uint>(StringComparer.Ordinal);
        var keys = new uint[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            if (!cache.TryGetValue(label, out uint key))
            {
                int at = IndexOf(names, label, (a, b) => string.Equals(a, b, StringComparison.Ordinal));
                if (at < 0)
                {
                    at = IndexOf(names, label, (a, b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase));
                }
                if (at < 0)
                {
                    at = IndexOf(names, label, (a, b) => string.Equals(FolderSafe(a), FolderSafe(b), StringComparison.OrdinalIgnoreCase));
                }
                if (at < 0)
                {
                    throw new CliFailureException(
                        $"{source}: class '{label}' is not one of the model's {names.Count} classes: {string.Join(", ", names.Select(n => $"'{n}'"))}.");
                }
                key = (uint)at + 1;
                cache[label] = key;
            }
            keys[i] = key;
        }
        return (names, keys);
    }

    private static int IndexOf(IReadOnlyList<string> names, string label, Func<string, string, bool> equal)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (equal(names[i], label))
            {
                return i;
            }
        }
        return -1;
    }

    private static string FolderSafe(string name) => name.Replace('/', '_').Replace('\\', '_').Replace(':', '_');

    private static DataViewSchema.Annotations KeyAnnotations(IReadOnlyList<string> names)
    {
        var ab = new DataViewSchema.Annotations.Builder();
        ab.AddKeyValues(names);
        return ab.ToAnnotations();
    }

    /// <summary>A row of <c>LoadFromImageFolder</c>.</summary>
    private sealed class FolderRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
