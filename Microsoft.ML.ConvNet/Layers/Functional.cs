using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Stateless neural-network operations on tensors, each differentiable. Layers (<see cref="Module"/>s) hold
/// parameters and call these. Split by concern into partial files (activations here; convolution, pooling,
/// normalisation, losses beside).
/// </summary>
public static partial class Functional
{
    /// <summary>max(0, x).</summary>
    public static Tensor Relu(Tensor x) => UnaryFunction.Forward(UnaryOp.Relu, x);

    /// <summary>min(max(0, x), 6) (MobileNet).</summary>
    public static Tensor Relu6(Tensor x) => UnaryFunction.Forward(UnaryOp.Relu6, x);

    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f) => UnaryFunction.Forward(UnaryOp.LeakyRelu, x, negativeSlope);

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise.</summary>
    public static Tensor Elu(Tensor x, float alpha = 1f) => UnaryFunction.Forward(UnaryOp.Elu, x, alpha);

    /// <summary>Self-normalising ELU with the standard constants.</summary>
    public static Tensor Selu(Tensor x) => UnaryFunction.Forward(UnaryOp.Selu, x);

    /// <summary>Gaussian error linear unit, exact (erf) form.</summary>
    public static Tensor Gelu(Tensor x) => UnaryFunction.Forward(UnaryOp.Gelu, x);

    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) => UnaryFunction.Forward(UnaryOp.Sigmoid, x);

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => UnaryFunction.Forward(UnaryOp.Tanh, x);

    /// <summary>x·sigmoid(x), also called Swish.</summary>
    public static Tensor Silu(Tensor x) => UnaryFunction.Forward(UnaryOp.Silu, x);

    /// <summary>x·relu6(x + 3)/6 (MobileNet v3).</summary>
    public static Tensor Hardswish(Tensor x) => UnaryFunction.Forward(UnaryOp.Hardswish, x);

    /// <summary>relu6(x + 3)/6 (MobileNet v3).</summary>
    public static Tensor Hardsigmoid(Tensor x) => UnaryFunction.Forward(UnaryOp.Hardsigmoid, x);

    /// <summary>
    /// Parametric ReLU: max(0, x) + a·min(0, x), with a learnable slope <paramref name="weight"/> of shape [1] (shared)
    /// or [C] (one per channel, axis 1).
    /// </summary>
    public static Tensor PRelu(Tensor x, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 1 || (weight.Size != 1 && (x.Rank < 2 || weight.Size != x.Shape[1])))
        {
            throw new ShapeMismatchException("PReLU", x.Shape, weight.Shape, "the slope must be [1] or [channels]");
        }
        var dims = new int[Math.Max(x.Rank, 1)];
        Array.Fill(dims, 1);
        if (weight.Size != 1)
        {
            dims[1] = weight.Size;
        }
        var a = weight.Reshape(dims);
        var positive = Relu(x);
        var negative = Relu(x.Neg()).Neg();
        return positive + negative * a;
    }

    /// <summary>Softmax along <paramref name="axis"/>.</summary>
    public static Tensor Softmax(Tensor x, int axis = -1) => SoftmaxFunction.Forward(x, axis, log: false);

    /// <summary>Log-softmax along <paramref name="axis"/> (numerically stable).</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => SoftmaxFunction.Forward(x, axis, log: true);

    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability <paramref name="p"/> and scales the rest
    /// by 1/(1 − p), drawing the mask from <paramref name="random"/> (seeded ⇒ reproducible). Identity when not training.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Random random)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(random);
        if (p < 0f || p >= 1f)
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability must be in [0, 1), got {p}.");
        }
        if (!training || p == 0f)
        {
            return x;
        }
        var mask = new float[x.Size];
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = random.NextDouble() < p ? 0f : keep;
        }
        var m = Tensor.FromArray(mask, x.Shape, x.Device);
        return x * m;
    }
}
