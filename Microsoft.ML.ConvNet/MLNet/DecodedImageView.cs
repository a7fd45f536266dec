using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// <paramref name="source"/> with one more column, <paramref name="imageColumn"/>: the <see cref="MLImage"/> decoded
/// (by ML.NET's SkiaSharp decoder) from the raw bytes of <paramref name="bytesColumn"/>. An empty buffer gives a null
/// image; undecodable or truncated bytes throw when the value is read.
/// </summary>
internal sealed class DecodedImageView(IDataView source, string bytesColumn, string imageColumn) : IDataView
{
    private readonly DataViewSchema _schema = Extend(source.Schema, imageColumn);

    /// <summary>The source schema and the decoded image column last.</summary>
    public static DataViewSchema Extend(DataViewSchema schema, string name)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(schema);
        builder.AddColumn(name, new ImageDataViewType());
        return builder.ToSchema();
    }

    public DataViewSchema Schema => _schema;

    public bool CanShuffle => source.CanShuffle;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var cursor = source.GetRowCursor(columnsNeeded.Select(c => c.Index == _schema.Count - 1 ? source.Schema[bytesColumn] : source.Schema[c.Index]).Distinct(), rand);
        return new Cursor(new Row(_schema, cursor, bytesColumn), cursor);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>A row of the source with the decoded image as its last column.</summary>
    internal sealed class Row(DataViewSchema schema, DataViewRow input, string bytesColumn) : DataViewRow
    {
        private MLImage? _last;

        public override DataViewSchema Schema => schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
            => input.IsColumnActive(input.Schema[column.Index == schema.Count - 1 ? input.Schema[bytesColumn].Index : column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != schema.Count - 1)
            {
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            }
            var bytes = input.GetGetter<VBuffer<byte>>(input.Schema[bytesColumn]);
            VBuffer<byte> buffer = default;
            ValueGetter<MLImage?> getter = (ref MLImage? value) =>
            {
                bytes(ref buffer);
                _last?.Dispose();
                _last = null;
                if (buffer.Length > 0)
                {
                    // SkiaSharp's decoder behind MLImage accepts a truncated image and fills the rest with grey: check first.
                    var bytes = buffer.GetValues().ToArray();
                    IO.ImageFile.CheckBytes(bytes, "the image bytes");
                    _last = MLImage.CreateFromStream(new MemoryStream(bytes, writable: false));
                }
                value = _last;
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _last?.Dispose();
                _last = null;
            }
            base.Dispose(disposing);
        }
    }

    private sealed class Cursor(Row row, DataViewRowCursor input) : DataViewRowCursor
    {
        public override DataViewSchema Schema => row.Schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool MoveNext() => input.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => row.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                row.Dispose();
                input.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
