using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>
/// Evaluation results of a multiclass classifier, in the shape of ML.NET's <c>MulticlassClassificationMetrics</c>.
/// Computed by <see cref="MulticlassMetricsCalculator.Compute"/>. Log-losses use the natural logarithm and clip the
/// probability of the true class to [1e-15, 1], as ML.NET does.
/// </summary>
public sealed class MulticlassClassificationMetrics
{
    internal MulticlassClassificationMetrics(
        double microAccuracy,
        double macroAccuracy,
        double logLoss,
        double logLossReduction,
        int topKPredictionCount,
        IReadOnlyList<double> topKAccuracyForAllK,
        IReadOnlyList<double> perClassLogLoss,
        ConfusionMatrix confusionMatrix)
    {
        MicroAccuracy = microAccuracy;
        MacroAccuracy = macroAccuracy;
        LogLoss = logLoss;
        LogLossReduction = logLossReduction;
        TopKPredictionCount = topKPredictionCount;
        TopKAccuracyForAllK = topKAccuracyForAllK;
        PerClassLogLoss = perClassLogLoss;
        ConfusionMatrix = confusionMatrix;
    }

    /// <summary>Fraction of samples whose predicted class (the highest probability) is the true class.</summary>
    public double MicroAccuracy { get; }

    /// <summary>Mean over the classes that occur in the labels of the fraction of that class predicted correctly (mean per-class recall).</summary>
    public double MacroAccuracy { get; }

    /// <summary>Mean over samples of −ln(max(p[true class], 1e-15)).</summary>
    public double LogLoss { get; }

    /// <summary>
    /// (LogLoss(prior) − LogLoss) / LogLoss(prior), where the prior predicts every sample with the class frequencies
    /// of the evaluated labels, so LogLoss(prior) is the entropy of the label distribution. 1 is perfect, 0 is no
    /// better than the prior, negative is worse. NaN when the labels hold a single class (the prior's log-loss is 0).
    /// </summary>
    public double LogLossReduction { get; }

    /// <summary>The K of <see cref="TopKAccuracy"/>.</summary>
    public int TopKPredictionCount { get; }

    /// <summary>Fraction of samples whose true class ranks among the <see cref="TopKPredictionCount"/> highest probabilities.</summary>
    public double TopKAccuracy => TopKAccuracyForAllK[^1];

    /// <summary>
    /// Top-k accuracy for k = 1 .. <see cref="TopKPredictionCount"/> (element k − 1 is top-k). Ranks follow ML.NET's
    /// stable descending sort: the rank of the true class is the number of classes with a strictly higher
    /// probability plus the number of classes with an equal probability and a lower index. So element 0 equals
    /// <see cref="MicroAccuracy"/>, and ties never count a sample twice.
    /// </summary>
    public IReadOnlyList<double> TopKAccuracyForAllK { get; }

    /// <summary>Mean log-loss of the samples of each class; 0 for a class absent from the labels (as ML.NET).</summary>
    public IReadOnlyList<double> PerClassLogLoss { get; }

    /// <summary>The counts of (true class, predicted class), with per-class precision and recall.</summary>
    public ConfusionMatrix ConfusionMatrix { get; }
}
