using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// A trained convolutional network classifier in an ML.NET pipeline, returned by <see cref="ConvNetTrainer.Fit"/>. It
/// owns the network (dispose it, or the model holding it, to release the weights). <see cref="Transform"/> is lazy: a
/// cursor reads the images of up to <see cref="ScoringBatch"/> rows ahead, scores them in one forward pass of the
/// library's engine and hands the rows out one by one; <c>CreatePredictionEngine</c> scores single rows.
/// <para>
/// Multiclass output: <c>Score</c> (Vector&lt;Single, K&gt;, softmax probabilities in key order) and
/// <c>PredictedLabel</c> (the label's key type with its key values; the most probable class, the lowest on ties).
/// Binary output: <c>Score</c> (Single, log p(true)/p(false)), <c>Probability</c> (p(true)) and <c>PredictedLabel</c>
/// (Boolean, Score &gt; 0).
/// </para>
/// <para>
/// <c>mlContext.Model.Save</c> stores this transformer as ML.NET's own components, because ML.NET lets no third-party
/// transformer write its state: ML.NET's image transforms (<c>ResizeImages</c>, <c>ExtractPixels</c>), the network
/// exported to ONNX inside an <c>OnnxTransformer</c> (which keeps the ONNX bytes in the zip), and <c>MapValueToKey</c>
/// for the predicted key. The saved model loads in any ML.NET app that references Microsoft.ML and
/// Microsoft.ML.OnnxTransformer, without this library, and scores within 1e-5 of this transformer.
/// </para>
/// </summary>
public sealed partial class ConvNetTransformer : ITransformer, IDisposable, IBatchScorer
{
    /// <summary>The most rows scored per forward pass (small images; see <see cref="ScoringBatch"/>).</summary>
    public const int BatchSize = 256;

    /// <summary>
    /// Rows per forward pass for inputs of <paramref name="inputSize"/> values: up to <see cref="BatchSize"/>, fewer for
    /// large images, whose activations would otherwise outgrow the caches (ResNet-18 at 224×224 runs fastest at 16–32).
    /// </summary>
    public static int ScoringBatch(int inputSize) => Math.Clamp((1 << 22) / Math.Max(1, inputSize), 16, BatchSize);

    private readonly Lock _lock = new();
    private readonly ConvNetTask _task;
    private readonly ImageInput _input;
    private readonly ConvNetOutput _output;
    private readonly MLContext _ml;
    private Module? _model;

    internal ConvNetTransformer(Module model, ConvNetTask task, ImageInput input, ConvNetOutput output, TrainingHistory? history, IReadOnlyList<string> skipped)
    {
        _model = model;
        _task = task;
        _input = input;
        _output = output;
        _ml = new MLContext(0);
        TrainingHistory = history;
        SkippedRows = skipped.Count;
        SkippedImages = skipped;
        model.Eval();
    }

    /// <summary>The image column read.</summary>
    public string FeatureColumnName => _input.ColumnName;

    /// <summary>The network input [C, H, W].</summary>
    public IReadOnlyList<int> InputShape => _input.Shape;

    /// <summary>Number of classes (2 for binary classification).</summary>
    public int ClassCount => _output.Classes;

    /// <summary>The class names in output order (the label's key values as text, or "1".."K"; "False", "True" for a Boolean label).</summary>
    public IReadOnlyList<string> ClassNames => _output.ClassNames;

    /// <summary>The per-epoch reports of training.</summary>
    public TrainingHistory? TrainingHistory { get; }

    /// <summary>Training and validation rows left out because their image could not be read.</summary>
    public int SkippedRows { get; }

    /// <summary>
    /// The rows of <see cref="SkippedRows"/>, one line each: the row, the text columns that locate it (its file path) and
    /// why its image could not be read (a missing, undecodable or truncated file).
    /// </summary>
    public IReadOnlyList<string> SkippedImages { get; }

    /// <summary>The network (in evaluation mode).</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public Module Model => _model ?? throw new ObjectDisposedException(nameof(ConvNetTransformer));

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var seen = ImageInput.Resolve(inputSchema, new ConvNetTrainer.Options
        {
            FeatureColumnName = _input.ColumnName,
            Channels = _input.Channels,
            ImageHeight = _input.Height,
            ImageWidth = _input.Width,
        });
        if (seen.Kind != _input.Kind)
        {
            throw ConvNetSchema.Mismatch("feature", _input.ColumnName, $"the column type the model was trained on ({_input.Kind})", inputSchema[_input.ColumnName].Type);
        }
        var builder = new DataViewSchema.Builder();
        var added = AddedColumns();
        builder.AddColumns(inputSchema.Where(c => !added.Any(a => a.Name == c.Name)));
        builder.AddColumns(added);
        return builder.ToSchema();
    }

    /// <summary>The columns this transformer adds, in order.</summary>
    private List<DataViewSchema.DetachedColumn> AddedColumns()
    {
        if (_task == ConvNetTask.Binary)
        {
            return
            [
                new(_output.ScoreColumnName, NumberDataViewType.Single),
                new(ConvNetOutput.ProbabilityColumnName, NumberDataViewType.Single),
                new(_output.PredictedLabelColumnName, BooleanDataViewType.Instance),
            ];
        }
        var slotNames = new DataViewSchema.Annotations.Builder();
        var names = _output.ClassNames.Select(n => n.AsMemory()).ToArray();
        slotNames.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, names.Length),
            (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(names.Length, names));
        return
        [
            new(_output.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, _output.Classes), slotNames.ToAnnotations()),
            new(_output.PredictedLabelColumnName, _output.LabelType, _output.LabelAnnotations),
        ];
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var schema = GetOutputSchema(input.Schema);
        ObjectDisposedException.ThrowIf(_model == null, this);
        return new ScoredDataView(this, input, _input.Preparer(_ml, input.Schema).Transform(input), schema);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        var schema = GetOutputSchema(inputSchema);
        return new ScoringRowMapper(this, inputSchema, schema, _input.Preparer(_ml, inputSchema));
    }

    /// <summary>Values <see cref="Score"/> writes per row: K probabilities, or the binary score and probability.</summary>
    internal int ScoreWidth => _task == ConvNetTask.Binary ? 2 : _output.Classes;

    ImageInput IBatchScorer.Input => _input;

    int IBatchScorer.ScoreWidth => ScoreWidth;

    void IBatchScorer.Score(float[] features, int count, float[] scores) => Score(features, count, scores);

    internal ImageInput Input => _input;

    int IBatchScorer.AddedColumnCount => _task == ConvNetTask.Binary ? 3 : 2;

    ValueGetter<TValue> IBatchScorer.Getter<TValue>(int added, ScoresOfRow scores) => ScoreGetters.Create<TValue>(_task, added, scores);

    internal ConvNetOutput Output => _output;

    internal ConvNetTask Task => _task;

    /// <summary>
    /// Scores <paramref name="count"/> samples of <paramref name="features"/> ([count, C, H, W] row-major) into
    /// <paramref name="scores"/> ([count, <see cref="ScoreWidth"/>]): softmax probabilities, or for binary
    /// classification the score logit(true) − logit(false) and its sigmoid.
    /// </summary>
    internal void Score(float[] features, int count, float[] scores)
    {
        int k = _output.Classes;
        float[] logits;
        lock (_lock)
        {
            var model = Model;
            if (model.IsTraining)
            {
                model.Eval();
            }
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            var x = Tensor.FromArray(features.AsSpan(0, count * _input.Size), new Shape(count, _input.Channels, _input.Height, _input.Width), model.Device);
            var y = model.Forward(x);
            if (y.Rank != 2 || y.Shape[0] != count || y.Shape[1] != k)
            {
                throw new InvalidOperationException($"ConvNetTransformer: the network returned {y.Shape}, expected [{count}, {k}].");
            }
            logits = y.ToArray();
        }
        for (int i = 0; i < count; i++)
        {
            if (_task == ConvNetTask.Binary)
            {
                float score = logits[2 * i + 1] - logits[2 * i];
                scores[2 * i] = score;
                scores[2 * i + 1] = 1f / (1f + MathF.Exp(-score));
            }
            else
            {
                Softmax(logits.AsSpan(i * k, k), scores.AsSpan(i * k, k));
            }
        }
    }

    private static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = MathF.Max(max, v);
        }
        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }
        for (int j = 0; j < logits.Length; j++)
        {
            probabilities[j] = (float)(Math.Exp(logits[j] - max) / sum);
        }
    }

    /// <summary>Releases the network.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _model?.Dispose();
            _model = null;
        }
    }
}
