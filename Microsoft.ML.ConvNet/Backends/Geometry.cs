using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends;

/// <summary>
/// Everything a 2-D convolution kernel needs: input [N, C, H, W], filter [K, C/Groups, R, S], output [N, K, OH, OW].
/// Output size per axis: O = (I + 2P − D·(F − 1) − 1) / S + 1, i.e. W2 = (W1 − F + 2P)/S + 1 without dilation.
/// </summary>
public readonly record struct ConvGeometry(
    int N, int C, int H, int W, int K, int R, int S,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups)
{
    /// <summary>Output height.</summary>
    public int OH => OutputSize(H, R, StrideH, PadH, DilationH);

    /// <summary>Output width.</summary>
    public int OW => OutputSize(W, S, StrideW, PadW, DilationW);

    /// <summary>Input channels per group.</summary>
    public int CPerGroup => C / Groups;

    /// <summary>Output channels per group.</summary>
    public int KPerGroup => K / Groups;

    /// <summary>Output spatial size of a convolution: (input + 2·pad − dilation·(kernel − 1) − 1) / stride + 1.</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation = 1)
    {
        int span = input + 2 * pad - dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>Builds and validates the geometry from the input and filter shapes; errors name both shapes.</summary>
    public static ConvGeometry Create(Shape x, Shape w, int strideH, int strideW, int padH, int padW,
        int dilationH, int dilationW, int groups, string operation = "Conv2d")
    {
        if (x.Rank != 4 || w.Rank != 4)
        {
            throw new ShapeMismatchException(operation, x, w, "input must be [N, C, H, W] and weight [K, C/groups, R, S]");
        }
        if (groups < 1 || x[1] % groups != 0 || w[0] % groups != 0)
        {
            throw new ShapeMismatchException(operation, x, w, $"channels must be divisible by groups={groups}");
        }
        if (w[1] * groups != x[1])
        {
            throw new ShapeMismatchException(operation, x, w, $"input has {x[1]} channels but the weight expects {w[1] * groups} (groups={groups})");
        }
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0)
        {
            throw new ArgumentException($"{operation}: stride and dilation must be >= 1 and padding >= 0.");
        }
        var g = new ConvGeometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], strideH, strideW, padH, padW, dilationH, dilationW, groups);
        if (g.OH < 1 || g.OW < 1)
        {
            throw new ShapeMismatchException(operation, x, w, $"the output would be {g.OH}x{g.OW}; the input is too small for the kernel");
        }
        return g;
    }
}

/// <summary>Pooling geometry: x [N, C, H, W] → y [N, C, OH, OW].</summary>
public readonly record struct PoolGeometry(
    int N, int C, int H, int W, int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW,
    int DilationH, int DilationW, int OH, int OW)
{
    /// <summary>
    /// Output size with PyTorch's rule: floor or ceil of (I + 2P − D(K−1) − 1)/S + 1; in ceil mode the last window
    /// must start inside the input or left padding.
    /// </summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        int span = input + 2 * pad - dilation * (kernel - 1) - 1;
        if (span < 0)
        {
            return 0;
        }
        int o = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceilMode && (o - 1) * stride >= input + pad)
        {
            o--;
        }
        return o;
    }

    /// <summary>Builds and validates the geometry.</summary>
    public static PoolGeometry Create(Shape x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
        int dilationH, int dilationW, bool ceilMode, string operation)
    {
        if (x.Rank != 4)
        {
            throw new ShapeMismatchException($"{operation}: expected input [N, C, H, W], got {x}.");
        }
        if (padH > kernelH / 2 || padW > kernelW / 2)
        {
            throw new ArgumentException($"{operation}: padding ({padH}, {padW}) must be at most half the kernel ({kernelH}, {kernelW}).");
        }
        int oh = OutputSize(x[2], kernelH, strideH, padH, dilationH, ceilMode);
        int ow = OutputSize(x[3], kernelW, strideW, padW, dilationW, ceilMode);
        if (oh < 1 || ow < 1)
        {
            throw new ShapeMismatchException($"{operation}: input {x} is too small for kernel ({kernelH}, {kernelW}).");
        }
        return new PoolGeometry(x[0], x[1], x[2], x[3], kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, oh, ow);
    }
}

/// <summary>The three computations of a convolution layer, for backends that choose an algorithm per direction.</summary>
internal enum ConvDirection
{
    /// <summary>y from x and w.</summary>
    Forward,

    /// <summary>dx from dy and w.</summary>
    BackwardData,

    /// <summary>dw from x and dy.</summary>
    BackwardFilter,
}
