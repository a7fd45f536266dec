using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Optimizers;

/// <summary>
/// Adam with PyTorch's (1.13) update, per parameter with its own step count t:
/// g' = g + wd·p (L2 decay in the gradient); m = β₁m + (1 − β₁)g'; v = β₂v + (1 − β₂)g'²;
/// p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps). See <see cref="AdamW"/> for decoupled weight decay.
/// </summary>
public class Adam : Optimizer
{
    private readonly Tensor?[] _m;
    private readonly Tensor?[] _v;
    private readonly int[] _steps;

    /// <summary>Creates the optimizer (PyTorch's defaults).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">Decay of the first-moment average β₁.</param>
    /// <param name="beta2">Decay of the second-moment average β₂.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient.</param>
    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 0f)
        : this(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: false)
    {
    }

    /// <summary>Creates the optimizer with L2 (<paramref name="decoupled"/> false) or decoupled weight decay.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">Decay of the first-moment average β₁.</param>
    /// <param name="beta2">Decay of the second-moment average β₂.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">Weight decay.</param>
    /// <param name="decoupled">True for AdamW's p ·= 1 − lr·wd instead of adding wd·p to the gradient.</param>
    protected Adam(IEnumerable<Tensor> parameters, float learningRate, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        string name = decoupled ? "AdamW" : "Adam";
        OptimizerChecks.Beta(name, beta1, nameof(beta1));
        OptimizerChecks.Beta(name, beta2, nameof(beta2));
        OptimizerChecks.NonNegative(name, eps, nameof(eps));
        OptimizerChecks.NonNegative(name, weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        Decoupled = decoupled;
        _m = new Tensor?[Parameters.Count];
        _v = new Tensor?[Parameters.Count];
        _steps = new int[Parameters.Count];
    }

    /// <summary>β₁.</summary>
    public float Beta1 { get; }

    /// <summary>β₂.</summary>
    public float Beta2 { get; }

    /// <summary>Denominator epsilon.</summary>
    public float Eps { get; }

    /// <summary>Weight decay.</summary>
    public float WeightDecay { get; }

    /// <summary>True when weight decay is decoupled from the gradient (AdamW).</summary>
    public bool Decoupled { get; }

    /// <summary>Steps taken by parameter <paramref name="index"/> (a parameter without a gradient at a step is not counted).</summary>
    public int ParameterStepCount(int index) => _steps[index];

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(gradient);
        var m = _m[index] ??= StateLike(parameter);
        var v = _v[index] ??= StateLike(parameter);
        int step = ++_steps[index];
        parameter.Backend.AdamUpdate(parameter, gradient, m, v, LearningRateOf(index), Beta1, Beta2, Eps, WeightDecay, Decoupled, step);
    }

    /// <inheritdoc/>
    protected override void DisposeState()
    {
        OptimizerChecks.DisposeAll(_m);
        OptimizerChecks.DisposeAll(_v);
    }

    /// <summary>For example <c>Adam(lr=0.001, betas=(0.9, 0.999), eps=1E-08, weight_decay=0)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"{(Decoupled ? "AdamW" : "Adam")}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={Eps}, weight_decay={WeightDecay})");
}

/// <summary>
/// AdamW: Adam with decoupled weight decay, PyTorch's (1.13) update: p ·= 1 − lr·wd, then the Adam step on the raw
/// gradient. The default weight decay is 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer (PyTorch's defaults).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">Decay of the first-moment average β₁.</param>
    /// <param name="beta2">Decay of the second-moment average β₂.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    public AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 0.01f)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: true)
    {
    }
}
