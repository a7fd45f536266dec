namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A column computed by a <see cref="RowToRowTransformerBase"/>: its name, type, annotations, the input columns it
/// reads, and a factory that makes its getter from an input row.
/// </summary>
public sealed class OutputColumn
{
    private OutputColumn(string name, DataViewType type, IReadOnlyList<string> inputColumns, Func<DataViewRow, Delegate> makeGetter, DataViewSchema.Annotations? annotations)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(inputColumns);
        ArgumentNullException.ThrowIfNull(makeGetter);
        Name = name;
        Type = type;
        InputColumns = [.. inputColumns];
        MakeGetter = makeGetter;
        Annotations = annotations ?? DataViewSchema.Annotations.Empty;
    }

    /// <summary>The name of the column (an existing column of that name is replaced).</summary>
    public string Name { get; }

    /// <summary>The type of the column.</summary>
    public DataViewType Type { get; }

    /// <summary>The names of the input columns the getter reads.</summary>
    public IReadOnlyList<string> InputColumns { get; }

    /// <summary>The annotations of the column.</summary>
    public DataViewSchema.Annotations Annotations { get; }

    /// <summary>Makes the getter (a <c>ValueGetter</c> of the type's raw type) reading the given input row.</summary>
    internal Func<DataViewRow, Delegate> MakeGetter { get; }

    /// <summary>
    /// A column whose values, of .NET type <typeparamref name="TValue"/> (the raw type of <paramref name="type"/>),
    /// are computed by the getter <paramref name="makeGetter"/> makes for an input row; it reads <paramref name="inputColumns"/>.
    /// </summary>
    public static OutputColumn Create<TValue>(string name, DataViewType type, IReadOnlyList<string> inputColumns,
        Func<DataViewRow, ValueGetter<TValue>> makeGetter, DataViewSchema.Annotations? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!type.AcceptsValueType(typeof(TValue)))
        {
            throw new ArgumentException($"Output column '{name}' of type {type} needs values of {type.RawType.Name}, got {typeof(TValue).Name}.", nameof(type));
        }
        return new OutputColumn(name, type, inputColumns, makeGetter, annotations);
    }

    /// <summary>A column with a getter made without static typing (it must be a <c>ValueGetter</c> of the type's raw type).</summary>
    internal static OutputColumn CreateUntyped(string name, DataViewType type, IReadOnlyList<string> inputColumns,
        Func<DataViewRow, Delegate> makeGetter, DataViewSchema.Annotations? annotations = null) =>
        new(name, type, inputColumns, makeGetter, annotations);
}

/// <summary>
/// Base of transformers that add or replace columns row by row, lazily. A derived class overrides only
/// <see cref="GetOutputColumns"/>: it checks the input schema (throwing <see cref="SchemaMismatchException"/>) and
/// describes each output column with <see cref="OutputColumn.Create{TValue}"/>. For example, a transform that writes
/// the length of a text column:
/// <code>
/// protected override IEnumerable&lt;OutputColumn&gt; GetOutputColumns(DataViewSchema input)
/// {
///     var col = SchemaMismatchException.Require(input, "Text", "String", t =&gt; t is TextDataViewType);
///     yield return OutputColumn.Create&lt;int&gt;("Length", NumberDataViewType.Int32, [col.Name], row =&gt;
///     {
///         var text = row.GetGetter&lt;string&gt;(row.Schema[col.Index]);
///         string s = "";
///         return (ref int value) =&gt; { text(ref s); value = s.Length; };
///     });
/// }
/// </code>
/// The output schema is the input schema with those columns replaced in place (same name) or appended. The getter
/// factory runs once per cursor; the getter runs only when a consumer reads the value.
/// </summary>
public abstract class RowToRowTransformerBase : ITransformer
{
    /// <summary>Checks <paramref name="inputSchema"/> and describes the columns this transformer writes.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    protected abstract IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema);

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return Map(inputSchema).Schema;
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (schema, outputs) = Map(input.Schema);
        return new RowToRowDataView(input, schema, outputs);
    }

    private (DataViewSchema Schema, Dictionary<int, OutputColumn> Outputs) Map(DataViewSchema input)
    {
        var list = GetOutputColumns(input).ToList();
        var columns = input.Select(c => (c.Name, c.Type, c.Annotations)).ToList();
        var outputs = new Dictionary<int, OutputColumn>();
        foreach (var o in list)
        {
            foreach (string name in o.InputColumns)
            {
                if (input.GetColumnOrNull(name) == null)
                {
                    throw new InvalidOperationException($"Output column '{o.Name}' reads '{name}', which is not in the input schema: {input}.");
                }
            }
            int at = columns.FindIndex(c => c.Name == o.Name);
            if (outputs.ContainsKey(at))
            {
                throw new InvalidOperationException($"Column '{o.Name}' is written twice by {GetType().Name}.");
            }
            if (at < 0)
            {
                at = columns.Count;
                columns.Add((o.Name, o.Type, o.Annotations));
            }
            else
            {
                columns[at] = (o.Name, o.Type, o.Annotations);
            }
            outputs[at] = o;
        }
        return (DataViewSchema.Create(columns!), outputs);
    }

    /// <summary>The lazily transformed view.</summary>
    private sealed class RowToRowDataView(IDataView source, DataViewSchema schema, Dictionary<int, OutputColumn> outputs) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => source.CanShuffle;

        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            ArgumentNullException.ThrowIfNull(columnsNeeded);
            var active = columnsNeeded.Select(c => c.Index).ToHashSet();
            var needed = new HashSet<int>();
            foreach (int i in active)
            {
                if (outputs.TryGetValue(i, out var o))
                {
                    foreach (string n in o.InputColumns)
                    {
                        needed.Add(source.Schema[n].Index);
                    }
                }
                else if (i < source.Schema.Count)
                {
                    needed.Add(i);
                }
            }
            var inner = source.GetRowCursor(needed.Select(i => source.Schema[i]), rand);
            return new Cursor(inner, schema, outputs, active);
        }
    }

    private sealed class Cursor(DataViewRowCursor inner, DataViewSchema schema, Dictionary<int, OutputColumn> outputs, HashSet<int> active) : DataViewRowCursor
    {
        public override long Position => inner.Position;

        public override DataViewSchema Schema => schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext() => inner.MoveNext();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CheckGetter<TValue>(column);
            if (outputs.TryGetValue(column.Index, out var o))
            {
                return GetterUtils.Adapt<TValue>(o.MakeGetter(inner), column);
            }
            return inner.GetGetter<TValue>(inner.Schema[column.Index]);
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
