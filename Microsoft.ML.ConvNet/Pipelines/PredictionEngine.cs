using System.Collections.Concurrent;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// Scores single examples with a fitted model (ML.NET's <c>PredictionEngine</c>): <see cref="Predict"/> turns the
/// example into a one-row data view (public members of <typeparamref name="TSrc"/> become columns, as in
/// <c>LoadFromEnumerable</c>), transforms it and reads the output row into a new <typeparamref name="TDst"/> (as in
/// <c>CreateEnumerable</c>). Not thread-safe, as in ML.NET: use one engine per thread or a
/// <see cref="PredictionEnginePool{TSrc, TDst}"/>. The engine does not own the model.
/// </summary>
/// <typeparam name="TSrc">The input class (vector members need <see cref="VectorTypeAttribute"/> with the model's shape).</typeparam>
/// <typeparam name="TDst">The output class; each public writable member must match an output column (e.g. <c>uint PredictedLabel</c>, <c>float[] Score</c>).</typeparam>
public sealed class PredictionEngine<TSrc, TDst>
    where TSrc : class
    where TDst : class, new()
{
    private readonly DataOperationsCatalog _data;
    private readonly ITransformer _transformer;

    internal PredictionEngine(ConvNetContext context, ITransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        _data = context.Data;
        _transformer = transformer;
        // Checks now, on an empty view, that the input type fits the model and the output type fits its output.
        var empty = _data.LoadFromEnumerable(Array.Empty<TSrc>());
        OutputSchema = transformer.GetOutputSchema(empty.Schema);
        _ = _data.CreateEnumerable<TDst>(transformer.Transform(empty), reuseRowObject: false);
    }

    /// <summary>The schema of the model's output for <typeparamref name="TSrc"/> rows.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Scores <paramref name="example"/>.</summary>
    public TDst Predict(TSrc example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var scored = _transformer.Transform(_data.LoadFromEnumerable([example]));
        using var rows = _data.CreateEnumerable<TDst>(scored, reuseRowObject: false).GetEnumerator();
        return rows.MoveNext() ? rows.Current : throw new InvalidOperationException("PredictionEngine: the model produced no row for the example.");
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
