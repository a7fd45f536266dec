using System.Globalization;

namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>
/// Multiplies the learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs:
/// lr(epoch) = base · γ^⌊epoch / stepSize⌋ (PyTorch's <c>StepLR</c>).
/// </summary>
public sealed class StepLR : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is set.</param>
    /// <param name="stepSize">Epochs between decays.</param>
    /// <param name="gamma">Decay factor.</param>
    public StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f)
        : base(optimizer)
    {
        if (stepSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), $"StepLR: stepSize must be at least 1, got {stepSize}.");
        }
        if (!(gamma > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), $"StepLR: gamma must be positive, got {gamma}.");
        }
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public override float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return (float)(BaseLearningRate * Math.Pow(Gamma, epoch / StepSize));
    }

    /// <summary>For example <c>StepLR(step_size=30, gamma=0.1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"StepLR(step_size={StepSize}, gamma={Gamma})");
}
