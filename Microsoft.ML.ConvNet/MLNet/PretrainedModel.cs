using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// A pretrained network that <see cref="ConvNetTrainer"/> starts from (transfer learning), set with
/// <see cref="ConvNetTrainer.Options.Pretrained"/>:
/// <list type="bullet">
/// <item>weights for the options' zoo architecture (or <see cref="ConvNetTrainer.Options.ModelFactory"/>) in a
/// safetensors file (PyTorch's, with torchvision's names) or a state dictionary file (<c>SaveStateDict</c>): every
/// tensor whose name and shape match is loaded, and what does not match (the classifier of another class count) stays
/// freshly initialised: that is the new head;</item>
/// <item>an ONNX network (<see cref="OnnxModel"/>), whose output (or the node named by <see cref="FeatureLayer"/>)
/// is the feature map: the trainer appends <c>Flatten</c> and a new <c>Linear</c> head for the label's classes;</item>
/// <item><see cref="ResNet18ImageNet"/>, the ResNet-18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// with the preprocessing it expects.</item>
/// </list>
/// </summary>
public sealed class PretrainedModel
{
    private readonly Func<Module>? _body;

    private PretrainedModel(string source, string? weightsPath, Func<Module>? body, int? inputSize)
    {
        Source = source;
        WeightsPath = weightsPath;
        _body = body;
        InputSize = inputSize;
    }

    /// <summary>The ONNX file of <see cref="FromFile"/>, cut at <see cref="FeatureLayer"/> when building.</summary>
    private string? OnnxPath { get; init; }

    /// <summary>Where the network comes from (a file path or a package name).</summary>
    public string Source { get; }

    /// <summary>True when the model is a network of its own (ONNX), not weights for an architecture.</summary>
    internal bool HasNetwork => _body != null || OnnxPath != null;

    /// <summary>A new instance of the network (for <see cref="HasNetwork"/> models), cut at <see cref="FeatureLayer"/>.</summary>
    internal Module BuildNetwork()
    {
        if (OnnxPath != null)
        {
            return FeatureLayer == null ? OnnxModel.Load(OnnxPath) : OnnxModel.Load(OnnxPath, FeatureLayer);
        }
        return (_body ?? throw new InvalidOperationException($"'{Source}' holds weights, not a network."))();
    }

    /// <summary>
    /// The names of the network's layers that hold parameters, in order: what <see cref="FineTuning.From"/> takes. For
    /// weights of an architecture, the names are the architecture's module paths (<c>model.NamedModules()</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model holds weights for an architecture, not a network.</exception>
    public IReadOnlyList<string> LayerNames()
    {
        using var network = BuildNetwork();
        return network.NamedParameters().Select(p => p.Key[..Math.Max(0, p.Key.LastIndexOf('.'))]).Where(n => n.Length > 0).Distinct().ToList();
    }

    /// <summary>A state dictionary file for the options' architecture; null for a network of its own.</summary>
    internal string? WeightsPath { get; }

    /// <summary>The image side the network was trained on (224 for ResNet-18), the trainer's default image size; null when unknown.</summary>
    public int? InputSize { get; }

    /// <summary>
    /// Weights for the options' architecture (<c>.safetensors</c>, or a state dictionary written by <c>SaveStateDict</c>),
    /// or an ONNX network (<c>.onnx</c>), cut at <paramref name="featureLayer"/> when given.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="featureLayer">For an ONNX network: the node (or node output) whose output is the feature map; the nodes after it are left out.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">A feature layer is given for weights, which have no graph to cut.</exception>
    public static PretrainedModel FromFile(string path, string? featureLayer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Pretrained model '{path}' not found.", path);
        }
        if (Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return new PretrainedModel(path, null, null, null) { OnnxPath = path, FeatureLayer = featureLayer };
        }
        return featureLayer == null
            ? new PretrainedModel(path, path, null, null)
            : throw new ArgumentException($"Pretrained model '{path}': a feature layer cuts an ONNX network; weights for an architecture have none.", nameof(featureLayer));
    }

    /// <summary>
    /// The ImageNet-trained ResNet-18 (CNTK export, 512 features) of the NuGet package
    /// Microsoft.ML.DnnImageFeaturizer.ResNet18: reference the package in the application, which copies its
    /// <c>DnnImageModels</c> folder beside the program. Its preprocessing (pixels 0–255, BGR, minus the mean image) runs
    /// inside the network, so it takes the trainer's RGB pixels at 224×224.
    /// </summary>
    /// <exception cref="FileNotFoundException">The package's model files are neither beside the program nor in the NuGet package folder.</exception>
    public static PretrainedModel ResNet18ImageNet
    {
        get
        {
            string network = FindPackagedModel(Path.Combine("ResNet18Onnx", "ResNet18.onnx"));
            string preprocess = FindPackagedModel(Path.Combine("ResNetPrepOnnx", "ResNetPreprocess.onnx"));
            return new PretrainedModel("Microsoft.ML.DnnImageFeaturizer.ResNet18", null,
                () => new Sequential(new PixelScale(255f), OnnxModel.Load(preprocess), OnnxModel.Load(network)), 224);
        }
    }

    /// <summary>For an ONNX file: the node (or node output) whose output is the feature map (null: the graph's output).</summary>
    public string? FeatureLayer { get; private init; }

    private const string PackageFolder = "microsoft.ml.dnnimagefeaturizer.resnet18";

    private static string FindPackagedModel(string relative)
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "DnnImageModels", relative) };
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string root = Path.Combine(packages, PackageFolder);
        if (Directory.Exists(root))
        {
            candidates.AddRange(Directory.GetDirectories(root).Order(StringComparer.Ordinal).Reverse()
                .Select(version => Path.Combine(version, "tools", "DnnImageModels", relative)));
        }
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            $"The pretrained ResNet-18 ({relative}) was not found; looked in: {string.Join(", ", candidates)}. " +
            "Reference the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 in the application.");
    }

    /// <summary>
    /// The network to fine-tune for <paramref name="classes"/> classes and the names of its parameters that came from
    /// the pretrained model (the rest is the new head).
    /// </summary>
    internal (Module Model, HashSet<string> Pretrained) Build(ConvNetTrainer.Options o, int classes, ImageInput input)
    {
        if (!HasNetwork)
        {
            var model = o.ModelFactory != null ? o.ModelFactory(classes, input.Channels) : ModelZoo.Create(o.Architecture, new ModelOptions(classes, input.Channels, o.SmallInput));
            try
            {
                return (model, LoadMatching(model, WeightsPath!));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        var body = BuildNetwork();
        try
        {
            int features;
            using (new NoGradScope())
            using (var scope = new TensorScope())
            {
                body.Eval();
                features = body.Forward(Tensor.Zeros(new Shape(1, input.Channels, input.Height, input.Width))).Size;
            }
            var classifier = new PretrainedClassifier(body, new Linear(features, classes));
            return (classifier, classifier.Body.NamedParameters("body").Select(p => p.Key).ToHashSet());
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>Loads every tensor of the file whose name and shape match <paramref name="model"/>'s; returns their names.</summary>
    private static HashSet<string> LoadMatching(Module model, string path)
    {
        Dictionary<string, float[]> values;
        Dictionary<string, Shape> shapes;
        if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var tensors = Safetensors.Read(path);
            values = tensors.ToDictionary(t => t.Key, t => t.Value.Values);
            shapes = tensors.ToDictionary(t => t.Key, t => t.Value.Shape);
        }
        else
        {
            (values, shapes) = StateDictFile.Read(path);
        }
        var own = model.StateDict();
        var matching = own.Where(p => shapes.TryGetValue(p.Key, out var s) && s == p.Value.Shape).Select(p => p.Key).ToHashSet();
        if (matching.Count == 0)
        {
            throw new InvalidDataException($"Pretrained model '{path}': none of its {values.Count} tensors matches the network by name and shape (the network has {string.Join(", ", own.Keys.Take(5))}, ...).");
        }
        model.LoadStateDict(matching.ToDictionary(k => k, k => values[k]), strict: false);
        return matching;
    }
}

/// <summary>A pretrained body followed by a new classifier head: <c>body</c> → flatten → <c>head</c>.</summary>
public sealed class PretrainedClassifier : Module
{
    /// <summary>Creates the network.</summary>
    public PretrainedClassifier(Module body, Module head)
    {
        Body = RegisterModule("body", body);
        Head = RegisterModule("head", head);
    }

    /// <summary>The pretrained feature extractor.</summary>
    public Module Body { get; }

    /// <summary>The classifier head.</summary>
    public Module Head { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var features = Body.Forward(input);
        return Head.Forward(features.Reshape(features.Shape[0], -1));
    }
}

/// <summary>Multiplies its input by a constant (pixels in [0, 1] to the 0–255 a pretrained network expects).</summary>
public sealed class PixelScale(float factor) : Module
{
    /// <summary>The factor.</summary>
    public float Factor { get; } = factor;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => input * Factor;

    /// <inheritdoc/>
    public override string ToString() => $"PixelScale(×{Factor})";
}

/// <summary>
/// Which layers of a pretrained network <see cref="ConvNetTrainer"/> trains (the four transfer-learning scenarios):
/// <see cref="HeadOnly"/> (a fixed feature extractor), <see cref="From"/> a layer on (fine-tuning the later layers),
/// or <see cref="All"/>. Frozen layers keep their batch norms in evaluation mode, so their statistics stay pretrained.
/// </summary>
public sealed class FineTuning
{
    private FineTuning(string? fromLayer, bool all)
    {
        FromLayer = fromLayer;
        TrainsAll = all;
    }

    /// <summary>Only the new head trains; the pretrained network is a fixed feature extractor.</summary>
    public static FineTuning HeadOnly { get; } = new(null, false);

    /// <summary>Every layer trains.</summary>
    public static FineTuning All { get; } = new(null, true);

    /// <summary>
    /// The layer named <paramref name="layerName"/> (a module path such as <c>layer3</c>, or a parameter name prefix) and
    /// every layer after it train; the ones before it are frozen.
    /// </summary>
    public static FineTuning From(string layerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(layerName);
        return new(layerName, false);
    }

    /// <summary>The first trained layer (null for <see cref="HeadOnly"/> and <see cref="All"/>).</summary>
    public string? FromLayer { get; }

    /// <summary>True for <see cref="All"/>.</summary>
    public bool TrainsAll { get; }

    /// <inheritdoc/>
    public override string ToString() => TrainsAll ? "All" : FromLayer == null ? "HeadOnly" : $"From({FromLayer})";

    /// <summary>
    /// Freezes the pretrained parameters of <paramref name="model"/> before the chosen layer and puts the batch norms among
    /// them in lasting evaluation mode; returns the frozen parameters' names.
    /// </summary>
    /// <exception cref="ArgumentException">The layer is not in the network (the message lists its layers).</exception>
    internal HashSet<string> Apply(Module model, HashSet<string> pretrained)
    {
        var names = model.NamedParameters().Select(p => p.Key).ToList();
        int first = names.Count;
        if (TrainsAll)
        {
            first = 0;
        }
        else if (FromLayer != null)
        {
            first = names.FindIndex(n => Matches(n, FromLayer) || Matches(n, "body." + FromLayer));
            if (first < 0)
            {
                var layers = model.NamedModules().Select(m => m.Key).Where(k => k.Length > 0);
                throw new ArgumentException($"FineTuning.From: no layer '{FromLayer}' in the network; its layers are {string.Join(", ", layers)}.");
            }
        }
        var frozen = names.Take(first).Where(pretrained.Contains).ToHashSet();
        foreach (var (name, parameter) in model.NamedParameters().Where(p => frozen.Contains(p.Key)))
        {
            parameter.RequiresGrad = false;
        }
        foreach (var (path, module) in model.NamedModules())
        {
            if (module is BatchNormBase && module.Parameters().Any() && module.NamedParameters(path).All(p => frozen.Contains(p.Key)))
            {
                module.KeepsEvaluationMode = true;
                module.Eval();
            }
        }
        return frozen;
    }

    private static bool Matches(string parameter, string layer) => parameter == layer || parameter.StartsWith(layer + ".", StringComparison.Ordinal);
}
