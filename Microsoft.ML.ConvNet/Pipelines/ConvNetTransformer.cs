using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A trained convolutional network classifier in a pipeline (returned by <see cref="ConvNetTrainer.Fit"/> or loaded
/// with <c>Model.Load</c>). It owns the network (dispose it, or the chain holding it, to release the weights).
/// <see cref="Transform"/> is lazy: a cursor of the result reads the features of up to <see cref="BatchSize"/> rows
/// ahead, scores them in one forward pass (evaluation mode, no gradients) and hands out the rows one by one. It adds
/// <c>Score</c> (Vector&lt;Single, K&gt;: softmax probabilities in class order) and <c>PredictedLabel</c> (a key of K
/// categories with the training label's key values; the most probable class, the lowest index on ties). Columns of
/// those names in the input are replaced. The result cannot shuffle (scoring follows the source's row order).
/// Forward passes of one transformer are serialised with a lock, so it can be shared by threads.
/// </summary>
public sealed partial class ConvNetTransformer : ITransformer, IDisposable
{
    /// <summary>The name of the column of class probabilities.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>The name of the column of predicted keys.</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>Rows scored per forward pass.</summary>
    public const int BatchSize = 256;

    private readonly Lock _lock = new();
    private readonly PrimitiveDataViewType? _keyValueType;
    private readonly Array? _keyValues;
    private Module? _model;

    internal ConvNetTransformer(Module model, string featureColumnName, int[] inputShape, int classCount,
        PrimitiveDataViewType? keyValueType, Array? keyValues, ModelArchitecture? architecture, TrainingHistory? history)
    {
        _model = model;
        FeatureColumnName = featureColumnName;
        InputShape = [.. inputShape];
        ClassCount = classCount;
        _keyValueType = keyValueType;
        _keyValues = keyValues;
        Architecture = architecture;
        TrainingHistory = history;
        model.Eval();
    }

    /// <summary>The features column read (a vector of Single of shape <see cref="InputShape"/>).</summary>
    public string FeatureColumnName { get; }

    /// <summary>The shape [C, H, W] of one input.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Number of classes K.</summary>
    public int ClassCount { get; }

    /// <summary>The zoo architecture and its options, or null when the network came from a custom factory (then the model cannot be saved).</summary>
    public ModelArchitecture? Architecture { get; }

    /// <summary>The per-epoch reports of training (null for a loaded model).</summary>
    public TrainingHistory? TrainingHistory { get; }

    /// <summary>The network (in evaluation mode).</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public Module Model => _model ?? throw new ObjectDisposedException(nameof(ConvNetTransformer));

    /// <summary>The class names in output order (the label's key values as text, or "1".."K").</summary>
    public IReadOnlyList<string> ClassNames => _keyValues != null
        ? _keyValues.Cast<object>().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray()
        : Enumerable.Range(1, ClassCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <summary>The schema with <c>Score</c> and <c>PredictedLabel</c> replaced or appended.</summary>
    internal static DataViewSchema OutputSchema(DataViewSchema input, int classes, PrimitiveDataViewType? keyValueType, Array? keyValues)
    {
        var keyAnnotations = keyValueType != null && keyValues != null ? SchemaJson.KeyValueAnnotations(keyValueType, keyValues) : null;
        var cols = input.Select(c => (c.Name, c.Type, (DataViewSchema.Annotations?)c.Annotations)).ToList();
        void Put(string name, DataViewType type, DataViewSchema.Annotations? annotations)
        {
            int at = cols.FindIndex(c => c.Name == name);
            if (at >= 0)
            {
                cols[at] = (name, type, annotations);
            }
            else
            {
                cols.Add((name, type, annotations));
            }
        }
        Put(ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes), null);
        Put(PredictedLabelColumnName, new KeyDataViewType((ulong)classes), keyAnnotations);
        return DataViewSchema.Create(cols);
    }

    /// <inheritdoc/>
    /// <exception cref="SchemaMismatchException">The features column is missing or not a Vector&lt;Single&gt; of shape <see cref="InputShape"/>.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var expected = new VectorDataViewType(NumberDataViewType.Single, [.. InputShape]);
        SchemaMismatchException.Require(inputSchema, FeatureColumnName, expected.ToString(), t => t.Equals(expected));
        return OutputSchema(inputSchema, ClassCount, _keyValueType, _keyValues);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_model == null, this);
        return new ScoringDataView(this, input, GetOutputSchema(input.Schema));
    }

    /// <summary>Scores <paramref name="count"/> samples of <paramref name="features"/> ([count, C, H, W] row-major) into <paramref name="probabilities"/> ([count, K]).</summary>
    internal void Score(float[] features, int count, float[] probabilities)
    {
        int k = ClassCount;
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
            var x = Tensor.FromArray(features.AsSpan(0, count * InputShape[0] * InputShape[1] * InputShape[2]),
                new Shape(count, InputShape[0], InputShape[1], InputShape[2]), model.Device);
            var y = model.Forward(x);
            if (y.Rank != 2 || y.Shape[0] != count || y.Shape[1] != k)
            {
                throw new InvalidOperationException($"ConvNetTransformer: the network returned {y.Shape}, expected [{count}, {k}].");
            }
            logits = y.ToArray();
        }
        for (int i = 0; i < count; i++)
        {
            var row = logits.AsSpan(i * k, k);
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = MathF.Max(max, v);
            }
            double sum = 0;
            foreach (float v in row)
            {
                sum += Math.Exp(v - max);
            }
            for (int j = 0; j < k; j++)
            {
                probabilities[i * k + j] = (float)(Math.Exp(row[j] - max) / sum);
            }
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

    /// <summary>The lazily scored view.</summary>
    private sealed class ScoringDataView(ConvNetTransformer owner, IDataView source, DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => false;

        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            ArgumentNullException.ThrowIfNull(columnsNeeded);
            var active = columnsNeeded.Select(c => c.Index).ToHashSet();
            int scoreIndex = schema[ScoreColumnName].Index;
            int predIndex = schema[PredictedLabelColumnName].Index;
            var passthrough = active.Where(i => i != scoreIndex && i != predIndex).Select(i => source.Schema[schema[i].Name]).ToList();
            bool scoring = active.Contains(scoreIndex) || active.Contains(predIndex);
            var main = source.GetRowCursor(passthrough);
            DataViewRowCursor? ahead = null;
            try
            {
                if (scoring)
                {
                    ahead = source.GetRowCursor([source.Schema[owner.FeatureColumnName]]);
                }
                // Batches never exceed the rows there are: a one-row source (a prediction engine) gets one-sample buffers.
                int capacity = source.GetRowCount() is long n ? (int)Math.Clamp(n, 1, BatchSize) : BatchSize;
                return new Cursor(owner, schema, main, ahead, active, scoreIndex, predIndex, capacity);
            }
            catch
            {
                main.Dispose();
                throw;
            }
        }
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ConvNetTransformer _owner;
        private readonly DataViewSchema _schema;
        private readonly DataViewRowCursor _main;
        private readonly DataViewRowCursor? _ahead;
        private readonly ValueGetter<float[]>? _features;
        private readonly HashSet<int> _active;
        private readonly int _scoreIndex;
        private readonly int _predIndex;
        private readonly int _capacity;
        private readonly float[] _batchFeatures;
        private readonly float[] _batchScores;
        private float[] _sample;
        private long _position = -1;
        private long _batchStart;
        private int _batchCount;

        public Cursor(ConvNetTransformer owner, DataViewSchema schema, DataViewRowCursor main, DataViewRowCursor? ahead, HashSet<int> active, int scoreIndex, int predIndex, int capacity)
        {
            _owner = owner;
            _schema = schema;
            _main = main;
            _ahead = ahead;
            _active = active;
            _scoreIndex = scoreIndex;
            _predIndex = predIndex;
            _capacity = capacity;
            int size = owner.InputShape[0] * owner.InputShape[1] * owner.InputShape[2];
            _sample = new float[size];
            _batchFeatures = ahead == null ? [] : new float[capacity * size];
            _batchScores = ahead == null ? [] : new float[capacity * owner.ClassCount];
            _features = ahead?.GetGetter<float[]>(ahead.Schema[owner.FeatureColumnName]);
        }

        public override long Position => _position;

        public override DataViewSchema Schema => _schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (!_main.MoveNext())
            {
                return false;
            }
            _position++;
            return true;
        }

        /// <summary>Scores batches until the current row's is ready; returns the row's offset in the batch.</summary>
        private int EnsureScored()
        {
            if (_position < 0)
            {
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            }
            while (_position >= _batchStart + _batchCount)
            {
                _batchStart += _batchCount;
                int size = _sample.Length;
                int n = 0;
                while (n < _capacity && _ahead!.MoveNext())
                {
                    _features!(ref _sample);
                    if (_sample.Length != size)
                    {
                        throw new InvalidOperationException($"ConvNetTransformer: column '{_owner.FeatureColumnName}' gave {_sample.Length} values, expected {size}.");
                    }
                    _sample.CopyTo(_batchFeatures, n * size);
                    n++;
                }
                if (n == 0)
                {
                    throw new InvalidOperationException("ConvNetTransformer: the source gave fewer rows to the scoring cursor than to the row cursor; its row order must be repeatable.");
                }
                _batchCount = n;
                _owner.Score(_batchFeatures, n, _batchScores);
            }
            return (int)(_position - _batchStart);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CheckGetter<TValue>(column);
            int k = _owner.ClassCount;
            if (column.Index == _scoreIndex)
            {
                ValueGetter<float[]> g = (ref float[] value) =>
                {
                    int at = EnsureScored();
                    if (value == null || value.Length != k)
                    {
                        value = new float[k];
                    }
                    _batchScores.AsSpan(at * k, k).CopyTo(value);
                };
                return (ValueGetter<TValue>)(Delegate)g;
            }
            if (column.Index == _predIndex)
            {
                ValueGetter<uint> g = (ref uint value) =>
                {
                    int at = EnsureScored();
                    var row = _batchScores.AsSpan(at * k, k);
                    int best = 0;
                    for (int j = 1; j < k; j++)
                    {
                        if (row[j] > row[best])
                        {
                            best = j;
                        }
                    }
                    value = (uint)best + 1;
                };
                return (ValueGetter<TValue>)(Delegate)g;
            }
            return _main.GetGetter<TValue>(_main.Schema[column.Name]);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _main.Dispose();
                _ahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
