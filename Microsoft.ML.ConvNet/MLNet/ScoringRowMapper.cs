using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// Scores one row at a time (what ML.NET's <c>PredictionEngine</c> uses): the row's image goes through the same ML.NET
/// transforms as in <see cref="ConvNetTransformer.Transform"/> and one forward pass of batch 1.
/// </summary>
internal sealed class ScoringRowMapper(IBatchScorer owner, DataViewSchema inputSchema, DataViewSchema outputSchema, ImagePreparer preparer) : IRowToRowMapper
{
    private IBatchScorer Owner => owner;

    private ImagePreparer Preparer => preparer;

    private int FirstAdded => outputSchema.Count - owner.AddedColumnCount;

    public DataViewSchema InputSchema => inputSchema;

    public DataViewSchema OutputSchema => outputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new HashSet<int>();
        foreach (var column in dependingColumns)
        {
            if (column.Index >= FirstAdded)
            {
                // The image and every column ahead of it: ML.NET's image loader reads its path column.
                foreach (var c in inputSchema)
                {
                    needed.Add(c.Index);
                }
            }
            else
            {
                needed.Add(inputSchema[column.Name].Index);
            }
        }
        return needed.Select(i => inputSchema[i]);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => new Row(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class Row : DataViewRow
    {
        private readonly ScoringRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly float[] _features;
        private readonly float[] _scores;
        private DataViewRow? _prepared;
        private Func<Span<float>, string?>? _read;
        private long _scoredPosition = -1;

        public Row(ScoringRowMapper mapper, DataViewRow input, HashSet<int> active)
        {
            _mapper = mapper;
            _input = input;
            _active = active;
            _features = new float[mapper.Owner.Input.Size];
            _scores = new float[mapper.Owner.ScoreWidth];
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        private ReadOnlySpan<float> Scored()
        {
            if (_scoredPosition != _input.Position || _input.Position < 0)
            {
                var owner = _mapper.Owner;
                if (_read == null)
                {
                    _prepared = _mapper.Preparer.GetRow(_input);
                    _read = owner.Input.CreateReader(_prepared);
                }
                string? problem;
                try
                {
                    problem = _read(_features);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    problem = $"the image in column '{owner.Input.ColumnName}' cannot be read ({ImageRowReader.Root(e).Message})";
                }
                if (problem != null)
                {
                    throw new InvalidDataException($"ConvNetTransformer: row {_input.Position}: {problem}.");
                }
                owner.Score(_features, 1, _scores);
                _scoredPosition = _input.Position;
            }
            return _scores;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int first = _mapper.FirstAdded;
            return column.Index < first
                ? _input.GetGetter<TValue>(_input.Schema[column.Name])
                : _mapper.Owner.Getter<TValue>(column.Index - first, Scored);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !ReferenceEquals(_prepared, _input))
            {
                _prepared?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
