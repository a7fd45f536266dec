namespace Microsoft.ML.ConvNet.Training;

/// <summary>The quantity <see cref="EarlyStoppingOptions"/> watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>The validation loss (lower is better); the training loss when there is no validation data.</summary>
    ValidationLoss,

    /// <summary>The validation accuracy (higher is better); the training accuracy when there is no validation data.</summary>
    ValidationAccuracy,
}

/// <summary>
/// Stops <see cref="Trainer.Fit"/> when the watched metric has not improved for <see cref="Patience"/> epochs in a row.
/// An epoch improves when its value beats the best so far by more than <see cref="MinDelta"/> (the first epoch always
/// sets the best).
/// </summary>
public sealed class EarlyStoppingOptions
{
    /// <summary>Epochs without improvement after which training stops (default 3, at least 1).</summary>
    public int Patience { get; set; } = 3;

    /// <summary>The watched metric (default <see cref="EarlyStoppingMetric.ValidationLoss"/>).</summary>
    public EarlyStoppingMetric Metric { get; set; } = EarlyStoppingMetric.ValidationLoss;

    /// <summary>The smallest change that counts as an improvement (default 0, non-negative).</summary>
    public double MinDelta { get; set; }
}

/// <summary>Tracks the best value of a metric across epochs (shared by early stopping and best-model checkpoints).</summary>
internal sealed class BestMetricTracker(EarlyStoppingMetric metric, double minDelta)
{
    private double _best = double.NaN;

    /// <summary>Epochs since the last improvement.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>The epoch of the best value (0: none yet).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The watched value of <paramref name="report"/>.</summary>
    public double ValueOf(EpochReport report) => metric == EarlyStoppingMetric.ValidationLoss
        ? report.ValidationLoss ?? report.TrainLoss
        : report.ValidationAccuracy ?? report.TrainAccuracy;

    /// <summary>Records <paramref name="report"/>; true when it is a new best.</summary>
    public bool Update(EpochReport report)
    {
        double v = ValueOf(report);
        bool better = double.IsNaN(_best) || (metric == EarlyStoppingMetric.ValidationLoss ? v < _best - minDelta : v > _best + minDelta);
        if (better)
        {
            _best = v;
            BestEpoch = report.Epoch;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }
        return better;
    }
}
