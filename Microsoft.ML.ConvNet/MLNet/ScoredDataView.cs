using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// The lazily scored view of <see cref="ConvNetTransformer.Transform"/> and <see cref="ConvNetFeaturizer.Transform"/>: the input's columns, then the added score and
/// predicted-label columns. A cursor that needs them reads the images of up to <see cref="ConvNetTransformer.ScoringBatch"/>
/// rows ahead with a second cursor over the same rows, runs them through the network in one forward pass, and hands the rows out one by one.
/// </summary>
internal sealed class ScoredDataView(IBatchScorer owner, IDataView input, IDataView prepared, DataViewSchema schema) : IDataView
{
    private IBatchScorer Owner => owner;

    private IDataView Input => input;

    public DataViewSchema Schema => schema;

    public bool CanShuffle => false;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = columnsNeeded.Select(c => c.Index).ToHashSet();
        int firstAdded = schema.Count - owner.AddedColumnCount;
        var passthrough = active.Where(i => i < firstAdded).Select(i => input.Schema[schema[i].Name]).ToList();
        var main = input.GetRowCursor(passthrough);
        DataViewRowCursor? ahead = null;
        try
        {
            if (active.Any(i => i >= firstAdded))
            {
                ahead = prepared.GetRowCursor([prepared.Schema[owner.Input.ReadColumnName]]);
            }
            // Batches never exceed the rows there are: a one-row source gets one-sample buffers.
            int batch = ConvNetTransformer.ScoringBatch(owner.Input.Size);
            int capacity = input.GetRowCount() is long count ? (int)Math.Clamp(count, 1, batch) : batch;
            return new Cursor(this, main, ahead, active, firstAdded, capacity);
        }
        catch
        {
            main.Dispose();
            throw;
        }
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ScoredDataView _view;
        private readonly DataViewRowCursor _main;
        private readonly DataViewRowCursor? _ahead;
        private readonly Func<Span<float>, string?>? _read;
        private readonly HashSet<int> _active;
        private readonly int _firstAdded;
        private readonly int _capacity;
        private readonly float[] _features;
        private readonly float[] _scores;
        private long _batchStart;
        private int _batchCount;

        public Cursor(ScoredDataView view, DataViewRowCursor main, DataViewRowCursor? ahead, HashSet<int> active, int firstAdded, int capacity)
        {
            _view = view;
            _main = main;
            _ahead = ahead;
            _active = active;
            _firstAdded = firstAdded;
            _capacity = capacity;
            var owner = view.Owner;
            _features = ahead == null ? [] : new float[capacity * owner.Input.Size];
            _scores = ahead == null ? [] : new float[capacity * owner.ScoreWidth];
            _read = ahead == null ? null : owner.Input.CreateReader(ahead);
        }

        public override long Position => _main.Position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext() => _main.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        /// <summary>Scores batches until the current row's is ready; returns the row's scores.</summary>
        private ReadOnlySpan<float> Scored()
        {
            long position = _main.Position;
            if (position < 0)
            {
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            }
            var owner = _view.Owner;
            int size = owner.Input.Size;
            while (position >= _batchStart + _batchCount)
            {
                _batchStart += _batchCount;
                int n = 0;
                while (n < _capacity && _ahead!.MoveNext())
                {
                    string? problem;
                    try
                    {
                        problem = _read!(_features.AsSpan(n * size, size));
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        problem = $"the image in column '{owner.Input.ColumnName}' cannot be read ({ImageRowReader.Root(e).Message})";
                    }
                    if (problem != null)
                    {
                        long row = _batchStart + n;
                        throw new InvalidDataException($"ConvNetTransformer: row {row}{ImageRowReader.Locate(_view.Input, row)}: {problem}.");
                    }
                    n++;
                }
                if (n == 0)
                {
                    throw new InvalidOperationException("ConvNetTransformer: the source gave fewer rows to the scoring cursor than to the row cursor; its row order must be repeatable.");
                }
                _batchCount = n;
                owner.Score(_features, n, _scores);
            }
            int width = owner.ScoreWidth;
            return _scores.AsSpan((int)(position - _batchStart) * width, width);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _firstAdded)
            {
                return _main.GetGetter<TValue>(_main.Schema[column.Name]);
            }
            return _view.Owner.Getter<TValue>(column.Index - _firstAdded, Scored);
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

/// <summary>The current row's values as <see cref="IBatchScorer.Score"/> wrote them.</summary>
internal delegate ReadOnlySpan<float> ScoresOfRow();

/// <summary>
/// A network that adds columns computed in batches from an image column (<see cref="ConvNetTransformer"/>'s scores,
/// <see cref="ConvNetFeaturizer"/>'s features); <see cref="ScoredDataView"/> and <see cref="ScoringRowMapper"/> run it.
/// </summary>
internal interface IBatchScorer
{
    /// <summary>The image column and the network input made from it.</summary>
    ImageInput Input { get; }

    /// <summary>Values <see cref="Score"/> writes per row.</summary>
    int ScoreWidth { get; }

    /// <summary>The columns added after the input's.</summary>
    int AddedColumnCount { get; }

    /// <summary>Runs the network on <paramref name="count"/> samples of <paramref name="features"/> into <paramref name="scores"/> ([count, <see cref="ScoreWidth"/>]).</summary>
    void Score(float[] features, int count, float[] scores);

    /// <summary>The getter of added column <paramref name="added"/> from the current row's scores.</summary>
    ValueGetter<TValue> Getter<TValue>(int added, ScoresOfRow scores);
}

/// <summary>Getters of the added columns from a row's scores.</summary>
internal static class ScoreGetters
{
    /// <summary>The getter of added column <paramref name="added"/> (0 = Score, then PredictedLabel, or Probability and PredictedLabel for binary).</summary>
    public static ValueGetter<TValue> Create<TValue>(ConvNetTask task, int added, ScoresOfRow scores)
    {
        Delegate getter = (task, added) switch
        {
            (ConvNetTask.Multiclass, 0) => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                var row = scores();
                var editor = VBufferEditor.Create(ref value, row.Length);
                row.CopyTo(editor.Values);
                value = editor.Commit();
            }),
            (ConvNetTask.Multiclass, _) => (ValueGetter<uint>)((ref uint value) =>
            {
                var row = scores();
                int best = 0;
                for (int j = 1; j < row.Length; j++)
                {
                    if (row[j] > row[best])
                    {
                        best = j;
                    }
                }
                value = (uint)best + 1;
            }),
            (ConvNetTask.Binary, 0) => (ValueGetter<float>)((ref float value) => value = scores()[0]),
            (ConvNetTask.Binary, 1) => (ValueGetter<float>)((ref float value) => value = scores()[1]),
            _ => (ValueGetter<bool>)((ref bool value) => value = scores()[0] > 0),
        };
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected '{getter.GetType().GetGenericArguments()[0]}'.");
    }
}
