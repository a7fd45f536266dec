using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using static Microsoft.ML.ConvNet.Cli.Commands.CliData;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>How a saved model takes its images, read from its input schema.</summary>
internal enum ModelInput
{
    /// <summary>Paths of image files (<see cref="PathColumn"/>), loaded by the model's own <c>LoadImages</c>.</summary>
    Paths,

    /// <summary>Pixel vectors [C, H, W] in [0, 1] (a model trained on Fashion-MNIST).</summary>
    Pixels,
}

/// <summary>
/// A model file written by <c>convnet train</c> (an ML.NET zip), loaded with <c>mlContext.Model.Load</c>: what its input
/// schema asks for, its class names, and the views that feed it image files or Fashion-MNIST rows.
/// </summary>
internal sealed class CliModel : IDisposable
{
    private readonly MLContext _ml;
    private readonly ITransformer _model;

    private CliModel(MLContext ml, string path, ITransformer model, ModelInput input, DataViewSchema.Column? pixels, IReadOnlyList<string> classNames)
    {
        _ml = ml;
        Path = path;
        _model = model;
        Input = input;
        PixelsColumn = pixels;
        ClassNames = classNames;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>How the model takes its images.</summary>
    public ModelInput Input { get; }

    /// <summary>The pixel column of a <see cref="ModelInput.Pixels"/> model.</summary>
    public DataViewSchema.Column? PixelsColumn { get; }

    /// <summary>The class names in score order (the predicted key's values).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Loads <paramref name="path"/> with <see cref="ModelFile.Load"/>: every zip entry's CRC-32 is checked first.</summary>
    /// <exception cref="CliFailureException">The file is missing (exit code 3), a folder, or not a classifier of images (exit code 4).</exception>
    /// <exception cref="InvalidFileException">The file is not a valid ML.NET model (exit code 4).</exception>
    public static CliModel Load(MLContext ml, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new CliFailureException($"--model '{full}' is a folder; expected a model file written by 'convnet train'.", ConvNetCli.InvalidFile);
        }
        if (!File.Exists(full))
        {
            throw new CliFailureException($"model file '{full}' does not exist.", ConvNetCli.MissingFile);
        }
        var model = ModelFile.Load(ml, full, out var inputSchema);
        try
        {
            var (input, pixels) = InputOf(inputSchema, full);
            var output = model.GetOutputSchema(inputSchema);
            var classNames = ClassNamesOf(output, full);
            return new CliModel(ml, full, model, input, pixels, classNames);
        }
        catch
        {
            (model as IDisposable)?.Dispose();
            throw;
        }
    }

    private static (ModelInput Input, DataViewSchema.Column? Pixels) InputOf(DataViewSchema schema, string path)
    {
        if (schema.GetColumnOrNull(PathColumn) is { Type: TextDataViewType })
        {
            return (ModelInput.Paths, null);
        }
        foreach (var column in schema)
        {
            if (column.Type is VectorDataViewType { ItemType: var item, Dimensions.Length: 3 } && item == NumberDataViewType.Single && ((VectorDataViewType)column.Type).IsKnownSize)
            {
                return (ModelInput.Pixels, column);
            }
        }
        throw new CliFailureException(
            $"model file '{path}' reads neither image paths (a text column '{PathColumn}') nor pixels (a Vector<Single, C, H, W> column); its input columns: {string.Join(", ", schema.Select(c => $"{c.Name} ({c.Type})"))}.",
            ConvNetCli.InvalidFile);
    }

    private static string[] ClassNamesOf(DataViewSchema output, string path)
    {
        foreach (string name in new[] { "PredictedLabel", LabelKeyColumn })
        {
            if (output.GetColumnOrNull(name) is { Type: KeyDataViewType } column
                && column.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType })
            {
                VBuffer<ReadOnlyMemory<char>> values = default;
                column.GetKeyValues(ref values);
                return [.. values.DenseValues().Select(v => v.ToString())];
            }
        }
        if (output.GetColumnOrNull("Score") is not { Type: VectorDataViewType { ItemType: var item } score } || item != NumberDataViewType.Single || score.Size == 0)
        {
            throw new CliFailureException($"model file '{path}' is not a multiclass classifier: it adds no 'Score' vector column.", ConvNetCli.InvalidFile);
        }
        return [.. Enumerable.Range(1, score.Size).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>Scores image files (<paramref name="labels"/>: their class names, or null when unknown).</summary>
    public IDataView ScoreFiles(string[] files, string[]? labels)
    {
        var rows = files.Select((f, i) => new PathRow { ImagePath = f, Label = labels?[i] ?? "" }).ToArray();
        IDataView data = _ml.Data.LoadFromEnumerable(rows);
        if (Input == ModelInput.Pixels)
        {
            // The model reads pixels: ML.NET's own transforms make them from the files, as the trainer does from images.
            var shape = ((VectorDataViewType)PixelsColumn!.Value.Type).Dimensions;
            int channels = shape[0], height = shape[1], width = shape[2];
            IEstimator<ITransformer> prepare = _ml.Transforms.LoadImages(ImageColumn, "", PathColumn)
                .Append(_ml.Transforms.ResizeImages(ImageColumn, width, height));
            if (channels == 1)
            {
                prepare = prepare.Append(_ml.Transforms.ConvertToGrayscale(ImageColumn));
            }
            prepare = prepare.Append(_ml.Transforms.ExtractPixels(PixelsColumn.Value.Name, ImageColumn,
                channels == 1 ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1f / 255));
            data = prepare.Fit(data).Transform(data);
        }
        return Score(data);
    }

    /// <summary>Scores Fashion-MNIST rows (pixels, or images made from them for a model that loads image files).</summary>
    public IDataView ScoreFashionMnist(FashionRow[] rows)
    {
        if (Input == ModelInput.Pixels)
        {
            IDataView data = _ml.Data.LoadFromEnumerable(rows);
            if (PixelsColumn!.Value.Name != CliData.PixelsColumn)
            {
                data = _ml.Transforms.CopyColumns(PixelsColumn.Value.Name, CliData.PixelsColumn).Fit(data).Transform(data);
            }
            return Score(data);
        }
        // The model starts by loading image files: give it the images, and run every step but the loader.
        var images = _ml.Data.LoadFromEnumerable(AsImages(rows));
        var steps = _model is IEnumerable<ITransformer> chain ? chain.ToArray() : [_model];
        if (!steps.Any(s => s is ImageLoadingTransformer))
        {
            throw new CliFailureException($"model file '{Path}' reads image paths but has no image loading step; evaluate it on an image folder.");
        }
        IDataView scored = images;
        foreach (var step in steps.Where(s => s is not ImageLoadingTransformer))
        {
            scored = step.Transform(scored);
        }
        return WithLabelKey(scored);
    }

    private IDataView Score(IDataView data) => WithLabelKey(_model.Transform(data));

    /// <summary>The scored view with the label as a key over the class names (the model's own mapping when it has one).</summary>
    private IDataView WithLabelKey(IDataView scored)
    {
        if (scored.Schema.GetColumnOrNull(LabelKeyColumn) is { Type: KeyDataViewType })
        {
            return scored;
        }
        return _ml.Transforms.Conversion.MapValueToKey(LabelKeyColumn, LabelColumn, keyData: KeyData(_ml, ClassNames)).Fit(scored).Transform(scored);
    }

    /// <summary>The scores (class probabilities) of every row of <paramref name="scored"/>.</summary>
    public static List<float[]> Scores(IDataView scored)
    {
        var column = scored.Schema["Score"];
        var scores = new List<float[]>();
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            scores.Add(buffer.DenseValues().ToArray());
        }
        return scores;
    }

    /// <summary>Releases the model (ONNX Runtime's session).</summary>
    public void Dispose() => (_model as IDisposable)?.Dispose();
}
