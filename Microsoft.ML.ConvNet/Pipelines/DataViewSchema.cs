using System.Collections;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// The columns of a data view: each with a name, an index and a <see cref="DataViewType"/>, plus annotations (such
/// as the names of key values). As in ML.NET, a schema is immutable and built with <see cref="Builder"/>. Unlike
/// ML.NET, a schema has no hidden columns: a transform that writes a column of an existing name replaces it in place.
/// </summary>
public sealed class DataViewSchema : IReadOnlyList<DataViewSchema.Column>
{
    private readonly Column[] _columns;
    private readonly Dictionary<string, int> _byName;

    private DataViewSchema(Column[] columns)
    {
        _columns = columns;
        _byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Length; i++)
        {
            if (!_byName.TryAdd(columns[i].Name, i))
            {
                throw new ArgumentException($"A schema cannot hold two columns named '{columns[i].Name}'.", nameof(columns));
            }
        }
    }

    /// <summary>The number of columns.</summary>
    public int Count => _columns.Length;

    /// <summary>The column at <paramref name="columnIndex"/>.</summary>
    public Column this[int columnIndex] => (uint)columnIndex < (uint)_columns.Length
        ? _columns[columnIndex]
        : throw new ArgumentOutOfRangeException(nameof(columnIndex), $"Column index {columnIndex} is outside [0, {_columns.Length}).");

    /// <summary>The column named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such column (the message lists the columns).</exception>
    public Column this[string name] => GetColumnOrNull(name)
        ?? throw new ArgumentOutOfRangeException(nameof(name), $"Column '{name}' not found; the schema has {Describe()}.");

    /// <summary>The column named <paramref name="name"/>, or null.</summary>
    public Column? GetColumnOrNull(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out int i) ? _columns[i] : null;
    }

    /// <inheritdoc/>
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)_columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The columns as "Name: Type" pairs.</summary>
    public override string ToString() => Describe();

    private string Describe() => _columns.Length == 0 ? "no columns" : string.Join(", ", _columns.Select(c => $"{c.Name}: {c.Type}"));

    /// <summary>A schema of the given columns, in order (indices are reassigned).</summary>
    public static DataViewSchema Create(IEnumerable<(string Name, DataViewType Type, Annotations? Annotations)> columns)
    {
        var b = new Builder();
        foreach (var (name, type, annotations) in columns)
        {
            b.AddColumn(name, type, annotations);
        }
        return b.ToSchema();
    }

    /// <summary>A column of a schema.</summary>
    public readonly struct Column : IEquatable<Column>
    {
        internal Column(string name, int index, DataViewType type, Annotations annotations)
        {
            Name = name;
            Index = index;
            Type = type;
            Annotations = annotations;
        }

        /// <summary>The name of the column.</summary>
        public string Name { get; }

        /// <summary>The index of the column in its schema.</summary>
        public int Index { get; }

        /// <summary>The type of the column's values.</summary>
        public DataViewType Type { get; }

        /// <summary>The column's annotations (for example <see cref="AnnotationUtils.Kinds.KeyValues"/>).</summary>
        public Annotations Annotations { get; }

        /// <inheritdoc/>
        public bool Equals(Column other) => Name == other.Name && Index == other.Index && Equals(Type, other.Type);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is Column c && Equals(c);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Name, Index, Type);

        /// <summary>Whether two columns are the same.</summary>
        public static bool operator ==(Column left, Column right) => left.Equals(right);

        /// <summary>Whether two columns differ.</summary>
        public static bool operator !=(Column left, Column right) => !left.Equals(right);

        /// <summary>"Name: Type".</summary>
        public override string ToString() => $"{Name}: {Type}";
    }

    /// <summary>
    /// Named values attached to a column (ML.NET: annotations, formerly metadata), such as the names of the categories
    /// of a key column under <see cref="AnnotationUtils.Kinds.KeyValues"/>. Each annotation has a type and a value.
    /// </summary>
    public sealed class Annotations
    {
        private readonly Dictionary<string, (DataViewType Type, object Value)> _values;

        private Annotations(Dictionary<string, (DataViewType, object)> values) => _values = values;

        /// <summary>No annotations.</summary>
        public static Annotations Empty { get; } = new(new Dictionary<string, (DataViewType, object)>(StringComparer.Ordinal));

        /// <summary>The names of the annotations present.</summary>
        public IEnumerable<string> Names => _values.Keys;

        /// <summary>The type of the annotation <paramref name="kind"/>, or null when absent.</summary>
        public DataViewType? GetAnnotationType(string kind) => _values.TryGetValue(kind, out var v) ? v.Type : null;

        /// <summary>Reads the annotation <paramref name="kind"/> into <paramref name="value"/> (arrays are copied).</summary>
        /// <exception cref="InvalidOperationException">The annotation is absent, or its values are not <typeparamref name="TValue"/>.</exception>
        public void GetValue<TValue>(string kind, ref TValue value)
        {
            if (!_values.TryGetValue(kind, out var v))
            {
                throw new InvalidOperationException($"No annotation '{kind}'; present: {(_values.Count == 0 ? "none" : string.Join(", ", _values.Keys))}.");
            }
            if (v.Value is not TValue typed)
            {
                throw new InvalidOperationException(
                    $"Annotation '{kind}' has type {v.Type} whose values are {v.Type.RawType.Name}, not {typeof(TValue).Name}.");
            }
            value = typed is Array a ? (TValue)a.Clone() : typed;
        }

        /// <summary>Annotations equal to these plus the ones of <paramref name="builder"/> (which win on equal names).</summary>
        internal Annotations With(Builder builder)
        {
            var d = new Dictionary<string, (DataViewType, object)>(_values, StringComparer.Ordinal);
            foreach (var kv in builder.Values)
            {
                d[kv.Key] = kv.Value;
            }
            return new Annotations(d);
        }

        /// <summary>Builds a set of annotations.</summary>
        public sealed class Builder
        {
            internal Dictionary<string, (DataViewType, object)> Values { get; } = new(StringComparer.Ordinal);

            /// <summary>Adds the annotation <paramref name="kind"/> of <paramref name="type"/> with <paramref name="value"/>.</summary>
            /// <exception cref="ArgumentException">The value's .NET type is not the raw type of <paramref name="type"/>.</exception>
            public void Add<TValue>(string kind, DataViewType type, TValue value)
            {
                ArgumentNullException.ThrowIfNull(kind);
                ArgumentNullException.ThrowIfNull(type);
                ArgumentNullException.ThrowIfNull(value);
                if (!type.AcceptsValueType(typeof(TValue)))
                {
                    throw new ArgumentException($"Annotation '{kind}' of type {type} needs values of {type.RawType.Name}, got {typeof(TValue).Name}.", nameof(value));
                }
                Values[kind] = (type, value is Array a ? a.Clone() : value);
            }

            /// <summary>Adds the key-value names of a key column (<see cref="AnnotationUtils.Kinds.KeyValues"/>) as text.</summary>
            public void AddKeyValues(IReadOnlyList<string> names)
            {
                ArgumentNullException.ThrowIfNull(names);
                Add(AnnotationUtils.Kinds.KeyValues, new VectorDataViewType(TextDataViewType.Instance, names.Count), names.ToArray());
            }

            /// <summary>The annotations built.</summary>
            public Annotations ToAnnotations() => Empty.With(this);
        }
    }

    /// <summary>Builds a schema column by column.</summary>
    public sealed class Builder
    {
        private readonly List<(string Name, DataViewType Type, Annotations Annotations)> _columns = [];

        /// <summary>Appends a column.</summary>
        public void AddColumn(string name, DataViewType type, Annotations? annotations = null)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(type);
            _columns.Add((name, type, annotations ?? Annotations.Empty));
        }

        /// <summary>Appends copies of <paramref name="columns"/> (names, types, annotations).</summary>
        public void AddColumns(IEnumerable<Column> columns)
        {
            ArgumentNullException.ThrowIfNull(columns);
            foreach (var c in columns)
            {
                AddColumn(c.Name, c.Type, c.Annotations);
            }
        }

        /// <summary>The schema built.</summary>
        /// <exception cref="ArgumentException">Two columns have the same name.</exception>
        public DataViewSchema ToSchema() =>
            new(_columns.Select((c, i) => new Column(c.Name, i, c.Type, c.Annotations)).ToArray());
    }
}

/// <summary>Names of well-known annotations and helpers to read them, as in ML.NET.</summary>
public static class AnnotationUtils
{
    /// <summary>Annotation names.</summary>
    public static class Kinds
    {
        /// <summary>The names (values) of the categories of a key column: a vector as long as the key's count.</summary>
        public const string KeyValues = "KeyValues";
    }

    /// <summary>Whether <paramref name="column"/> is a key column carrying the names of its values.</summary>
    public static bool HasKeyValues(this DataViewSchema.Column column) =>
        column.Type is KeyDataViewType && column.Annotations.GetAnnotationType(Kinds.KeyValues) is VectorDataViewType;

    /// <summary>Reads the values of the categories of key column <paramref name="column"/> (key k has value <c>values[k - 1]</c>).</summary>
    public static void GetKeyValues<TValue>(this DataViewSchema.Column column, ref TValue[] values) =>
        column.Annotations.GetValue(Kinds.KeyValues, ref values);
}

/// <summary>
/// A column is missing or has the wrong type for an operation. Derives from <see cref="ArgumentOutOfRangeException"/>,
/// the exception ML.NET throws in this case, with ML.NET's wording:
/// "Schema mismatch for input column 'Label': expected Text or numeric, got Vector&lt;Single, 3&gt;".
/// </summary>
public sealed class SchemaMismatchException : ArgumentOutOfRangeException
{
    /// <summary>Creates the exception for column <paramref name="columnName"/>, which should be <paramref name="expected"/> but is <paramref name="actual"/> (null: missing).</summary>
    public SchemaMismatchException(string columnName, string expected, DataViewType? actual, string columnRole = "input")
        : base("inputSchema", actual == null
            ? $"Could not find {columnRole} column '{columnName}' (expected {expected})"
            : $"Schema mismatch for {columnRole} column '{columnName}': expected {expected}, got {actual}")
    {
        ColumnName = columnName;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The name of the offending column.</summary>
    public string ColumnName { get; }

    /// <summary>What the operation needs, in words ("Text or numeric").</summary>
    public string Expected { get; }

    /// <summary>The column's type, or null when the column is missing.</summary>
    public DataViewType? Actual { get; }

    /// <summary>The message without the parameter name that <see cref="ArgumentException"/> appends.</summary>
    public override string Message => base.Message.Split(" (Parameter '", 2)[0];

    /// <summary>The column <paramref name="name"/> of <paramref name="schema"/> when <paramref name="accept"/> holds for its type; otherwise throws with <paramref name="expected"/>.</summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, string expected, Func<DataViewType, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(accept);
        var col = schema.GetColumnOrNull(name) ?? throw new SchemaMismatchException(name, expected, null);
        return accept(col.Type) ? col : throw new SchemaMismatchException(name, expected, col.Type);
    }
}
