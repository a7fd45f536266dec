using System.Globalization;

namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>Whether a watched metric should go down (a loss) or up (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better.</summary>
    Min,

    /// <summary>Higher is better.</summary>
    Max,
}

/// <summary>
/// Multiplies the learning rate by <see cref="Factor"/> when a watched metric has not improved for more than
/// <see cref="Patience"/> epochs (PyTorch's <c>ReduceLROnPlateau</c> with a relative threshold): improvement means
/// below best·(1 − threshold) (<see cref="PlateauMode.Min"/>) or above best·(1 + threshold); after a reduction
/// <see cref="Cooldown"/> epochs pass before bad epochs count again; the rate never goes below
/// <see cref="MinLearningRate"/>. Step it with the metric: <see cref="Step(double)"/> (the training loop passes the
/// validation loss, or the training loss without validation data).
/// </summary>
public sealed class ReduceLROnPlateau : LearningRateScheduler
{
    private readonly List<float> _history = [];
    private double _best;
    private int _bad;
    private int _cooldownLeft;

    /// <summary>Creates the schedule.</summary>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, float factor = 0.1f, int patience = 10, double threshold = 1e-4,
        int cooldown = 0, float minLearningRate = 0f)
        : base(optimizer)
    {
        if (!(factor > 0 && factor < 1) || patience < 0 || !(threshold >= 0) || cooldown < 0 || !(minLearningRate >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), string.Create(CultureInfo.InvariantCulture,
                $"ReduceLROnPlateau: needs factor in (0, 1), patience, threshold, cooldown and minLearningRate >= 0; got {factor}, {patience}, {threshold}, {cooldown}, {minLearningRate}."));
        }
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
        _best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        _history.Add(BaseLearningRate);
    }

    /// <summary>Whether lower or higher metric values are better.</summary>
    public PlateauMode Mode { get; }

    /// <summary>The factor of a reduction.</summary>
    public float Factor { get; }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>Relative improvement needed.</summary>
    public double Threshold { get; }

    /// <summary>Epochs after a reduction before bad epochs count.</summary>
    public int Cooldown { get; }

    /// <summary>The lowest rate.</summary>
    public float MinLearningRate { get; }

    /// <summary>The best metric value seen.</summary>
    public double Best => _best;

    /// <summary>Not available: this schedule needs the metric, <see cref="Step(double)"/>.</summary>
    public override void Step() => throw new InvalidOperationException("ReduceLROnPlateau: step it with the watched metric, Step(metric).");

    /// <inheritdoc/>
    public override void Step(double metric)
    {
        if (double.IsNaN(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), "ReduceLROnPlateau: the metric is NaN.");
        }
        bool better = Mode == PlateauMode.Min ? metric < _best * (1 - Threshold) : metric > _best * (1 + Threshold);
        if (double.IsInfinity(_best))
        {
            better = Mode == PlateauMode.Min ? metric < _best : metric > _best;
        }
        if (better)
        {
            _best = metric;
            _bad = 0;
        }
        else
        {
            _bad++;
        }
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _bad = 0;
        }
        float lr = Optimizer.LearningRate;
        if (_bad > Patience)
        {
            float reduced = Math.Max(lr * Factor, MinLearningRate);
            if (lr - reduced > 1e-8f)
            {
                lr = reduced;
            }
            _cooldownLeft = Cooldown;
            _bad = 0;
        }
        _history.Add(lr);
        SetStep(LastEpoch + 1, lr);
    }

    /// <summary>The rate of an epoch already stepped through (the schedule cannot be computed ahead).</summary>
    public override float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return epoch < _history.Count ? _history[epoch]
            : throw new InvalidOperationException($"ReduceLROnPlateau: the rate of epoch {epoch} depends on metrics not seen yet (stepped to {LastEpoch}).");
    }

    /// <summary>For example <c>ReduceLROnPlateau(min, factor=0.1, patience=10)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ReduceLROnPlateau({Mode.ToString().ToLowerInvariant()}, factor={Factor}, patience={Patience})");
}
