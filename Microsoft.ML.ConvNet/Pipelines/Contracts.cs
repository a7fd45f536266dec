using System.Collections;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A fitted step of a pipeline, as ML.NET's <c>ITransformer</c>: maps a data view to another, lazily
/// (<see cref="Transform"/> does no work; cursors of the result compute values on demand).
/// </summary>
public interface ITransformer
{
    /// <summary>The schema <see cref="Transform"/> produces from <paramref name="inputSchema"/>, checked without reading data.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);

    /// <summary>The transformed view of <paramref name="input"/> (lazy).</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    IDataView Transform(IDataView input);

    /// <summary>Whether each output row depends on one input row only (it can score single rows).</summary>
    bool IsRowToRowMapper { get; }
}

/// <summary>
/// An untrained step of a pipeline, as ML.NET's <c>IEstimator&lt;TTransformer&gt;</c>: <see cref="Fit"/> learns from
/// data and returns a transformer. Output schemas are computed on <see cref="DataViewSchema"/> (ML.NET uses
/// <c>SchemaShape</c>); a value known only after fitting, such as the count of a key, is left unknown (0).
/// </summary>
public interface IEstimator<out TTransformer>
    where TTransformer : ITransformer
{
    /// <summary>Learns from <paramref name="input"/>.</summary>
    TTransformer Fit(IDataView input);

    /// <summary>The schema the fitted transformer will produce from <paramref name="inputSchema"/>, checked without reading data.</summary>
    /// <exception cref="SchemaMismatchException">An input column is missing or of the wrong type.</exception>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);
}

/// <summary>An estimator that learns nothing: <see cref="Fit"/> checks the schema and returns its transformer.</summary>
public class TrivialEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : ITransformer
{
    /// <summary>Wraps <paramref name="transformer"/>.</summary>
    public TrivialEstimator(TTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        Transformer = transformer;
    }

    /// <summary>The transformer returned by <see cref="Fit"/>.</summary>
    protected TTransformer Transformer { get; }

    /// <inheritdoc/>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Transformer.GetOutputSchema(input.Schema);
        return Transformer;
    }

    /// <inheritdoc/>
    public virtual DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Transformer.GetOutputSchema(inputSchema);
}

/// <summary>
/// Estimators applied one after another, as ML.NET's <c>EstimatorChain</c>. <see cref="Fit"/> first checks the whole
/// chain's schemas (so a wrong column fails before any training), then fits each estimator on the previous ones'
/// (lazily) transformed output.
/// </summary>
public sealed class EstimatorChain<TLastTransformer> : IEstimator<TransformerChain<TLastTransformer>>
    where TLastTransformer : class, ITransformer
{
    private readonly IEstimator<ITransformer>[] _estimators;

    /// <summary>An empty chain.</summary>
    public EstimatorChain() => _estimators = [];

    private EstimatorChain(IEstimator<ITransformer>[] estimators) => _estimators = estimators;

    /// <summary>The estimators, first to last.</summary>
    public IReadOnlyList<IEstimator<ITransformer>> Estimators => _estimators;

    /// <summary>The last estimator, or null when the chain is empty.</summary>
    public IEstimator<TLastTransformer>? LastEstimator => _estimators.Length == 0 ? null : (IEstimator<TLastTransformer>)_estimators[^1];

    /// <summary>A chain of these estimators followed by <paramref name="estimator"/>.</summary>
    public EstimatorChain<TNewTrans> Append<TNewTrans>(IEstimator<TNewTrans> estimator)
        where TNewTrans : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        return new EstimatorChain<TNewTrans>([.. _estimators, estimator]);
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var schema = inputSchema;
        foreach (var e in _estimators)
        {
            schema = e.GetOutputSchema(schema);
        }
        return schema;
    }

    /// <inheritdoc/>
    public TransformerChain<TLastTransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        var fitted = new List<ITransformer>(_estimators.Length);
        var current = input;
        try
        {
            foreach (var e in _estimators)
            {
                var t = e.Fit(current);
                fitted.Add(t);
                if (fitted.Count < _estimators.Length)
                {
                    current = t.Transform(current);
                }
            }
        }
        catch
        {
            foreach (var t in fitted)
            {
                (t as IDisposable)?.Dispose();
            }
            throw;
        }
        return new TransformerChain<TLastTransformer>(fitted);
    }
}

/// <summary>
/// Transformers applied one after another, as ML.NET's <c>TransformerChain</c>. Disposing the chain disposes the
/// transformers that are <see cref="IDisposable"/> (for example ones that own a model).
/// </summary>
public sealed class TransformerChain<TLastTransformer> : ITransformer, IEnumerable<ITransformer>, IDisposable
    where TLastTransformer : class, ITransformer
{
    private readonly ITransformer[] _transformers;

    /// <summary>A chain of <paramref name="transformers"/>; the last must be a <typeparamref name="TLastTransformer"/> (or the chain empty).</summary>
    public TransformerChain(IEnumerable<ITransformer> transformers)
    {
        ArgumentNullException.ThrowIfNull(transformers);
        _transformers = [.. transformers];
        if (_transformers.Length > 0 && _transformers[^1] is not TLastTransformer)
        {
            throw new ArgumentException($"The last transformer is a {_transformers[^1].GetType().Name}, not a {typeof(TLastTransformer).Name}.", nameof(transformers));
        }
    }

    /// <summary>A chain of <paramref name="transformers"/>.</summary>
    public TransformerChain(params ITransformer[] transformers) : this((IEnumerable<ITransformer>)transformers)
    {
    }

    /// <summary>The last transformer (null when the chain is empty).</summary>
    public TLastTransformer? LastTransformer => _transformers.Length == 0 ? null : (TLastTransformer)_transformers[^1];

    /// <inheritdoc/>
    public bool IsRowToRowMapper => _transformers.All(t => t.IsRowToRowMapper);

    /// <summary>A chain of these transformers followed by <paramref name="transformer"/>.</summary>
    public TransformerChain<TNewLast> Append<TNewLast>(TNewLast transformer)
        where TNewLast : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new TransformerChain<TNewLast>([.. _transformers, transformer]);
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var s = inputSchema;
        foreach (var t in _transformers)
        {
            s = t.GetOutputSchema(s);
        }
        return s;
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        var d = input;
        foreach (var t in _transformers)
        {
            d = t.Transform(d);
        }
        return d;
    }

    /// <inheritdoc/>
    public IEnumerator<ITransformer> GetEnumerator() => ((IEnumerable<ITransformer>)_transformers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes the transformers that are disposable.</summary>
    public void Dispose()
    {
        foreach (var t in _transformers)
        {
            (t as IDisposable)?.Dispose();
        }
    }
}

/// <summary>The <c>Append</c> extension methods that start chains, as in ML.NET.</summary>
public static class EstimatorExtensions
{
    /// <summary>A chain of <paramref name="start"/> followed by <paramref name="estimator"/>.</summary>
    public static EstimatorChain<TTrans> Append<TTrans>(this IEstimator<ITransformer> start, IEstimator<TTrans> estimator)
        where TTrans : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        return start is EstimatorChain<ITransformer> chain
            ? chain.Append(estimator)
            : new EstimatorChain<ITransformer>().Append(start).Append(estimator);
    }

    /// <summary>A chain of <paramref name="start"/> followed by <paramref name="transformer"/>.</summary>
    public static TransformerChain<TTrans> Append<TTrans>(this ITransformer start, TTrans transformer)
        where TTrans : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        return new TransformerChain<TTrans>(start, transformer);
    }
}
