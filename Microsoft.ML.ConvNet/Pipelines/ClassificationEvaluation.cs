using Microsoft.ML.ConvNet.Evaluation;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>The result of one fold of cross-validation (ML.NET's <c>CrossValidationResult&lt;TMetrics&gt;</c>).</summary>
/// <typeparam name="TMetrics">The metrics type.</typeparam>
public sealed class CrossValidationResult<TMetrics>
    where TMetrics : class
{
    internal CrossValidationResult(TMetrics metrics, ITransformer model, IDataView scoredHoldOutSet, int fold)
    {
        Metrics = metrics;
        Model = model;
        ScoredHoldOutSet = scoredHoldOutSet;
        Fold = fold;
    }

    /// <summary>The metrics on the fold's held-out rows.</summary>
    public TMetrics Metrics { get; }

    /// <summary>The model trained on the other folds (dispose it when it owns a network).</summary>
    public ITransformer Model { get; }

    /// <summary>The held-out rows scored by <see cref="Model"/> (lazy).</summary>
    public IDataView ScoredHoldOutSet { get; }

    /// <summary>The fold, from 0.</summary>
    public int Fold { get; }
}

/// <summary>Evaluation and cross-validation of multiclass classifiers.</summary>
public sealed partial class MulticlassClassificationCatalog
{
    /// <summary>
    /// Evaluates scored data (ML.NET's <c>MulticlassClassificationCatalog.Evaluate</c>): the label is a key of K
    /// categories (or a Boolean: K = 2, false first), the score a Vector&lt;Single, K&gt; of class probabilities (as <c>ConvNet</c> writes), and the predicted
    /// label a key column (checked; the predicted class is recomputed as the most probable one, the lowest index on
    /// ties). Rows with a missing label (key 0) are skipped. The values are those of
    /// <see cref="MulticlassMetricsCalculator.Compute"/>; <paramref name="topKPredictionCount"/> 0 computes top-1 only.
    /// </summary>
    /// <exception cref="SchemaMismatchException">A column is missing or of the wrong type.</exception>
    public MulticlassClassificationMetrics Evaluate(IDataView data, string labelColumnName = "Label", string scoreColumnName = "Score",
        string predictedLabelColumnName = "PredictedLabel", int topKPredictionCount = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(topKPredictionCount);
        var (labels, scores, names) = ReadScored(data, labelColumnName, scoreColumnName, predictedLabelColumnName, "Evaluate");
        return MulticlassMetricsCalculator.Compute(labels, scores, Math.Max(1, topKPredictionCount), names);
    }

    /// <summary>Reads key labels (as class indices) and score vectors; checks the schema first.</summary>
    internal static (int[] Labels, float[] Scores, string[] ClassNames) ReadScored(IDataView data, string label, string score, string? predicted, string op)
    {
        var schema = data.Schema;
        var lc = SchemaMismatchException.Require(schema, label, "Key or Boolean", t => t is KeyDataViewType { Count: > 0 } or BooleanDataViewType);
        int k = lc.Type is KeyDataViewType keyType ? (int)keyType.Count : 2;
        var sc = SchemaMismatchException.Require(schema, score, $"Vector<Single, {k}>",
            t => t is VectorDataViewType { Size: var n, ItemType: var it } && n == k && it == NumberDataViewType.Single);
        if (predicted != null)
        {
            SchemaMismatchException.Require(schema, predicted, "Key", t => t is KeyDataViewType);
        }
        var labels = new List<int>();
        var scores = new List<float>();
        using (var cursor = data.GetRowCursor([lc, sc]))
        {
            var lg = ConvNetTrainer.LabelKeyGetter(cursor, lc);
            var sg = cursor.GetGetter<float[]>(sc);
            uint key = 0;
            float[] s = new float[k];
            while (cursor.MoveNext())
            {
                lg(ref key);
                if (key == 0)
                {
                    continue;
                }
                sg(ref s);
                labels.Add((int)key - 1);
                scores.AddRange(s);
            }
        }
        if (labels.Count == 0)
        {
            throw new ArgumentException($"{op}: the data has no rows with a label in '{label}'.", nameof(data));
        }
        return ([.. labels], [.. scores], ConvNetTrainer.KeyNames(lc, k));
    }

    /// <summary>
    /// Cross-validates <paramref name="estimator"/> (ML.NET's <c>CrossValidate</c>): the rows are read into memory once,
    /// dealt into <paramref name="numberOfFolds"/> folds by <see cref="CrossValidation.Folds"/> (stratified on
    /// <paramref name="labelColumnName"/> when it is a key or Boolean column of <paramref name="data"/>), and for each fold the
    /// estimator is fitted on the other folds and evaluated with <see cref="Evaluate"/> on it.
    /// </summary>
    /// <param name="data">The rows.</param>
    /// <param name="estimator">The pipeline to fit (its output needs <c>Score</c> and <c>PredictedLabel</c>).</param>
    /// <param name="numberOfFolds">At least 2.</param>
    /// <param name="labelColumnName">The label column (a key in the scored output).</param>
    /// <param name="seed">Seed of the fold assignment (default: drawn from the context).</param>
    public IReadOnlyList<CrossValidationResult<MulticlassClassificationMetrics>> CrossValidate(IDataView data, IEstimator<ITransformer> estimator,
        int numberOfFolds = 5, string labelColumnName = "Label", int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfFolds, 2);
        estimator.GetOutputSchema(data.Schema);
        var mem = InMemoryDataView.Materialize(data);
        int count = (int)mem.GetRowCount()!.Value;
        int[]? strata = null;
        if (mem.Schema.GetColumnOrNull(labelColumnName) is { Type: KeyDataViewType or BooleanDataViewType } lc)
        {
            strata = new int[count];
            using var cursor = mem.GetRowCursor([lc]);
            var g = ConvNetTrainer.LabelKeyGetter(cursor, lc);
            uint key = 0;
            for (int i = 0; cursor.MoveNext(); i++)
            {
                g(ref key);
                strata[i] = (int)key;
            }
        }
        var folds = CrossValidation.Folds(count, numberOfFolds, seed ?? Context.NextSeed(), strata);
        var results = new List<CrossValidationResult<MulticlassClassificationMetrics>>(numberOfFolds);
        try
        {
            for (int f = 0; f < numberOfFolds; f++)
            {
                var (train, test) = CrossValidation.Split(folds, f);
                var model = estimator.Fit(mem.SelectRows(train));
                try
                {
                    var scored = model.Transform(mem.SelectRows(test));
                    results.Add(new CrossValidationResult<MulticlassClassificationMetrics>(Evaluate(scored, labelColumnName), model, scored, f));
                }
                catch
                {
                    (model as IDisposable)?.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            foreach (var r in results)
            {
                (r.Model as IDisposable)?.Dispose();
            }
            throw;
        }
        return results;
    }
}

/// <summary>Evaluation of two-class classifiers.</summary>
public sealed partial class BinaryClassificationCatalog
{
    /// <summary>
    /// Evaluates a two-class classifier scored like a multiclass one (the <c>ConvNet</c> trainer, from either catalog,
    /// on a two-class label). The label is a Boolean (true is the positive class, as in ML.NET) or a key of 2
    /// categories (key 2, the second key value, is the positive class: with <c>MapValueToKey</c>, order the keys so, e.g.
    /// with <see cref="KeyOrdinality.ByValue"/>). The score is a Vector&lt;Single, 2&gt; of probabilities whose second item
    /// is the probability of the positive class. Rows with a missing key label (key 0) are skipped. A row is predicted
    /// positive when that probability exceeds <paramref name="threshold"/>. The values are those of
    /// <see cref="BinaryMetricsCalculator.Compute"/>.
    /// </summary>
    /// <exception cref="SchemaMismatchException">The label is not a Boolean or a key of 2 categories, or the score not a Vector&lt;Single, 2&gt;.</exception>
    public BinaryClassificationMetrics Evaluate(IDataView data, string labelColumnName = "Label", string scoreColumnName = "Score", float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(data);
        var lc = SchemaMismatchException.Require(data.Schema, labelColumnName, "Boolean or Key<UInt32, 0-1> (two categories)",
            t => t is BooleanDataViewType or KeyDataViewType { Count: 2 });
        var sc = SchemaMismatchException.Require(data.Schema, scoreColumnName, "Vector<Single, 2>",
            t => t is VectorDataViewType { Size: 2, ItemType: var it } && it == NumberDataViewType.Single);
        var positive = new List<bool>();
        var probabilities = new List<float>();
        using (var cursor = data.GetRowCursor([lc, sc]))
        {
            var lg = ConvNetTrainer.LabelKeyGetter(cursor, lc);
            var sg = cursor.GetGetter<float[]>(sc);
            uint key = 0;
            float[] s = new float[2];
            while (cursor.MoveNext())
            {
                lg(ref key);
                if (key == 0)
                {
                    continue;
                }
                sg(ref s);
                positive.Add(key == 2);
                probabilities.Add(s[1]);
            }
        }
        if (positive.Count == 0)
        {
            throw new ArgumentException($"Evaluate: the data has no rows with a label in '{labelColumnName}'.", nameof(data));
        }
        return BinaryMetricsCalculator.Compute([.. positive], [.. probabilities], threshold);
    }
}
