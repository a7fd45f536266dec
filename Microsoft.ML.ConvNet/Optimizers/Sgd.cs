using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, with
/// PyTorch's (1.13) update: d = g + wd·p; b = d on the first step, then b = μ·b + (1 − dampening)·d;
/// d = d + μ·b (Nesterov) or b; p −= lr·d.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor?[] _momentumBuffers;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="momentum">Momentum μ (0: none).</param>
    /// <param name="dampening">Dampening of the momentum's gradient term.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient.</param>
    /// <param name="nesterov">Nesterov momentum (needs momentum &gt; 0 and no dampening).</param>
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float dampening = 0f,
        float weightDecay = 0f, bool nesterov = false)
        : base(parameters, learningRate)
    {
        OptimizerChecks.NonNegative(nameof(Sgd), momentum, nameof(momentum));
        OptimizerChecks.NonNegative(nameof(Sgd), weightDecay, nameof(weightDecay));
        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException($"Sgd: Nesterov momentum needs momentum > 0 and dampening 0, got momentum {momentum} and dampening {dampening}.");
        }
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentumBuffers = new Tensor?[Parameters.Count];
    }

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }

    /// <summary>Dampening.</summary>
    public float Dampening { get; }

    /// <summary>L2 weight decay.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(gradient);
        Tensor? buffer = null;
        bool first = false;
        if (Momentum != 0f)
        {
            first = _momentumBuffers[index] == null;
            buffer = _momentumBuffers[index] ??= StateLike(parameter);
        }
        parameter.Backend.SgdUpdate(parameter, gradient, buffer, LearningRateOf(index), Momentum, Dampening, WeightDecay, Nesterov, first);
    }

    /// <inheritdoc/>
    protected override void DisposeState() => OptimizerChecks.DisposeAll(_momentumBuffers);

    /// <summary>For example <c>Sgd(lr=0.1, momentum=0.9, nesterov=true)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"Sgd(lr={LearningRate}, momentum={Momentum}, dampening={Dampening}, weight_decay={WeightDecay}, nesterov={(Nesterov ? "true" : "false")})");
}

/// <summary>Argument checks and state helpers shared by the optimizers.</summary>
internal static class OptimizerChecks
{
    public static void NonNegative(string optimizer, float value, string name)
    {
        if (!(value >= 0f))
        {
            throw new ArgumentOutOfRangeException(name, $"{optimizer}: {name} must be non-negative, got {value}.");
        }
    }

    public static void Beta(string optimizer, float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, $"{optimizer}: {name} must be in [0, 1), got {value}.");
        }
    }

    public static void DisposeAll(Tensor?[] state)
    {
        for (int i = 0; i < state.Length; i++)
        {
            state[i]?.Dispose();
            state[i] = null;
        }
    }
}
