using System.Globalization;

namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>
/// Cosine annealing from the base rate to <see cref="MinLearningRate"/> over <see cref="TMax"/> steps:
/// lr(t) = η_min + (base − η_min)·(1 + cos(π·t / T_max)) / 2 (PyTorch's <c>CosineAnnealingLR</c>, its closed form; the
/// curve goes on as a cosine past T_max). Stepped per epoch by default, or per optimizer step with
/// <see cref="SchedulerStepping.Batch"/>; a T_max left null spans the whole run (<see cref="LearningRateScheduler.SetTrainingLength"/>).
/// </summary>
public sealed class CosineAnnealingLR : LearningRateScheduler
{
    private readonly SchedulerStepping _stepping;

    /// <summary>Creates the schedule.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is set.</param>
    /// <param name="tMax">Steps of the half cosine (null: the run's length, set when training starts).</param>
    /// <param name="minLearningRate">η_min, the rate at T_max.</param>
    /// <param name="stepping">Per epoch (default) or per optimizer step.</param>
    public CosineAnnealingLR(Optimizer optimizer, int? tMax = null, float minLearningRate = 0f, SchedulerStepping stepping = SchedulerStepping.Epoch)
        : base(optimizer)
    {
        if (tMax is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(tMax), $"CosineAnnealingLR: tMax must be at least 1, got {tMax}.");
        }
        if (!(minLearningRate >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), $"CosineAnnealingLR: the minimum learning rate must be non-negative, got {minLearningRate}.");
        }
        TMax = tMax;
        MinLearningRate = minLearningRate;
        _stepping = stepping;
    }

    /// <summary>Steps of the half cosine (null until the run's length is known).</summary>
    public int? TMax { get; private set; }

    /// <summary>η_min.</summary>
    public float MinLearningRate { get; }

    /// <inheritdoc/>
    public override SchedulerStepping Stepping => _stepping;

    /// <inheritdoc/>
    protected internal override void OnTrainingLength(long totalSteps) => TMax ??= (int)Math.Clamp(totalSteps, 1, int.MaxValue);

    /// <inheritdoc/>
    public override float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (epoch == 0)
        {
            return BaseLearningRate;
        }
        int tMax = TMax ?? throw new InvalidOperationException("CosineAnnealingLR: the schedule's length (tMax) is not known yet; pass tMax or call SetTrainingLength (Trainer.Fit does).");
        return (float)(MinLearningRate + (BaseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / tMax)) / 2);
    }

    /// <summary>For example <c>CosineAnnealingLR(T_max=10, eta_min=0, per epoch)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CosineAnnealingLR(T_max={(TMax is int t ? t.ToString(CultureInfo.InvariantCulture) : "run")}, eta_min={MinLearningRate}, per {(_stepping == SchedulerStepping.Batch ? "step" : "epoch")})");
}
