using System.Reflection;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>A pair of output and input column names, as ML.NET's <c>InputOutputColumnPair</c>.</summary>
/// <param name="OutputColumnName">The column written.</param>
/// <param name="InputColumnName">The column read (null: same as the output).</param>
public sealed record InputOutputColumnPair(string OutputColumnName, string? InputColumnName = null)
{
    /// <summary>The column read.</summary>
    public string Input => InputColumnName ?? OutputColumnName;
}

/// <summary>How <see cref="ValueToKeyMappingEstimator"/> numbers the values it finds, as in ML.NET.</summary>
public enum KeyOrdinality
{
    /// <summary>Keys 1..N in the order the values first appear (ML.NET's default).</summary>
    ByOccurrence,

    /// <summary>Keys 1..N in the sorted order of the values (ordinal for text).</summary>
    ByValue,
}

/// <summary>
/// Learns the distinct values of scalar text, numeric or Boolean columns and maps them to keys 1..N (ML.NET's
/// <c>ValueToKeyMappingEstimator</c>, <c>MapValueToKey</c>). The key column carries the values as its
/// <see cref="AnnotationUtils.Kinds.KeyValues"/> annotation; missing values (NaN) map to key 0.
/// </summary>
public sealed class ValueToKeyMappingEstimator : IEstimator<ValueToKeyMappingTransformer>
{
    internal const string Expected = "Text, numeric or Boolean scalar";
    private readonly InputOutputColumnPair[] _columns;
    private readonly int _maximumNumberOfKeys;
    private readonly KeyOrdinality _ordinality;

    /// <summary>Creates the estimator for <paramref name="columns"/>.</summary>
    public ValueToKeyMappingEstimator(IReadOnlyList<InputOutputColumnPair> columns, int maximumNumberOfKeys = 1_000_000, KeyOrdinality keyOrdinality = KeyOrdinality.ByOccurrence)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maximumNumberOfKeys);
        _columns = [.. columns];
        _maximumNumberOfKeys = maximumNumberOfKeys;
        _ordinality = keyOrdinality;
    }

    internal static bool IsMappable(DataViewType t) => t is TextDataViewType or NumberDataViewType or BooleanDataViewType;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var cols = inputSchema.Select(c => (c.Name, c.Type, (DataViewSchema.Annotations?)c.Annotations)).ToList();
        foreach (var p in _columns)
        {
            SchemaMismatchException.Require(inputSchema, p.Input, Expected, IsMappable);
            cols.RemoveAll(c => c.Name == p.OutputColumnName);
            cols.Add((p.OutputColumnName, new KeyDataViewType(0), null));
        }
        // Replaced columns keep their place, as the transformer's schema does.
        var order = inputSchema.Select(c => c.Name).Concat(_columns.Select(p => p.OutputColumnName)).Distinct().ToList();
        return DataViewSchema.Create(order.Select(n => cols.First(c => c.Name == n)));
    }

    /// <inheritdoc/>
    public ValueToKeyMappingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        var inputCols = _columns.Select(p => input.Schema[p.Input]).Distinct().ToList();
        var learners = inputCols.Select(c => (Learner)Activator.CreateInstance(typeof(Learner<>).MakeGenericType(c.Type.RawType), _maximumNumberOfKeys)!).ToList();
        using (var cursor = input.GetRowCursor(inputCols))
        {
            var readers = inputCols.Select((c, i) => learners[i].Reader(cursor, c)).ToList();
            while (cursor.MoveNext())
            {
                foreach (var r in readers)
                {
                    r();
                }
            }
        }
        var maps = _columns.Select(p =>
        {
            var l = learners[inputCols.FindIndex(c => c.Name == p.Input)];
            return new ValueToKeyMappingTransformer.Mapping(p.OutputColumnName, p.Input, input.Schema[p.Input].Type, l.Values(_ordinality));
        }).ToList();
        return new ValueToKeyMappingTransformer(maps);
    }

    private abstract class Learner
    {
        public abstract Action Reader(DataViewRow row, DataViewSchema.Column column);

        public abstract Array Values(KeyOrdinality ordinality);
    }

    private sealed class Learner<T>(int max) : Learner
        where T : notnull
    {
        private readonly List<T> _values = [];
        private readonly HashSet<T> _seen = [];

        public override Action Reader(DataViewRow row, DataViewSchema.Column column)
        {
            var getter = row.GetGetter<T>(column);
            return () =>
            {
                T v = default!;
                getter(ref v);
                if (v is null || (v is float f && float.IsNaN(f)) || (v is double d && double.IsNaN(d)) || _values.Count >= max)
                {
                    return;
                }
                if (_seen.Add(v))
                {
                    _values.Add(v);
                }
            };
        }

        public override Array Values(KeyOrdinality ordinality)
        {
            var a = _values.ToArray();
            if (ordinality == KeyOrdinality.ByValue)
            {
                if (a is string[] s)
                {
                    Array.Sort(s, StringComparer.Ordinal);
                }
                else
                {
                    Array.Sort(a);
                }
            }
            return a;
        }
    }
}

/// <summary>Maps values to the keys learnt by <see cref="ValueToKeyMappingEstimator"/>; values not seen when fitting map to key 0 (missing), as in ML.NET.</summary>
public sealed partial class ValueToKeyMappingTransformer : RowToRowTransformerBase
{
    private static readonly MethodInfo MakeColumnMethod = typeof(ValueToKeyMappingTransformer).GetMethod(nameof(MakeColumn), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly Mapping[] _mappings;

    internal ValueToKeyMappingTransformer(IReadOnlyList<Mapping> mappings) => _mappings = [.. mappings];

    /// <summary>The values of the keys of output column <paramref name="outputColumnName"/>: key k is <c>values[k - 1]</c>.</summary>
    public Array GetKeyValues(string outputColumnName) =>
        (Array)(_mappings.FirstOrDefault(m => m.Output == outputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(outputColumnName), $"No output column '{outputColumnName}'.")).Values.Clone();

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        foreach (var m in _mappings)
        {
            var col = SchemaMismatchException.Require(inputSchema, m.Input, $"{m.InputType}", t => t.Equals(m.InputType));
            yield return (OutputColumn)MakeColumnMethod.MakeGenericMethod(m.InputType.RawType).Invoke(null, [m, col])!;
        }
    }

    private static OutputColumn MakeColumn<T>(Mapping m, DataViewSchema.Column input)
        where T : notnull
    {
        var values = (T[])m.Values;
        var map = new Dictionary<T, uint>(values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            map[values[i]] = (uint)(i + 1);
        }
        var ab = new DataViewSchema.Annotations.Builder();
        ab.Add(AnnotationUtils.Kinds.KeyValues, new VectorDataViewType((PrimitiveDataViewType)m.InputType, values.Length), values);
        return OutputColumn.Create<uint>(m.Output, new KeyDataViewType((ulong)Math.Max(values.Length, 1)), [input.Name], row =>
        {
            var getter = row.GetGetter<T>(row.Schema[input.Index]);
            T v = default!;
            return (ref uint key) =>
            {
                getter(ref v);
                key = v is not null && map.TryGetValue(v, out uint k) ? k : 0;
            };
        }, ab.ToAnnotations());
    }

    internal sealed record Mapping(string Output, string Input, DataViewType InputType, Array Values);
}

/// <summary>
/// Maps keys back to their values using the key column's <see cref="AnnotationUtils.Kinds.KeyValues"/> (ML.NET's
/// <c>KeyToValueMappingEstimator</c>, <c>MapKeyToValue</c>); key 0 (missing) maps to the default value (empty text, NaN).
/// </summary>
public sealed partial class KeyToValueMappingTransformer : RowToRowTransformerBase
{
    private static readonly MethodInfo MakeColumnMethod = typeof(KeyToValueMappingTransformer).GetMethod(nameof(MakeColumn), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly InputOutputColumnPair[] _columns;

    /// <summary>Creates the transformer for <paramref name="columns"/>.</summary>
    public KeyToValueMappingTransformer(IReadOnlyList<InputOutputColumnPair> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _columns = [.. columns];
    }

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        foreach (var p in _columns)
        {
            var col = SchemaMismatchException.Require(inputSchema, p.Input, "Key", t => t is KeyDataViewType);
            if (col.Annotations.GetAnnotationType(AnnotationUtils.Kinds.KeyValues) is not VectorDataViewType vt)
            {
                if (((KeyDataViewType)col.Type).Count == 0)
                {
                    // An estimator's output schema: the values are known only after fitting.
                    yield return OutputColumn.CreateUntyped(p.OutputColumnName, TextDataViewType.Instance, [col.Name], _ => throw new InvalidOperationException("Not fitted."));
                    continue;
                }
                throw new SchemaMismatchException(p.Input, "Key with key values (KeyValues annotation)", col.Type);
            }
            yield return (OutputColumn)MakeColumnMethod.MakeGenericMethod(vt.ItemType.RawType).Invoke(null, [p.OutputColumnName, col, vt.ItemType])!;
        }
    }

    private static OutputColumn MakeColumn<T>(string output, DataViewSchema.Column input, PrimitiveDataViewType itemType)
    {
        T[] values = [];
        input.GetKeyValues(ref values);
        T missing = typeof(T) == typeof(string) ? (T)(object)string.Empty
            : typeof(T) == typeof(float) ? (T)(object)float.NaN
            : typeof(T) == typeof(double) ? (T)(object)double.NaN : default!;
        return OutputColumn.Create<T>(output, itemType, [input.Name], row =>
        {
            var getter = row.GetGetter<uint>(row.Schema[input.Index]);
            uint key = 0;
            return (ref T value) =>
            {
                getter(ref key);
                value = key >= 1 && key <= values.Length ? values[key - 1] : missing;
            };
        });
    }
}

/// <summary>The estimator of <see cref="KeyToValueMappingTransformer"/> (nothing to learn).</summary>
public sealed class KeyToValueMappingEstimator : TrivialEstimator<KeyToValueMappingTransformer>
{
    /// <summary>Creates the estimator for <paramref name="columns"/>.</summary>
    public KeyToValueMappingEstimator(IReadOnlyList<InputOutputColumnPair> columns) : base(new KeyToValueMappingTransformer(columns))
    {
    }
}

/// <summary>Copies columns under new names (ML.NET's <c>ColumnCopyingTransformer</c>); values and annotations are shared.</summary>
public sealed partial class ColumnCopyingTransformer : RowToRowTransformerBase
{
    private readonly InputOutputColumnPair[] _columns;

    /// <summary>Creates the transformer for <paramref name="columns"/>.</summary>
    public ColumnCopyingTransformer(IReadOnlyList<InputOutputColumnPair> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _columns = [.. columns];
    }

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        foreach (var p in _columns)
        {
            var col = SchemaMismatchException.Require(inputSchema, p.Input, "any type", _ => true);
            yield return OutputColumn.CreateUntyped(p.OutputColumnName, col.Type, [col.Name],
                row => GetterUtils.GetGetterUntyped(row, row.Schema[col.Index]), col.Annotations);
        }
    }
}

/// <summary>The estimator of <see cref="ColumnCopyingTransformer"/> (nothing to learn).</summary>
public sealed class ColumnCopyingEstimator : TrivialEstimator<ColumnCopyingTransformer>
{
    /// <summary>Creates the estimator for <paramref name="columns"/>.</summary>
    public ColumnCopyingEstimator(IReadOnlyList<InputOutputColumnPair> columns) : base(new ColumnCopyingTransformer(columns))
    {
    }
}

/// <summary>
/// Concatenates numeric scalars and vectors of one item type into a vector (ML.NET's <c>ColumnConcatenatingTransformer</c>).
/// The output has one dimension, the sum of the input sizes; all inputs must have a known size.
/// </summary>
public sealed partial class ColumnConcatenatingTransformer : RowToRowTransformerBase
{
    private static readonly MethodInfo MakeColumnMethod = typeof(ColumnConcatenatingTransformer).GetMethod(nameof(MakeColumn), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly string _output;
    private readonly string[] _inputs;

    /// <summary>Creates the transformer writing <paramref name="outputColumnName"/> from <paramref name="inputColumnNames"/>.</summary>
    public ColumnConcatenatingTransformer(string outputColumnName, params string[] inputColumnNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentNullException.ThrowIfNull(inputColumnNames);
        if (inputColumnNames.Length == 0)
        {
            throw new ArgumentException($"Concatenate into '{outputColumnName}' needs at least one input column.", nameof(inputColumnNames));
        }
        _output = outputColumnName;
        _inputs = [.. inputColumnNames];
    }

    private static PrimitiveDataViewType? ItemOf(DataViewType t) => t switch
    {
        NumberDataViewType n => n,
        VectorDataViewType { ItemType: NumberDataViewType n, IsKnownSize: true } => n,
        _ => null,
    };

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        var first = SchemaMismatchException.Require(inputSchema, _inputs[0], "numeric scalar or vector of known size", t => ItemOf(t) != null);
        var item = ItemOf(first.Type)!;
        var cols = _inputs.Select(n => SchemaMismatchException.Require(inputSchema, n, $"{item} or Vector<{item}> of known size",
            t => Equals(ItemOf(t), item))).ToArray();
        yield return (OutputColumn)MakeColumnMethod.MakeGenericMethod(item.RawType).Invoke(null, [_output, item, cols])!;
    }

    private static OutputColumn MakeColumn<T>(string output, PrimitiveDataViewType item, DataViewSchema.Column[] inputs)
    {
        int[] sizes = inputs.Select(c => c.Type is VectorDataViewType v ? v.Size : 1).ToArray();
        int total = sizes.Sum();
        return OutputColumn.Create<T[]>(output, new VectorDataViewType(item, total), inputs.Select(c => c.Name).ToArray(), row =>
        {
            var parts = inputs.Select<DataViewSchema.Column, Func<T[], int, int>>((c, i) =>
            {
                if (c.Type is VectorDataViewType)
                {
                    var g = row.GetGetter<T[]>(row.Schema[c.Index]);
                    T[] buffer = new T[sizes[i]];
                    return (dst, at) =>
                    {
                        g(ref buffer);
                        if (buffer.Length != sizes[i])
                        {
                            throw new InvalidOperationException($"Column '{c.Name}' ({c.Type}) gave a vector of {buffer.Length} items.");
                        }
                        buffer.CopyTo(dst, at);
                        return at + buffer.Length;
                    };
                }
                var s = row.GetGetter<T>(row.Schema[c.Index]);
                T v = default!;
                return (dst, at) =>
                {
                    s(ref v);
                    dst[at] = v;
                    return at + 1;
                };
            }).ToArray();
            return (ref T[] value) =>
            {
                if (value == null || value.Length != total)
                {
                    value = new T[total];
                }
                int at = 0;
                foreach (var part in parts)
                {
                    at = part(value, at);
                }
            };
        });
    }
}

/// <summary>The estimator of <see cref="ColumnConcatenatingTransformer"/> (nothing to learn).</summary>
public sealed class ColumnConcatenatingEstimator : TrivialEstimator<ColumnConcatenatingTransformer>
{
    /// <summary>Creates the estimator writing <paramref name="outputColumnName"/> from <paramref name="inputColumnNames"/>.</summary>
    public ColumnConcatenatingEstimator(string outputColumnName, params string[] inputColumnNames)
        : base(new ColumnConcatenatingTransformer(outputColumnName, inputColumnNames))
    {
    }
}
