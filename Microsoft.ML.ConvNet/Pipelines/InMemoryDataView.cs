using System.Reflection;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A data view whose columns are held in arrays, one value per row: <c>string[]</c> for text, <c>float[]</c> for
/// Single, <c>uint[]</c> for keys, <c>float[][]</c> for vectors of Single, an array of any reference type for images.
/// The loaders return it; it can shuffle. Getters copy vector values (into the caller's array when its length fits),
/// so the stored arrays are never handed out.
/// </summary>
public sealed class InMemoryDataView : IDataView
{
    private static readonly MethodInfo MakeGetterMethod = typeof(InMemoryDataView).GetMethod(nameof(MakeGetter), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Array[] _columns;
    private readonly int[]? _rows;
    private readonly int _count;

    /// <summary>Creates a view of <paramref name="schema"/> over <paramref name="columns"/> (not copied; do not change them afterwards).</summary>
    /// <exception cref="ArgumentException">The number of arrays differs from the number of columns, an array's element type does not match its column's type, the arrays differ in length, or a vector of known size has another length.</exception>
    public InMemoryDataView(DataViewSchema schema, IReadOnlyList<Array> columns)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count != schema.Count)
        {
            throw new ArgumentException($"The schema has {schema.Count} columns but {columns.Count} arrays were given.", nameof(columns));
        }
        int count = schema.Count == 0 ? 0 : columns[0].Length;
        for (int c = 0; c < columns.Count; c++)
        {
            var col = schema[c];
            var arr = columns[c] ?? throw new ArgumentNullException(nameof(columns), $"No array for column '{col.Name}'.");
            var elem = arr.GetType().GetElementType()!;
            if (arr.Rank != 1 || !col.Type.AcceptsValueType(elem))
            {
                throw new ArgumentException($"Column '{col.Name}' of type {col.Type} needs a {col.Type.RawType.Name}[] array, got {arr.GetType().Name}.", nameof(columns));
            }
            if (arr.Length != count)
            {
                throw new ArgumentException($"Column '{col.Name}' has {arr.Length} rows but column '{schema[0].Name}' has {count}.", nameof(columns));
            }
            if (col.Type is VectorDataViewType { IsKnownSize: true } vt)
            {
                for (int r = 0; r < count; r++)
                {
                    if (arr.GetValue(r) is not Array v || v.Length != vt.Size)
                    {
                        throw new ArgumentException(
                            $"Row {r} of column '{col.Name}' ({vt}) holds {(arr.GetValue(r) is Array a ? a.Length + " items" : "no vector")}, expected {vt.Size}.", nameof(columns));
                    }
                }
            }
        }
        Schema = schema;
        _columns = [.. columns];
        _count = count;
    }

    private InMemoryDataView(InMemoryDataView source, int[] rows)
    {
        Schema = source.Schema;
        _columns = source._columns;
        _rows = source._rows == null ? rows : rows.Select(r => source._rows[r]).ToArray();
        _count = rows.Length;
    }

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public bool CanShuffle => true;

    /// <inheritdoc/>
    public long? GetRowCount() => _count;

    /// <summary>A view of the rows at <paramref name="rows"/> (indices into this view, in that order; repeats allowed), sharing the arrays.</summary>
    public InMemoryDataView SelectRows(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (int r in rows)
        {
            if ((uint)r >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"Row {r} is outside [0, {_count}).");
            }
        }
        return new InMemoryDataView(this, [.. rows]);
    }

    /// <summary>
    /// Reads every row of <paramref name="data"/> into memory (all columns, or <paramref name="columns"/>): the result
    /// of a chain of lazy transforms, computed once. An <see cref="InMemoryDataView"/> with all columns is returned as is.
    /// </summary>
    public static InMemoryDataView Materialize(IDataView data, IEnumerable<string>? columns = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var cols = columns == null ? data.Schema.ToList() : columns.Select(n => data.Schema[n]).ToList();
        if (data is InMemoryDataView mem && columns == null)
        {
            return mem;
        }
        var lists = cols.Select(c => (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(ElementTypeFor(c.Type)))!).ToArray();
        using (var cursor = data.GetRowCursor(cols))
        {
            var getters = cols.Select(c => GetterUtils.GetGetterUntyped(cursor, c)).ToArray();
            var readers = cols.Select((c, i) => MakeReader(c.Type.RawType, getters[i], lists[i])).ToArray();
            while (cursor.MoveNext())
            {
                foreach (var read in readers)
                {
                    read();
                }
            }
        }
        var b = new DataViewSchema.Builder();
        b.AddColumns(cols);
        var arrays = lists.Select((l, i) =>
        {
            var a = Array.CreateInstance(ElementTypeFor(cols[i].Type), l.Count);
            l.CopyTo(a, 0);
            return a;
        }).ToArray();
        return new InMemoryDataView(b.ToSchema(), arrays);
    }

    private static Type ElementTypeFor(DataViewType type) => type.RawType;

    private static Action MakeReader(Type rawType, Delegate getter, System.Collections.IList list) =>
        (Action)typeof(InMemoryDataView).GetMethod(nameof(Reader), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(rawType).Invoke(null, [getter, list])!;

    private static Action Reader<T>(ValueGetter<T> getter, List<T> list) => () =>
    {
        T value = default!;
        getter(ref value);
        list.Add(value);
    };

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        int[]? order = null;
        if (rand != null)
        {
            order = Enumerable.Range(0, _count).ToArray();
            rand.Shuffle(order);
        }
        return new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet(), order);
    }

    private static ValueGetter<T> MakeGetter<T>(T[] values, Func<int> row) =>
        (ref T value) => GetterUtils.CopyValue(values[row()], ref value);

    private sealed class Cursor(InMemoryDataView view, HashSet<int> active, int[]? order) : DataViewRowCursor
    {
        private long _position = -1;
        private int _row = -1;

        public override long Position => _position;

        public override DataViewSchema Schema => view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (_position + 1 >= view._count)
            {
                _position = view._count;
                return false;
            }
            _position++;
            int r = order == null ? (int)_position : order[_position];
            _row = view._rows == null ? r : view._rows[r];
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CheckGetter<TValue>(column);
            var arr = view._columns[column.Index];
            var getter = (Delegate)MakeGetterMethod.MakeGenericMethod(arr.GetType().GetElementType()!).Invoke(null, [arr, new Func<int>(RowIndex)])!;
            return GetterUtils.Adapt<TValue>(getter, column);
        }

        private int RowIndex() => _row >= 0 && _position < view._count
            ? _row
            : throw new InvalidOperationException("The cursor is not on a row: call MoveNext first, and read only while it returns true.");
    }
}
