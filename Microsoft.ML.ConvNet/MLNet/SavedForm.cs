using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// What the saved forms of <see cref="ConvNetTransformer"/> and <see cref="ConvNetFeaturizer"/> share: ML.NET's own
/// image transforms to pixels, and the network traced at batch 1 into ONNX inside an <c>OnnxTransformer</c>, whose
/// outputs the caller declares on the flattened network output.
/// </summary>
internal sealed class SavedForm
{
    private SavedForm(ImageInput input, string pixels, OnnxGraph graph, string output)
    {
        Input = input;
        Pixels = pixels;
        Graph = graph;
        Output = output;
    }

    /// <summary>The image column and network input.</summary>
    public ImageInput Input { get; }

    /// <summary>The pixel column the ONNX network reads (the feature column itself for pixel vectors).</summary>
    public string Pixels { get; }

    /// <summary>The traced network, to which the caller adds its outputs.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The network output flattened to one row: [values].</summary>
    public string Output { get; }

    /// <summary>Traces <paramref name="module"/> (under <paramref name="gate"/>) for one row of <paramref name="input"/>; its output has <paramref name="width"/> values.</summary>
    public static SavedForm Trace(ImageInput input, Module module, Lock gate, int width)
    {
        string pixels = input.Kind == ImageColumnKind.Pixels ? input.ColumnName : input.ColumnName + ".ConvNetPixels";
        OnnxGraph graph;
        lock (gate)
        {
            graph = OnnxGraph.Trace(module, pixels, [1, input.Channels, input.Height, input.Width], dynamicBatch: false);
        }
        string output = graph.AddNode("Reshape", [graph.TracedOutput, graph.AddConstant("row_shape", new long[] { width }, 1)]);
        return new SavedForm(input, pixels, graph, output);
    }

    /// <summary>
    /// The fitted ML.NET transformers for <paramref name="schema"/>: the image transforms, then the <c>OnnxTransformer</c>
    /// with the graph's <paramref name="outputs"/> as columns.
    /// </summary>
    /// <exception cref="NotSupportedException">The input is raw image bytes, which no ML.NET transform decodes.</exception>
    public List<ITransformer> Fit(MLContext ml, DataViewSchema schema, string[] outputs)
    {
        IEstimator<ITransformer> chain = ml.Transforms.ApplyOnnxModel(outputs, [Pixels], new MemoryStream(Graph.ToArray()));
        if (Input.SavedPreprocessing(ml, Pixels) is { } preprocessing)
        {
            chain = preprocessing.Append(chain);
        }
        return [.. Steps(OnnxTempFile.Retry(() => chain.Fit(new EmptyDataView(schema))))];
    }

    /// <summary>The columns the preprocessing adds, which the saved form drops at its end.</summary>
    public IEnumerable<string> PreprocessingColumns => Input.Kind == ImageColumnKind.Pixels ? [] : [Pixels, Input.ImageColumnName];

    /// <summary>
    /// <paramref name="transformers"/> followed by <paramref name="suffix"/> fitted on their output schema, as one chain.
    /// </summary>
    public static TransformerChain<ITransformer> Chain(List<ITransformer> transformers, DataViewSchema schema, IEstimator<ITransformer> suffix)
    {
        foreach (var t in transformers)
        {
            schema = t.GetOutputSchema(schema);
        }
        return new TransformerChain<ITransformer>([.. transformers, .. Steps(suffix.Fit(new EmptyDataView(schema)))]);
    }

    /// <summary>The transformers of a fitted estimator: a chain's steps, or the one transformer.</summary>
    private static IEnumerable<ITransformer> Steps(ITransformer fitted) => fitted as IEnumerable<ITransformer> ?? [fitted];
}
