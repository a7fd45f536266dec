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
    /// <c>ConvertToGrayscale</c>) and <c>ExtractPixels</c>; the network exported to ONNX (a row scorer of batch 1) in an
    /// <c>OnnxTransformer</c>; and, because <c>OnnxTransformer</c> gives only vector columns, ML.NET's own classifier
    /// scorer for the scalar columns:
    /// <list type="bullet">
    /// <item>multiclass: the network's softmax is <c>Score</c>; <c>PredictedLabel</c> (the label's key with its values) is
    /// what a maximum-entropy model trained on the K one-hot vectors predicts for the network's one-hot arg-max, which
    /// it separates exactly;</item>
    /// <item>binary: a logistic regression (SDCA) of one feature, weight w and bias b, whose feature the network writes as
    /// (score − b) / w, so that ML.NET's scorer gives back <c>Score</c>, <c>Probability</c> = sigmoid(Score) and
    /// <c>PredictedLabel</c> = Score &gt; 0.</item>
    /// </list>
    /// The chain scores through ONNX Runtime and loads without this library.
    /// </summary>
    /// <exception cref="NotSupportedException">The model reads raw image bytes, which no ML.NET transform decodes, or the network has an op ONNX export lacks.</exception>
    public TransformerChain<ITransformer> ToMLNetTransformer()
    {
        var ml = _ml;
        const string Score = "ConvNet.Score", Features = "ConvNet.Features";
        int k = _output.Classes;
        var form = SavedForm.Trace(_input, Model, _lock, k);
        var graph = form.Graph;
        string logits = form.Output;
        ITransformer scorer;
        string[] outputs;
        if (_task == ConvNetTask.Binary)
        {
            var (logistic, weight, bias) = BinaryScorer(ml, Features);
            string Logit(int index) => graph.AddNode("Gather", [logits, graph.AddConstant("class_" + index, new long[] { index }, 1)], OnnxAttribute.Int("axis", 0));
            string score = graph.AddNode("Sub", [Logit(1), Logit(0)]);
            string feature = graph.AddNode("Div", [graph.AddNode("Sub", [score, graph.AddConstant("bias", [bias])]), graph.AddConstant("weight", [weight])]);
            graph.AddOutput(feature, Features, OnnxElementType.Float, 1);
            scorer = logistic;
            outputs = [Features];
        }
        else
        {
            graph.AddOutput(graph.AddNode("Softmax", [logits], OnnxAttribute.Int("axis", 0)), Score, OnnxElementType.Float, k);
            string best = graph.AddNode("ArgMax", [logits], OnnxAttribute.Int("axis", 0), OnnxAttribute.Int("keepdims", 1));
            string isBest = graph.AddNode("Equal", [graph.AddConstant("classes", [.. Enumerable.Range(0, k).Select(i => (long)i)], k), best]);
            graph.AddOutput(graph.AddNode("Cast", [isBest], OnnxAttribute.Int("to", (long)OnnxElementType.Float)), Features, OnnxElementType.Float, k);
            scorer = MulticlassScorer(ml, Features);
            outputs = [Score, Features];
        }
        var transformers = form.Fit(ml, TrainingSchema, outputs);
        transformers.Add(scorer);

        // ML.NET's scorers write Score (multiclass: replaced by the network's softmax) and PredictedLabel.
        var copies = new List<(string Output, string Input)>();
        if (_task == ConvNetTask.Multiclass || _output.ScoreColumnName != "Score")
        {
            copies.Add((_output.ScoreColumnName, _task == ConvNetTask.Multiclass ? Score : "Score"));
        }
        if (_output.PredictedLabelColumnName != "PredictedLabel")
        {
            copies.Add((_output.PredictedLabelColumnName, "PredictedLabel"));
        }
        IEstimator<ITransformer> suffix = ml.Transforms.DropColumns([.. outputs, .. form.PreprocessingColumns]);
        foreach (var (output, input) in Enumerable.Reverse(copies))
        {
            suffix = ml.Transforms.CopyColumns(output, input).Append(suffix);
        }
        return SavedForm.Chain(transformers, TrainingSchema, suffix);
    }

    /// <summary>
    /// ML.NET's own multiclass scorer for the predicted label: a maximum-entropy model trained on the K one-hot vectors
    /// (column <paramref name="features"/>) with their classes, which it separates exactly.
    /// </summary>
    private ITransformer MulticlassScorer(MLContext ml, string features)
    {
        int k = _output.Classes;
        var rows = Enumerable.Range(0, k).Select(i =>
        {
            var x = new float[k];
            x[i] = 1;
            return new ScorerRow { Features = x, Name = _output.ClassNames[i] };
        });
        var keyData = ml.Data.LoadFromEnumerable(_output.ClassNames.Select(n => new KeyValueRow<string>(n)));
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(ScorerRow.Name), keyData: keyData)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", features, l1Regularization: 0, l2Regularization: 0))
            .Fit(ScorerRows(ml, rows, features, k)).LastTransformer;
    }

    /// <summary>
    /// ML.NET's own binary scorer: a logistic regression of one feature (column <paramref name="features"/>), with its
    /// weight and bias. SDCA, because ML.NET's L-BFGS returns a zero weight on so few rows.
    /// </summary>
    private static (ITransformer Scorer, float Weight, float Bias) BinaryScorer(MLContext ml, string features)
    {
        // Overlapping classes (two of three rows on each side agree with the sign), so the weight is finite and positive.
        var rows = new[] { -1f, -1f, -1f, 1f, 1f, 1f }.Select((x, i) => new ScorerRow { Features = [x], Flag = x > 0 ? i != 5 : i == 2 });
        var logistic = ml.BinaryClassification.Trainers.SdcaLogisticRegression(nameof(ScorerRow.Flag), features).Fit(ScorerRows(ml, rows, features, 1));
        var linear = logistic.Model.SubModel;
        return (logistic, linear.Weights[0], linear.Bias);
    }

    private static IDataView ScorerRows(MLContext ml, IEnumerable<ScorerRow> rows, string features, int size)
    {
        var definition = SchemaDefinition.Create(typeof(ScorerRow));
        definition[nameof(ScorerRow.Features)].ColumnName = features;
        definition[features].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }
}

/// <summary>A training row of the scorers in the saved form.</summary>
internal sealed class ScorerRow
{
    /// <summary>The features: a one-hot vector, or the binary feature.</summary>
    public float[] Features { get; set; } = [];

    /// <summary>The class name (multiclass).</summary>
    public string Name { get; set; } = "";

    /// <summary>The class (binary).</summary>
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
