using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

// Placeholder signatures: convolution and linear.
public static partial class Functional
{
    /// <summary>2-D convolution: x [N, C, H, W], weight [K, C/groups, R, S], bias [K] → [N, K, OH, OW].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>2-D convolution with per-axis stride, padding and dilation.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups = 1)
        => throw new NotImplementedException();

    /// <summary>1-D convolution: x [N, C, L], weight [K, C/groups, R], bias [K] → [N, K, OL].</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => throw new NotImplementedException();

    /// <summary>Transposed 2-D convolution: x [N, Cin, H, W], weight [Cin, Cout/groups, R, S], bias [Cout].</summary>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1)
        => throw new NotImplementedException();

    /// <summary>Fully connected: x [N, in], weight [out, in], bias [out] → [N, out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
        => throw new NotImplementedException();
}
