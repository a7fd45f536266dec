using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>Pooling: max, average, adaptive average (PyTorch's output sizes and window rules).</summary>
public static partial class Functional
{
    /// <summary>
    /// 2-D max pooling of x [N, C, H, W] (stride defaults to the kernel size). Padding counts as −∞; the gradient
    /// goes to the first maximum of each window. Output size per axis:
    /// ⌊(I + 2P − D(K − 1) − 1)/S⌋ + 1, or the ceiling in <paramref name="ceilMode"/>.
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        int s = CheckPoolArguments("MaxPool2d", kernelSize, stride, padding, dilation);
        var g = PoolGeometry.Create(x.Shape, kernelSize, kernelSize, s, s, padding, padding, dilation, dilation, ceilMode, "MaxPool2d");
        CheckWindowFits("MaxPool2d", x.Shape, g);
        return Pool2dFunction.Forward(PoolKind.Max, x, g);
    }

    /// <summary>
    /// 2-D average pooling of x [N, C, H, W] (stride defaults to the kernel size). With
    /// <paramref name="countIncludePad"/> the divisor counts the zero padding inside the window (PyTorch's default);
    /// otherwise only the input elements.
    /// </summary>
    public static Tensor AvgPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        int s = CheckPoolArguments("AvgPool2d", kernelSize, stride, padding, 1);
        var g = PoolGeometry.Create(x.Shape, kernelSize, kernelSize, s, s, padding, padding, 1, 1, ceilMode, "AvgPool2d");
        CheckWindowFits("AvgPool2d", x.Shape, g);
        return Pool2dFunction.Forward(countIncludePad ? PoolKind.AvgIncludePad : PoolKind.AvgExcludePad, x, g);
    }

    /// <summary>1-D max pooling of x [N, C, L] → [N, C, OL] (2-D max pooling of [N, C, 1, L]).</summary>
    public static Tensor MaxPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3)
        {
            throw new ShapeMismatchException($"MaxPool1d: expected input [N, C, L], got {x.Shape}.");
        }
        int s = CheckPoolArguments("MaxPool1d", kernelSize, stride, padding, dilation);
        var planes = x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]);
        var g = PoolGeometry.Create(planes.Shape, 1, kernelSize, 1, s, 0, padding, 1, dilation, ceilMode, "MaxPool1d");
        CheckWindowFits("MaxPool1d", x.Shape, g);
        var y = Pool2dFunction.Forward(PoolKind.Max, planes, g);
        return y.Reshape(g.N, g.C, g.OW);
    }

    /// <summary>
    /// Adaptive average pooling of x [N, C, H, W] to [N, C, outputH, outputW]: output i averages the inputs
    /// [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉) on each axis (windows may overlap when the sizes do not divide).
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outputH, int outputW)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4)
        {
            throw new ShapeMismatchException($"AdaptiveAvgPool2d: expected input [N, C, H, W], got {x.Shape}.");
        }
        if (outputH < 1 || outputW < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputH), $"AdaptiveAvgPool2d: output size ({outputH}, {outputW}) must be positive.");
        }
        return AdaptiveAvgPool2dFunction.Forward(x, outputH, outputW);
    }

    /// <summary>Global average pooling: [N, C, H, W] → [N, C, 1, 1].</summary>
    public static Tensor GlobalAvgPool2d(Tensor x) => AdaptiveAvgPool2d(x, 1, 1);

    /// <summary>The padded input must hold at least one whole (dilated) window on each axis.</summary>
    private static void CheckWindowFits(string operation, Shape input, in PoolGeometry g)
    {
        if (g.H + 2 * g.PadH < g.DilationH * (g.KernelH - 1) + 1 || g.W + 2 * g.PadW < g.DilationW * (g.KernelW - 1) + 1)
        {
            throw new ShapeMismatchException(
                $"{operation}: input {input} with padding ({g.PadH}, {g.PadW}) is smaller than the kernel ({g.KernelH}, {g.KernelW}) with dilation ({g.DilationH}, {g.DilationW}).");
        }
    }

    /// <summary>Validates pooling arguments and returns the effective stride.</summary>
    private static int CheckPoolArguments(string operation, int kernelSize, int? stride, int padding, int dilation)
    {
        int s = stride ?? kernelSize;
        if (kernelSize < 1 || s < 1 || dilation < 1 || padding < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize),
                $"{operation}: kernel ({kernelSize}), stride ({s}) and dilation ({dilation}) must be positive and padding ({padding}) non-negative.");
        }
        return s;
    }
}
