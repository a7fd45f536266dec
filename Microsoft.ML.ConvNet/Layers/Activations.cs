using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>max(0, x), elementwise, any shape.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Relu(input);
}

/// <summary>min(max(0, x), 6), elementwise (MobileNet).</summary>
public sealed class ReLU6 : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Relu6(input);
}

/// <summary>x for x &gt; 0, slope·x otherwise, elementwise.</summary>
/// <param name="negativeSlope">Slope for negative inputs.</param>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    /// <summary>Slope for negative inputs.</summary>
    public float NegativeSlope { get; } = negativeSlope;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.LeakyRelu(input, NegativeSlope);

    /// <summary>For example <c>LeakyReLU(negative_slope=0.01)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU(negative_slope={NegativeSlope})");
}

/// <summary>
/// Parametric ReLU: max(0, x) + a·min(0, x) with a learnable slope <c>weight</c> of shape [numParameters]: one slope
/// shared by all channels (1) or one per channel (axis 1).
/// </summary>
public sealed class PReLU : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numParameters">1 (shared slope) or the number of channels.</param>
    /// <param name="init">Initial slope.</param>
    public PReLU(int numParameters = 1, float init = 0.25f)
    {
        LayerChecks.Positive(numParameters, nameof(numParameters), nameof(PReLU));
        Weight = RegisterParameter("weight", Tensor.Full(new Shape(numParameters), init));
    }

    /// <summary>The slopes (parameter <c>weight</c>).</summary>
    public Tensor Weight { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Weight.Size != 1 && (input.Rank < 2 || input.Shape[1] != Weight.Size))
        {
            throw new ShapeMismatchException($"{this}: input {input.Shape} needs {Weight.Size} channel(s) on axis 1, one per slope.");
        }
        return Functional.PRelu(input, Weight);
    }

    /// <summary>For example <c>PReLU(num_parameters=1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"PReLU(num_parameters={Weight.Size})");
}

/// <summary>x for x &gt; 0, α(eˣ − 1) otherwise, elementwise.</summary>
/// <param name="alpha">Scale α of the negative part.</param>
public sealed class ELU(float alpha = 1f) : Module
{
    /// <summary>Scale α of the negative part.</summary>
    public float Alpha { get; } = alpha;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Elu(input, Alpha);

    /// <summary>For example <c>ELU(alpha=1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ELU(alpha={Alpha})");
}

/// <summary>Self-normalising ELU (scale 1.0507, α 1.6733), elementwise.</summary>
public sealed class SELU : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Selu(input);
}

/// <summary>Gaussian error linear unit x·Φ(x) (exact erf form), elementwise.</summary>
public sealed class GELU : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Gelu(input);
}

/// <summary>Logistic sigmoid 1/(1 + e⁻ˣ), elementwise.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Sigmoid(input);
}

/// <summary>Hyperbolic tangent, elementwise.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Tanh(input);
}

/// <summary>x·sigmoid(x) (Swish), elementwise.</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Silu(input);
}

/// <summary>x·relu6(x + 3)/6, elementwise (MobileNet v3).</summary>
public sealed class Hardswish : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Hardswish(input);
}

/// <summary>relu6(x + 3)/6, elementwise (MobileNet v3).</summary>
public sealed class Hardsigmoid : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Hardsigmoid(input);
}

/// <summary>Softmax along one axis: eˣⁱ / Σⱼ eˣʲ.</summary>
/// <param name="axis">The axis normalised (1: the class axis of [N, C] and [N, C, H, W]); negative counts from the end.</param>
public sealed class Softmax(int axis = 1) : Module
{
    /// <summary>The axis normalised.</summary>
    public int Axis { get; } = axis;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return LayerChecks.Run(this, input, () => Functional.Softmax(input, input.Shape.NormalizeAxis(Axis)));
    }

    /// <summary>For example <c>Softmax(axis=1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Softmax(axis={Axis})");
}

/// <summary>Log-softmax along one axis (numerically stable): xᵢ − log Σⱼ eˣʲ.</summary>
/// <param name="axis">The axis normalised (1: the class axis of [N, C] and [N, C, H, W]); negative counts from the end.</param>
public sealed class LogSoftmax(int axis = 1) : Module
{
    /// <summary>The axis normalised.</summary>
    public int Axis { get; } = axis;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return LayerChecks.Run(this, input, () => Functional.LogSoftmax(input, input.Shape.NormalizeAxis(Axis)));
    }

    /// <summary>For example <c>LogSoftmax(axis=1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LogSoftmax(axis={Axis})");
}
