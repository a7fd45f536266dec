using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>
/// Evaluation results of a binary classifier that outputs probabilities, in the shape of ML.NET's
/// <c>CalibratedBinaryClassificationMetrics</c>. Computed by <see cref="BinaryMetricsCalculator.Compute"/>.
/// The <see cref="ConfusionMatrix"/> follows ML.NET's binary layout: class 0 is "positive", class 1 "negative".
/// </summary>
public sealed class BinaryClassificationMetrics
{
    internal BinaryClassificationMetrics(
        double accuracy,
        double areaUnderRocCurve,
        double areaUnderPrecisionRecallCurve,
        double logLoss,
        double entropy,
        ConfusionMatrix confusionMatrix)
    {
        Accuracy = accuracy;
        AreaUnderRocCurve = areaUnderRocCurve;
        AreaUnderPrecisionRecallCurve = areaUnderPrecisionRecallCurve;
        LogLoss = logLoss;
        Entropy = entropy;
        LogLossReduction = entropy > 0 ? (entropy - logLoss) / entropy : double.NaN;
        ConfusionMatrix = confusionMatrix;
        PositivePrecision = confusionMatrix.Precision(0);
        PositiveRecall = confusionMatrix.Recall(0);
        NegativePrecision = confusionMatrix.Precision(1);
        NegativeRecall = confusionMatrix.Recall(1);
        F1Score = confusionMatrix.F1Score(0);
    }

    /// <summary>Fraction of samples classified correctly at the threshold.</summary>
    public double Accuracy { get; }

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores higher than a random negative, ties
    /// counting one half (the Mann–Whitney U statistic with average ranks for tied scores; exact, threshold-free).
    /// NaN when the labels hold only one class (the curve is undefined).
    /// </summary>
    public double AreaUnderRocCurve { get; }

    /// <summary>
    /// Area under the precision–recall curve as average precision: Σ (R_i − R_(i−1)) · P_i over the distinct
    /// probabilities from the highest down, tied probabilities forming one step (scikit-learn's
    /// <c>average_precision_score</c>). NaN when there is no positive label.
    /// </summary>
    public double AreaUnderPrecisionRecallCurve { get; }

    /// <summary>Of the samples predicted positive, the fraction that are positive; 0 when none is predicted positive.</summary>
    public double PositivePrecision { get; }

    /// <summary>Of the positive samples, the fraction predicted positive; 0 when there is no positive sample.</summary>
    public double PositiveRecall { get; }

    /// <summary>Of the samples predicted negative, the fraction that are negative; 0 when none is predicted negative.</summary>
    public double NegativePrecision { get; }

    /// <summary>Of the negative samples, the fraction predicted negative; 0 when there is no negative sample.</summary>
    public double NegativeRecall { get; }

    /// <summary>Harmonic mean of <see cref="PositivePrecision"/> and <see cref="PositiveRecall"/>; 0 when both are 0.</summary>
    public double F1Score { get; }

    /// <summary>
    /// Mean over samples of −ln(p) for positives and −ln(1 − p) for negatives, each clipped to [1e-15, 1] inside the
    /// logarithm (natural logarithm, like the multiclass log-loss and scikit-learn's <c>log_loss</c>).
    /// </summary>
    public double LogLoss { get; }

    /// <summary>The log-loss of the prior that predicts the positive fraction of the labels for every sample (the label entropy, natural log).</summary>
    public double Entropy { get; }

    /// <summary>(Entropy − LogLoss) / Entropy: 1 is perfect, 0 no better than the prior; NaN when the labels hold a single class.</summary>
    public double LogLossReduction { get; }

    /// <summary>The 2×2 counts; row and column 0 are "positive", 1 "negative" (ML.NET's binary layout).</summary>
    public ConfusionMatrix ConfusionMatrix { get; }
}
