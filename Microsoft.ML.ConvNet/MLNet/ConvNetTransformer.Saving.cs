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
    /// ends in the softmax) in an <c>OnnxTransformer</c>; and, because <c>OnnxTransformer</c> gives only vector columns,
    /// ML.NET's own classifier scorer for the scalar predicted label: a maximum-entropy (or logistic) model trained on
    /// the K one-hot vectors, applied to the network's one-hot arg-max, so that <c>PredictedLabel</c> is ML.NET's own key
    /// with the label's values (Boolean for binary classification). The chain scores through ONNX Runtime.
    /// </summary>
    /// <exception cref="NotSupportedException">The model reads raw image bytes, which no ML.NET transform decodes, or the network has an op ONNX export lacks.</exception>
    public TransformerChain<ITransformer> ToMLNetTransformer()
    {
        var ml = _ml;
        bool pixelsGiven = _input.Kind == ImageColumnKind.Pixels;
        string pixels = pixelsGiven ? _input.ColumnName : _input.ColumnName + ".ConvNetPixels";
        var preprocessing = _input.SavedPreprocessing(ml, pixels);
        const string Score = "ConvNet.Score", Probability = "ConvNet.Probability", OneHot = "ConvNet.OneHot";
        int k = _output.Classes;

        OnnxGraph graph;
        lock (_lock)
        {
            graph = OnnxGraph.Trace(Model, pixels, [1, _input.Channels, _input.Height, _input.Width], dynamicBatch: false);
        }
        string logits = graph.AddNode("Reshape", [graph.TracedOutput, graph.AddConstant("logits_shape", new long[] { k }, 1)]);
        string[] outputs;
        if (_task == ConvNetTask.Binary)
        {
            string Logit(int index) => graph.AddNode("Gather", [logits, graph.AddConstant("class_" + index, new long[] { index }, 1)], OnnxAttribute.Int("axis", 0));
            string score = graph.AddNode("Sub", [Logit(1), Logit(0)]);
            graph.AddOutput(score, Score, OnnxElementType.Float, 1);
            graph.AddOutput(graph.AddNode("Sigmoid", [score]), Probability, OnnxElementType.Float, 1);
            outputs = [Score, Probability, OneHot];
        }
        else
        {
            graph.AddOutput(graph.AddNode("Softmax", [logits], OnnxAttribute.Int("axis", 0)), Score, OnnxElementType.Float, k);
            outputs = [Score, OneHot];
        }
        string best = graph.AddNode("ArgMax", [logits], OnnxAttribute.Int("axis", 0), OnnxAttribute.Int("keepdims", 1));
        string isBest = graph.AddNode("Equal", [graph.AddConstant("classes", [.. Enumerable.Range(0, k).Select(i => (long)i)], k), best]);
        graph.AddOutput(graph.AddNode("Cast", [isBest], OnnxAttribute.Int("to", (long)OnnxElementType.Float)), OneHot, OnnxElementType.Float, k);

        IEstimator<ITransformer> chain = ml.Transforms.ApplyOnnxModel(outputs, [pixels], new MemoryStream(graph.ToArray()));
        if (preprocessing != null)
        {
            chain = preprocessing.Append(chain);
        }
        var prefix = chain.Fit(new EmptyDataView(TrainingSchema));
        var transformers = new List<ITransformer>(prefix as IEnumerable<ITransformer> ?? [prefix]) { LabelScorer(ml, OneHot) };

        var copies = new List<InputOutputColumnPair> { new(_output.ScoreColumnName, Score) };
        if (_task == ConvNetTask.Binary)
        {
            copies.Add(new(ConvNetOutput.ProbabilityColumnName, Probability));
        }
        if (_output.PredictedLabelColumnName != "PredictedLabel")
        {
            copies.Add(new(_output.PredictedLabelColumnName, "PredictedLabel"));
        }
        var internalColumns = new List<string>(outputs);
        if (!pixelsGiven)
        {
            internalColumns.AddRange([pixels, _input.ImageColumnName]);
        }
        var schema = transformers[^1].GetOutputSchema(prefix.GetOutputSchema(TrainingSchema));
        var suffix = copies.Select(c => (IEstimator<ITransformer>)ml.Transforms.CopyColumns(c.OutputColumnName, c.InputColumnName))
            .Aggregate((a, b) => a.Append(b)).Append(ml.Transforms.DropColumns([.. internalColumns])).Fit(new EmptyDataView(schema));
        transformers.AddRange(suffix);
        return new TransformerChain<ITransformer>([.. transformers]);
    }

    /// <summary>
    /// ML.NET's own classifier scorer that turns the network's one-hot arg-max (column <paramref name="oneHot"/>) into a
    /// scalar predicted label: a model trained on the K one-hot vectors with their classes, which it separates exactly.
    /// </summary>
    private ITransformer LabelScorer(MLContext ml, string oneHot)
    {
        int k = _output.Classes;
        var rows = Enumerable.Range(0, k).Select(i =>
        {
            var x = new float[k];
            x[i] = 1;
            return new OneHotRow { OneHot = x, Name = _output.ClassNames[i], Flag = i == 1 };
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(OneHotRow));
        definition[nameof(OneHotRow.OneHot)].ColumnName = oneHot;
        definition[oneHot].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        var data = ml.Data.LoadFromEnumerable(rows, definition);
        if (_task == ConvNetTask.Binary)
        {
            return ml.BinaryClassification.Trainers.LbfgsLogisticRegression(nameof(OneHotRow.Flag), oneHot, l1Regularization: 0, l2Regularization: 0).Fit(data);
        }
        var keyData = ml.Data.LoadFromEnumerable(_output.ClassNames.Select(n => new KeyValueRow<string>(n)));
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(OneHotRow.Name), keyData: keyData)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", oneHot, l1Regularization: 0, l2Regularization: 0))
            .Fit(data).LastTransformer;
    }
}

/// <summary>One class's one-hot vector, the training rows of the predicted-label scorer.</summary>
internal sealed class OneHotRow
{
    /// <summary>The one-hot vector.</summary>
    public float[] OneHot { get; set; } = [];

    /// <summary>The class name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The class as a Boolean (binary classification).</summary>
    public bool Flag { get; set; }
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
