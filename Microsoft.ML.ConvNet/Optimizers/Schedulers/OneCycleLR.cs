using System.Globalization;

namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>
/// The one-cycle policy (Smith and Topin, 2019; PyTorch's <c>OneCycleLR</c> with cosine annealing and without momentum
/// cycling), stepped after every optimizer step: from max/<see cref="DivFactor"/> up to <see cref="MaxLearningRate"/>
/// over the first <see cref="PctStart"/> of the steps, then down to max/(div·<see cref="FinalDivFactor"/>), each part a
/// half cosine. With <see cref="ThreePhase"/> the rate comes back to the initial one symmetrically before the final
/// annealing. The constructor sets the optimizer to the initial rate; the optimizer's own rate is not used.
/// </summary>
public sealed class OneCycleLR : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is set.</param>
    /// <param name="maxLearningRate">The peak rate.</param>
    /// <param name="totalSteps">Optimizer steps of the cycle (null: the run's, set when training starts).</param>
    /// <param name="pctStart">Fraction of the cycle spent rising (default 0.3).</param>
    /// <param name="divFactor">Initial rate = max / divFactor (default 25).</param>
    /// <param name="finalDivFactor">Final rate = initial / finalDivFactor (default 1e4).</param>
    /// <param name="threePhase">Rise, fall back to the initial rate, then anneal (default false).</param>
    public OneCycleLR(Optimizer optimizer, float maxLearningRate, int? totalSteps = null, float pctStart = 0.3f, float divFactor = 25f, float finalDivFactor = 1e4f, bool threePhase = false)
        : base(optimizer)
    {
        if (!(maxLearningRate > 0) || !(pctStart > 0 && pctStart < 1) || !(divFactor > 0) || !(finalDivFactor > 0) || totalSteps is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLearningRate), string.Create(CultureInfo.InvariantCulture,
                $"OneCycleLR: needs maxLearningRate > 0, pctStart in (0, 1), divFactor and finalDivFactor > 0 and totalSteps >= 2; got {maxLearningRate}, {pctStart}, {divFactor}, {finalDivFactor}, {totalSteps}."));
        }
        MaxLearningRate = maxLearningRate;
        TotalSteps = totalSteps;
        PctStart = pctStart;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        ThreePhase = threePhase;
        if (totalSteps != null)
        {
            ApplyStepZero();
        }
    }

    /// <summary>The peak rate.</summary>
    public float MaxLearningRate { get; }

    /// <summary>Steps of the cycle (null until the run's length is known).</summary>
    public int? TotalSteps { get; private set; }

    /// <summary>Fraction of the cycle spent rising.</summary>
    public float PctStart { get; }

    /// <summary>Initial rate = max / DivFactor.</summary>
    public float DivFactor { get; }

    /// <summary>Final rate = initial / FinalDivFactor.</summary>
    public float FinalDivFactor { get; }

    /// <summary>Whether the cycle has three phases.</summary>
    public bool ThreePhase { get; }

    /// <inheritdoc/>
    public override SchedulerStepping Stepping => SchedulerStepping.Batch;

    /// <inheritdoc/>
    protected internal override void OnTrainingLength(long totalSteps) => TotalSteps ??= (int)Math.Clamp(totalSteps, 2, int.MaxValue);

    /// <inheritdoc/>
    public override float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int total = TotalSteps ?? throw new InvalidOperationException("OneCycleLR: the number of steps is not known yet; pass totalSteps or call SetTrainingLength (Trainer.Fit does).");
        // PyTorch computes in float32 parameters and double arithmetic; phases end at step indices as in PyTorch.
        double initial = MaxLearningRate / (double)DivFactor, min = initial / FinalDivFactor, max = MaxLearningRate;
        (double End, double Start, double Stop)[] phases = ThreePhase
            ? [(PctStart * (double)total - 1, initial, max), (2 * PctStart * (double)total - 2, max, initial), (total - 1, initial, min)]
            : [(PctStart * (double)total - 1, initial, max), (total - 1, max, min)];
        double startStep = 0;
        double lr = min;
        for (int i = 0; i < phases.Length; i++)
        {
            var (end, from, to) = phases[i];
            if (epoch <= end || i == phases.Length - 1)
            {
                double pct = (epoch - startStep) / (end - startStep);
                lr = to + (from - to) / 2 * (Math.Cos(Math.PI * pct) + 1);
                break;
            }
            startStep = end;
        }
        return (float)lr;
    }

    /// <summary>For example <c>OneCycleLR(max_lr=0.01, total_steps=9380, pct_start=0.3)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"OneCycleLR(max_lr={MaxLearningRate}, total_steps={(TotalSteps is int t ? t.ToString(CultureInfo.InvariantCulture) : "run")}, pct_start={PctStart}{(ThreePhase ? ", three_phase" : "")})");
}
