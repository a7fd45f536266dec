namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>A lazy view of the rows of a source whose position (0-based, in the source's order) passes a filter; reading stops after the last possible row.</summary>
internal sealed class RowFilterDataView(IDataView source, Func<long, bool> keep, long? count, long endPosition = long.MaxValue) : IDataView
{
    public DataViewSchema Schema => source.Schema;

    public bool CanShuffle => false;

    public long? GetRowCount() => count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(source.GetRowCursor(columnsNeeded), keep, endPosition);

    private sealed class Cursor(DataViewRowCursor inner, Func<long, bool> keep, long end) : DataViewRowCursor
    {
        private long _position = -1;
        private long _sourcePosition = -1;
        private bool _done;

        public override long Position => _position;

        public override DataViewSchema Schema => inner.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

        public override bool MoveNext()
        {
            while (!_done && _sourcePosition + 1 < end && inner.MoveNext())
            {
                _sourcePosition++;
                if (keep(_sourcePosition))
                {
                    _position++;
                    return true;
                }
            }
            _done = true;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
