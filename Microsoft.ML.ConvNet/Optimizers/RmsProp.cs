using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Optimizers;

/// <summary>
/// RMSprop with PyTorch's (1.13, non-centred) update: g' = g + wd·p; s = αs + (1 − α)g'²; a = √s + eps;
/// with momentum μ: b = μb + g'/a, p −= lr·b; without: p −= lr·g'/a.
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly Tensor?[] _squareAvg;
    private readonly Tensor?[] _momentumBuffers;

    /// <summary>Creates the optimizer (PyTorch's defaults).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="alpha">Decay of the squared-gradient average α.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient.</param>
    /// <param name="momentum">Momentum μ (0: none).</param>
    public RmsProp(IEnumerable<Tensor> parameters, float learningRate = 0.01f, float alpha = 0.99f, float eps = 1e-8f,
        float weightDecay = 0f, float momentum = 0f)
        : base(parameters, learningRate)
    {
        OptimizerChecks.NonNegative(nameof(RmsProp), alpha, nameof(alpha));
        OptimizerChecks.NonNegative(nameof(RmsProp), eps, nameof(eps));
        OptimizerChecks.NonNegative(nameof(RmsProp), weightDecay, nameof(weightDecay));
        OptimizerChecks.NonNegative(nameof(RmsProp), momentum, nameof(momentum));
        Alpha = alpha;
        Eps = eps;
        WeightDecay = weightDecay;
        Momentum = momentum;
        _squareAvg = new Tensor?[Parameters.Count];
        _momentumBuffers = new Tensor?[Parameters.Count];
    }

    /// <summary>α.</summary>
    public float Alpha { get; }

    /// <summary>Denominator epsilon.</summary>
    public float Eps { get; }

    /// <summary>L2 weight decay.</summary>
    public float WeightDecay { get; }

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(gradient);
        var square = _squareAvg[index] ??= StateLike(parameter);
        var buffer = Momentum > 0f ? _momentumBuffers[index] ??= StateLike(parameter) : null;
        parameter.Backend.RmsPropUpdate(parameter, gradient, square, buffer, LearningRateOf(index), Alpha, Eps, WeightDecay, Momentum);
    }

    /// <inheritdoc/>
    protected override void DisposeState()
    {
        OptimizerChecks.DisposeAll(_squareAvg);
        OptimizerChecks.DisposeAll(_momentumBuffers);
    }

    /// <summary>For example <c>RmsProp(lr=0.01, alpha=0.99, eps=1E-08, weight_decay=0, momentum=0)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"RmsProp(lr={LearningRate}, alpha={Alpha}, eps={Eps}, weight_decay={WeightDecay}, momentum={Momentum})");
}
