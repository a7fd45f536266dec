using System.Globalization;

namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>
/// A linear warm-up in front of another schedule: for t &lt; W the rate rises linearly from
/// <see cref="StartFactor"/>·r₀ to r₀ (r₀ = the inner schedule's step-0 rate; PyTorch's <c>LinearLR</c>), then the inner
/// schedule runs from its step 0 (lr(t) = inner(t − W), as PyTorch's <c>SequentialLR(LinearLR, inner,
/// milestones=[W])</c>). W counts in the inner schedule's units (epochs, or optimizer steps when it steps per batch),
/// and an inner schedule of open length gets the run's length minus W.
/// <code>
/// var schedule = new LinearWarmup(new CosineAnnealingLR(optimizer, stepping: SchedulerStepping.Batch), warmupSteps: 500);
/// </code>
/// </summary>
public sealed class LinearWarmup : LearningRateScheduler
{
    /// <summary>Wraps <paramref name="inner"/> with a warm-up of <paramref name="warmupSteps"/> steps.</summary>
    /// <param name="inner">The schedule after the warm-up (it drives the same optimizer; only its <see cref="LearningRateAt"/> is used).</param>
    /// <param name="warmupSteps">W, in the inner schedule's units (at least 1).</param>
    /// <param name="startFactor">The fraction of the rate at step 0, in (0, 1] (default 0.1).</param>
    public LinearWarmup(LearningRateScheduler inner, int warmupSteps, float startFactor = 0.1f)
        : base((inner ?? throw new ArgumentNullException(nameof(inner))).Optimizer)
    {
        if (warmupSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"LinearWarmup: the warm-up needs at least 1 step, got {warmupSteps}.");
        }
        if (!(startFactor > 0 && startFactor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(startFactor), string.Create(CultureInfo.InvariantCulture, $"LinearWarmup: startFactor must be in (0, 1], got {startFactor}."));
        }
        Inner = inner;
        WarmupSteps = warmupSteps;
        StartFactor = startFactor;
        TryApplyStepZero();
    }

    /// <summary>The schedule after the warm-up.</summary>
    public LearningRateScheduler Inner { get; }

    /// <summary>W.</summary>
    public int WarmupSteps { get; }

    /// <summary>The fraction of the rate at step 0.</summary>
    public float StartFactor { get; }

    /// <inheritdoc/>
    public override SchedulerStepping Stepping => Inner.Stepping;

    /// <inheritdoc/>
    protected internal override void OnTrainingLength(long totalSteps) => Inner.OnTrainingLength(Math.Max(1, totalSteps - WarmupSteps));

    /// <inheritdoc/>
    public override float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (epoch >= WarmupSteps)
        {
            return Inner.LearningRateAt(epoch - WarmupSteps);
        }
        double factor = StartFactor + (1.0 - StartFactor) * epoch / WarmupSteps;
        return (float)(Inner.LearningRateAt(0) * factor);
    }

    private void TryApplyStepZero()
    {
        try
        {
            ApplyStepZero();
        }
        catch (InvalidOperationException)
        {
            // The inner schedule's length is open: SetTrainingLength applies step 0.
        }
    }

    /// <summary>For example <c>LinearWarmup(500 steps from 0.1, CosineAnnealingLR(...))</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LinearWarmup({WarmupSteps} {(Stepping == SchedulerStepping.Batch ? "steps" : "epochs")} from {StartFactor}, {Inner})");
}
