namespace Microsoft.ML.ConvNet.Cli.Commands;

using Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A model file loaded with <c>Model.Load</c>, with the steps the commands need: the image loader (when the model
/// reads image files) and the classifier (class names, input shape).
/// </summary>
internal sealed class CliModel : IDisposable
{
    private readonly ITransformer[] _steps;

    private CliModel(string path, ITransformer[] steps, ConvNetTransformer classifier, int loaderIndex)
    {
        Path = path;
        _steps = steps;
        Classifier = classifier;
        LoaderIndex = loaderIndex;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The network step.</summary>
    public ConvNetTransformer Classifier { get; }

    /// <summary>The class names in score order.</summary>
    public IReadOnlyList<string> ClassNames => Classifier.ClassNames;

    /// <summary>The index of the step that loads image files, or -1 when the model reads pixels.</summary>
    public int LoaderIndex { get; }

    /// <summary>The step that loads image files, or null.</summary>
    public ImageLoadingTransformer? Loader => LoaderIndex >= 0 ? (ImageLoadingTransformer)_steps[LoaderIndex] : null;

    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="CliFailureException">The file is missing, unreadable, or holds no ConvNet classifier.</exception>
    public static CliModel Load(ConvNetContext ctx, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new CliFailureException(Directory.Exists(full)
                ? $"--model '{full}' is a folder; expected a model file written by 'convnet train'."
                : $"model file '{full}' does not exist.");
        }
        ITransformer model;
        try
        {
            model = ctx.Model.Load(full, out _);
        }
        catch (InvalidDataException e)
        {
            throw new CliFailureException($"model file '{full}' cannot be read: {e.Message}");
        }
        var steps = ((IEnumerable<ITransformer>)model).ToArray();
        if (steps.Length == 0 || steps[^1] is not ConvNetTransformer classifier)
        {
            (model as IDisposable)?.Dispose();
            throw new CliFailureException($"model file '{full}' holds no ConvNet classifier as its last step (steps: {string.Join(", ", steps.Select(s => s.GetType().Name))}).");
        }
        int loader = Array.FindIndex(steps, s => s is ImageLoadingTransformer);
        return new CliModel(full, steps, classifier, loader);
    }

    /// <summary>Scores a view holding the loader's input column (image paths): the whole pipeline.</summary>
    public IDataView ScoreFiles(IDataView paths) => Apply(paths, 0);

    /// <summary>Scores a view holding the loader's output column (decoded images): the steps after the loader.</summary>
    public IDataView ScoreImages(IDataView images) => Apply(images, LoaderIndex + 1);

    /// <summary>Scores a view of pixels when the model has no image loader: the whole pipeline.</summary>
    public IDataView ScorePixels(IDataView pixels) => Apply(pixels, 0);

    private IDataView Apply(IDataView data, int from)
    {
        for (int i = from; i < _steps.Length; i++)
        {
            data = _steps[i].Transform(data);
        }
        return data;
    }

    /// <summary>Releases the network.</summary>
    public void Dispose()
    {
        foreach (var s in _steps)
        {
            (s as IDisposable)?.Dispose();
        }
    }
}
