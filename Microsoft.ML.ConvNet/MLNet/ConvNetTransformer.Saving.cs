using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

public sealed partial class ConvNetTransformer
{
    private DataViewSchema? _trainingSchema;

    /// <summary>The schema the trainer saw; the saved form is fitted to it.</summary>
    internal DataViewSchema TrainingSchema
    {
        get => _trainingSchema ?? throw new InvalidOperationException("ConvNetTransformer: the training schema is not known.");
        set => _trainingSchema = value;
    }

    /// <summary>
    /// Saves this transformer as ML.NET's own components (see <see cref="ToMLNetTransformer"/>): ML.NET gives a
    /// third-party transformer no way to write its own state, so <c>mlContext.Model.Save</c> stores the equivalent
    /// chain of ML.NET transformers, which any ML.NET app loads without this library.
    /// </summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        using var chain = ToMLNetTransformer();
        ((ICanSaveModel)chain).Save(ctx);
    }

    /// <summary>
    /// The equivalent chain of ML.NET's own transformers: for an image column ML.NET's <c>ResizeImages</c> (and
    /// <c>ConvertToGrayscale</c>) and <c>ExtractPixels</c>; the network exported to ONNX (a row scorer of batch 1 that
    /// ends in the softmax and the arg-max) in an <c>OnnxTransformer</c>; and for a key label <c>MapValueToKey</c> with
    /// the label's key values, so that <c>PredictedLabel</c> is the label's key type. It scores through ONNX Runtime.
    /// </summary>
    /// <exception cref="NotSupportedException">The model reads raw image bytes, which no ML.NET transform decodes, or the network has an op ONNX export lacks.</exception>
    public TransformerChain<ITransformer> ToMLNetTransformer()
    {
        var ml = _ml;
        bool pixelsGiven = _input.Kind == ImageColumnKind.Pixels;
        string pixels = pixelsGiven ? _input.ColumnName : _input.ColumnName + ".ConvNetPixels";
        var preprocessing = _input.SavedPreprocessing(ml, pixels);
        string predictedValue = _output.PredictedLabelColumnName + ".Value";

        OnnxGraph graph;
        lock (_lock)
        {
            graph = OnnxGraph.Trace(Model, pixels, [1, _input.Channels, _input.Height, _input.Width], dynamicBatch: false);
        }
        string logits = graph.TracedOutput;
        string[] outputs;
        IDataView? keyData = null;
        if (_task == ConvNetTask.Binary)
        {
            string Logit(int index) => graph.AddNode("Gather", [logits, graph.AddConstant("class_" + index, new long[] { index })], OnnxAttribute.Int("axis", 1));
            string score = Scalar(graph, graph.AddNode("Sub", [Logit(1), Logit(0)]));
            graph.AddOutput(score, _output.ScoreColumnName, OnnxElementType.Float);
            graph.AddOutput(graph.AddNode("Sigmoid", [score]), ConvNetOutput.ProbabilityColumnName, OnnxElementType.Float);
            graph.AddOutput(graph.AddNode("Greater", [score, graph.AddConstant("zero", [0f])]), _output.PredictedLabelColumnName, OnnxElementType.Bool);
            outputs = [_output.ScoreColumnName, ConvNetOutput.ProbabilityColumnName, _output.PredictedLabelColumnName];
        }
        else
        {
            int k = _output.Classes;
            string probabilities = graph.AddNode("Softmax", [logits], OnnxAttribute.Int("axis", 1));
            graph.AddOutput(graph.AddNode("Reshape", [probabilities, graph.AddConstant("score_shape", new long[] { k }, 1)]), _output.ScoreColumnName, OnnxElementType.Float, k);
            string index = graph.AddNode("ArgMax", [logits], OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0));
            var (values, type, data) = KeyValueTable(ml, graph);
            graph.AddOutput(Scalar(graph, graph.AddNode("Gather", [values, index], OnnxAttribute.Int("axis", 0))), predictedValue, type);
            keyData = data;
            outputs = [_output.ScoreColumnName, predictedValue];
        }

        IEstimator<ITransformer> chain = ml.Transforms.ApplyOnnxModel(outputs, [pixels], new MemoryStream(graph.ToArray()));
        if (preprocessing != null)
        {
            chain = preprocessing.Append(chain);
        }
        if (keyData != null)
        {
            chain = chain.Append(ml.Transforms.Conversion.MapValueToKey(_output.PredictedLabelColumnName, predictedValue, keyData: keyData));
        }
        var internalColumns = new List<string>();
        if (keyData != null)
        {
            internalColumns.Add(predictedValue);
        }
        if (!pixelsGiven)
        {
            internalColumns.AddRange([pixels, _input.ImageColumnName]);
        }
        if (internalColumns.Count > 0)
        {
            chain = chain.Append(ml.Transforms.DropColumns([.. internalColumns]));
        }
        // The fitted chain is typed by its last step (DropColumns, say); the caller gets it as a chain of ITransformer.
        var fitted = chain.Fit(new EmptyDataView(TrainingSchema));
        return fitted as TransformerChain<ITransformer> ?? new TransformerChain<ITransformer>([.. (IEnumerable<ITransformer>)fitted]);
    }

    /// <summary>A [1] tensor as a scalar: the saved graph scores one row at a time, and ML.NET reads a scalar output as a scalar column.</summary>
    private static string Scalar(OnnxGraph graph, string value) => graph.AddNode("Reshape", [value, graph.AddConstant("scalar_shape", Array.Empty<long>(), 0)]);

    /// <summary>
    /// The label's key values as an ONNX constant (what <c>Gather</c> picks the predicted value from), their element type,
    /// and the same values as the one-column view <c>MapValueToKey</c> takes as its key data.
    /// </summary>
    private (string Constant, OnnxElementType Type, IDataView Data) KeyValueTable(MLContext ml, OnnxGraph graph)
    {
        long k = _output.Classes;
        switch (_output.KeyValues)
        {
            case float[] floats:
                return (graph.AddConstant("key_values", floats, k), OnnxElementType.Float, ml.Data.LoadFromEnumerable(floats.Select(v => new KeyValueRow<float>(v))));
            case long[] longs:
                return (graph.AddConstant("key_values", longs, k), OnnxElementType.Int64, ml.Data.LoadFromEnumerable(longs.Select(v => new KeyValueRow<long>(v))));
            case bool[] flags:
                return (graph.AddConstant("key_values", flags, k), OnnxElementType.Bool, ml.Data.LoadFromEnumerable(flags.Select(v => new KeyValueRow<bool>(v))));
            case int[] ints:
                return (Cast(graph.AddConstant("key_values", [.. ints.Select(v => (long)v)], k), OnnxElementType.Int32), OnnxElementType.Int32,
                    ml.Data.LoadFromEnumerable(ints.Select(v => new KeyValueRow<int>(v))));
            case uint[] uints:
                return (Cast(graph.AddConstant("key_values", [.. uints.Select(v => (long)v)], k), OnnxElementType.UInt32), OnnxElementType.UInt32,
                    ml.Data.LoadFromEnumerable(uints.Select(v => new KeyValueRow<uint>(v))));
            default:
                // Text key values, or a key without values: the class names ("1".."K").
                return (graph.AddConstant("key_values", _output.ClassNames, k), OnnxElementType.String,
                    ml.Data.LoadFromEnumerable(_output.ClassNames.Select(v => new KeyValueRow<string>(v))));
        }

        string Cast(string value, OnnxElementType to) => graph.AddNode("Cast", [value], OnnxAttribute.Int("to", (long)to));
    }

}

/// <summary>One key value, a row of <c>MapValueToKey</c>'s key data.</summary>
internal sealed class KeyValueRow<T>
{
    public KeyValueRow()
    {
        Value = default!;
    }

    public KeyValueRow(T value)
    {
        Value = value;
    }

    /// <summary>The value.</summary>
    public T Value { get; set; }
}
