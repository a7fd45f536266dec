using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

// Convolution and linear layers.
public static partial class Functional
{
    /// <summary>2-D convolution: x [N, C, H, W], weight [K, C/groups, R, S], bias [K] → [N, K, OH, OW].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>2-D convolution with per-axis stride, padding and dilation.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups = 1)
        => Conv2dFunction.Forward(x, weight, bias, stride, padding, dilation, groups);

    /// <summary>1-D convolution: x [N, C, L], weight [K, C/groups, R], bias [K] → [N, K, OL].</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 3 || weight.Rank != 3)
        {
            throw new ShapeMismatchException("Conv1d", x.Shape, weight.Shape, "input must be [N, C, L] and weight [K, C/groups, R]");
        }
        var x4 = x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]);
        var w4 = weight.Reshape(weight.Shape[0], weight.Shape[1], 1, weight.Shape[2]);
        var y4 = Conv2dFunction.Forward(x4, w4, bias, (1, stride), (0, padding), (1, dilation), groups);
        return y4.Reshape(y4.Shape[0], y4.Shape[1], y4.Shape[3]);
    }

    /// <summary>Transposed 2-D convolution: x [N, Cin, H, W], weight [Cin, Cout/groups, R, S], bias [Cout].</summary>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1)
        => ConvTranspose2dFunction.Forward(x, weight, bias, stride, padding, outputPadding, dilation, groups);

    /// <summary>
    /// Fully connected: x [N, in], weight [out, in], bias [out] → [N, out] = x·weightᵀ + bias. Any leading axes are
    /// kept: x [..., in] → [..., out].
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
        => LinearFunction.Forward(x, weight, bias);
}
