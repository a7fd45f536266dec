using System.Collections.Concurrent;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// Scores single examples with a fitted model (ML.NET's <c>PredictionEngine</c>). The transformed view is built once,
/// over a one-row source that holds the current example (public members of <typeparamref name="TSrc"/> become columns,
/// as in <c>LoadFromEnumerable</c>); <see cref="Predict(TSrc)"/> puts the example there, reads the one output row
/// through a cursor of that view and fills a <typeparamref name="TDst"/> (as in <c>CreateEnumerable</c>). A
/// <see cref="ConvNetTransformer"/> scores the row as a batch of one. Not thread-safe, as in ML.NET: use one engine per
/// thread or a <see cref="PredictionEnginePool{TSrc, TDst}"/>. The engine does not own the model.
/// </summary>
/// <typeparam name="TSrc">The input class (vector members need <see cref="VectorTypeAttribute"/> with the model's shape).</typeparam>
/// <typeparam name="TDst">The output class; each public writable member must match an output column (e.g. <c>uint PredictedLabel</c>, <c>float[] Score</c>).</typeparam>
public sealed class PredictionEngine<TSrc, TDst>
    where TSrc : class
    where TDst : class, new()
{
    private readonly SingleRowDataView<TSrc> _input;
    private readonly IDataView _scored;
    private readonly DataViewSchema.Column[] _columns;
    private readonly Func<DataViewRow, Action<object>>[] _setterFactories;

    internal PredictionEngine(ConvNetContext context, ITransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(transformer);
        // Checks now, before any example, that the input type fits the model and the output type fits its output.
        _input = new SingleRowDataView<TSrc>();
        OutputSchema = transformer.GetOutputSchema(_input.Schema);
        _scored = transformer.Transform(_input);
        var bound = DataOperationsCatalog.Bind<TDst>(_scored.Schema, ignoreMissingColumns: false);
        _columns = [.. bound.Select(b => b.Column)];
        _setterFactories = [.. bound.Select(b => DataOperationsCatalog.SetterFactory(b.Member, b.Column))];
    }

    /// <summary>The schema of the model's output for <typeparamref name="TSrc"/> rows.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Scores <paramref name="example"/> into a new <typeparamref name="TDst"/>.</summary>
    /// <exception cref="ArgumentException">A vector member's length differs from its declared shape.</exception>
    public TDst Predict(TSrc example)
    {
        TDst prediction = new();
        Predict(example, ref prediction);
        return prediction;
    }

    /// <summary>Scores <paramref name="example"/> into <paramref name="prediction"/> (reused; a new object when null), as ML.NET's overload.</summary>
    /// <exception cref="ArgumentException">A vector member's length differs from its declared shape.</exception>
    public void Predict(TSrc example, ref TDst prediction)
    {
        ArgumentNullException.ThrowIfNull(example);
        prediction ??= new TDst();
        _input.Current = example;
        try
        {
            using var cursor = _scored.GetRowCursor(_columns);
            if (!cursor.MoveNext())
            {
                throw new InvalidOperationException("PredictionEngine: the model produced no row for the example.");
            }
            foreach (var make in _setterFactories)
            {
                make(cursor)(prediction);
            }
        }
        finally
        {
            _input.Current = null;
        }
    }
}

/// <summary>
/// A data view of one row, the current example of a <see cref="PredictionEngine{TSrc, TDst}"/>: one column per public
/// member of <typeparamref name="TRow"/> (as <c>LoadFromEnumerable</c>). Getters are built once; vector values are
/// copied (into the caller's array when its length fits), so the example is never changed downstream.
/// </summary>
internal sealed class SingleRowDataView<TRow> : IDataView
    where TRow : class
{
    private static readonly System.Reflection.MethodInfo MakeGetterMethod =
        typeof(SingleRowDataView<TRow>).GetMethod(nameof(MakeGetter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

    private readonly Delegate[] _getters;

    public SingleRowDataView()
    {
        var members = RowTypeMember.Of(typeof(TRow), forWriting: false);
        var b = new DataViewSchema.Builder();
        foreach (var m in members)
        {
            b.AddColumn(m.Name, m.Type);
        }
        Schema = b.ToSchema();
        _getters = [.. members.Select(m => (Delegate)MakeGetterMethod.MakeGenericMethod(m.ValueType).Invoke(this, [m])!)];
    }

    /// <summary>The example the row holds (null: no row).</summary>
    public TRow? Current { get; set; }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => 1;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        return new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());
    }

    private ValueGetter<T> MakeGetter<T>(RowTypeMember member)
    {
        var vector = member.Type as VectorDataViewType;
        return (ref T value) =>
        {
            var row = Current ?? throw new InvalidOperationException("The prediction engine's input row is read outside Predict.");
            object? v = member.Get(row);
            if (v == null && vector != null)
            {
                v = Array.CreateInstance(member.ValueType.GetElementType()!, 0);
            }
            if (vector is { IsKnownSize: true } && v is Array a && a.Length != vector.Size)
            {
                throw new ArgumentException($"PredictionEngine: '{member.Name}' of the example holds {a.Length} values but is declared {vector}.", "example");
            }
            GetterUtils.CopyValue((T)v!, ref value);
        };
    }

    private sealed class Cursor(SingleRowDataView<TRow> view, HashSet<int> active) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;

        public override DataViewSchema Schema => view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (_position >= 0 || view.Current == null)
            {
                _position = 1;
                return false;
            }
            _position = 0;
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CheckGetter<TValue>(column);
            return GetterUtils.Adapt<TValue>(view._getters[column.Index], column);
        }
    }
}

/// <summary>
/// A thread-safe pool of <see cref="PredictionEngine{TSrc, TDst}"/> over one model (as ML.NET's
/// <c>PredictionEnginePool</c>): <see cref="Predict"/> may be called from many threads; each call borrows an engine
/// and returns it. Forward passes of a <see cref="ConvNetTransformer"/> are serialised by the transformer itself.
/// </summary>
/// <typeparam name="TSrc">The input class.</typeparam>
/// <typeparam name="TDst">The output class.</typeparam>
public sealed class PredictionEnginePool<TSrc, TDst>
    where TSrc : class
    where TDst : class, new()
{
    private readonly ConcurrentBag<PredictionEngine<TSrc, TDst>> _engines = [];
    private readonly Func<PredictionEngine<TSrc, TDst>> _create;
    private readonly int _maximumRetained;

    /// <summary>Creates a pool over <paramref name="transformer"/>, keeping at most <paramref name="maximumRetained"/> idle engines (default: twice the processor count).</summary>
    public PredictionEnginePool(ConvNetContext context, ITransformer transformer, int? maximumRetained = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(transformer);
        _maximumRetained = maximumRetained ?? 2 * Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_maximumRetained, nameof(maximumRetained));
        _create = () => new PredictionEngine<TSrc, TDst>(context, transformer);
        _engines.Add(_create());
    }

    /// <summary>Scores <paramref name="example"/> with a pooled engine (thread-safe).</summary>
    public TDst Predict(TSrc example)
    {
        var engine = _engines.TryTake(out var e) ? e : _create();
        try
        {
            return engine.Predict(example);
        }
        finally
        {
            if (_engines.Count < _maximumRetained)
            {
                _engines.Add(engine);
            }
        }
    }
}

/// <summary>Prediction engines.</summary>
public sealed partial class ModelOperationsCatalog
{
    /// <summary>A <see cref="PredictionEngine{TSrc, TDst}"/> over <paramref name="transformer"/> (not thread-safe; see <see cref="CreatePredictionEnginePool"/>).</summary>
    /// <exception cref="SchemaMismatchException">The model does not accept <typeparamref name="TSrc"/> rows, or its output lacks a member of <typeparamref name="TDst"/>.</exception>
    public PredictionEngine<TSrc, TDst> CreatePredictionEngine<TSrc, TDst>(ITransformer transformer)
        where TSrc : class
        where TDst : class, new() => new(Context, transformer);

    /// <summary>A thread-safe <see cref="PredictionEnginePool{TSrc, TDst}"/> over <paramref name="transformer"/>.</summary>
    public PredictionEnginePool<TSrc, TDst> CreatePredictionEnginePool<TSrc, TDst>(ITransformer transformer)
        where TSrc : class
        where TDst : class, new() => new(Context, transformer);
}
