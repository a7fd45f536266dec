using System.Text.Json.Nodes;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// The JSON manifest of a model file (<c>manifest.json</c> in the zip written by <see cref="ModelFile"/>): what a
/// reader needs to rebuild the pipeline and the network before loading the tensors. Property names are written as
/// they are spelled here.
/// </summary>
public sealed class ModelManifest
{
    /// <summary>Version of the model-file layout; <see cref="ModelFile.Write(Stream, ModelManifest, IReadOnlyDictionary{string, Tensors.Tensor})"/> always writes <see cref="ModelFile.CurrentFormatVersion"/>.</summary>
    public int FormatVersion { get; set; } = ModelFile.CurrentFormatVersion;

    /// <summary>Version of the library that wrote the file (informational).</summary>
    public string LibraryVersion { get; set; } = ModelFile.LibraryVersion;

    /// <summary>When the model was created, in UTC.</summary>
    public DateTime CreatedUtc { get; set; } = DateTime.UtcNow;

    /// <summary>The pipeline's steps in order; each transform stores its own settings.</summary>
    public IList<PipelineStep> Pipeline { get; init; } = new List<PipelineStep>();

    /// <summary>Class names by class index (the network's output order); empty when the model is not a classifier.</summary>
    public IList<string> ClassNames { get; init; } = new List<string>();

    /// <summary>Shape of one input sample the network expects, e.g. [3, 224, 224] (channels, height, width); null when unknown.</summary>
    public IList<int>? InputShape { get; set; }

    /// <summary>Preprocessing settings applied before the network (resize, mean/std, scale, ...), as free-form JSON.</summary>
    public JsonObject Preprocessing { get; init; } = [];

    /// <summary>The network architecture (zoo name and options); null when the file holds no network.</summary>
    public ModelArchitecture? Architecture { get; set; }

    /// <summary>The input schema the pipeline was saved with (columns with their types and key values), as written by <c>Model.Save</c>; empty when not recorded.</summary>
    public JsonArray InputSchema { get; init; } = [];

    /// <summary>Free-form text metadata (author, data set, training metrics, ...).</summary>
    public IDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>One step of a saved pipeline: which transform or trainer (<see cref="Kind"/>) and its settings.</summary>
public sealed class PipelineStep
{
    /// <summary>Name of the transform or trainer kind, e.g. "ResizeImages".</summary>
    public string Kind { get; set; } = "";

    /// <summary>The step's settings, written and read by the step itself.</summary>
    public JsonObject Settings { get; init; } = [];
}

/// <summary>The network architecture of a saved model: a model-zoo name and its options.</summary>
public sealed class ModelArchitecture
{
    /// <summary>Architecture name, e.g. "resnet18".</summary>
    public string Name { get; set; } = "";

    /// <summary>Architecture options (number of classes, input channels, small-input stem, ...).</summary>
    public JsonObject Options { get; init; } = [];
}
