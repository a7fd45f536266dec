using System.Globalization;
using System.Text;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// 2-D max pooling over square windows: [N, C, H, W] → [N, C, OH, OW] with
/// OH = floor-or-ceil((H + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1. No parameters.
/// </summary>
public sealed class MaxPool2d : WindowPool
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="stride">Step between windows; the kernel size when null.</param>
    /// <param name="padding">Implicit −∞ padding on each side, at most half the kernel.</param>
    /// <param name="dilation">Spacing between window taps.</param>
    /// <param name="ceilMode">Round the output size up instead of down.</param>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : base(nameof(MaxPool2d), kernelSize, stride, padding, dilation, ceilMode)
    {
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, H, W]", 4);
        return LayerChecks.Run(this, input, () => Functional.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode));
    }

    /// <summary>For example <c>MaxPool2d(kernel=3, stride=2, padding=1)</c>.</summary>
    public override string ToString() => PoolChecks.Describe(nameof(MaxPool2d), KernelSize, Stride, Padding, Dilation, CeilMode, countIncludePad: true);
}

/// <summary>
/// 1-D max pooling: [N, C, L] → [N, C, OL], with the same output-size rule as <see cref="MaxPool2d"/>. No parameters.
/// </summary>
public sealed class MaxPool1d : WindowPool
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">Window length.</param>
    /// <param name="stride">Step between windows; the kernel size when null.</param>
    /// <param name="padding">Implicit −∞ padding on each side, at most half the kernel.</param>
    /// <param name="dilation">Spacing between window taps.</param>
    /// <param name="ceilMode">Round the output size up instead of down.</param>
    public MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : base(nameof(MaxPool1d), kernelSize, stride, padding, dilation, ceilMode)
    {
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, L]", 3);
        return LayerChecks.Run(this, input, () => Functional.MaxPool1d(input, KernelSize, Stride, Padding, Dilation, CeilMode));
    }

    /// <summary>For example <c>MaxPool1d(kernel=2)</c>.</summary>
    public override string ToString() => PoolChecks.Describe(nameof(MaxPool1d), KernelSize, Stride, Padding, Dilation, CeilMode, countIncludePad: true);
}

/// <summary>
/// 2-D average pooling over square windows: [N, C, H, W] → [N, C, OH, OW] (output size as <see cref="MaxPool2d"/>).
/// Padding counts in the divisor unless <c>countIncludePad</c> is false. No parameters.
/// </summary>
public sealed class AvgPool2d : WindowPool
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="stride">Step between windows; the kernel size when null.</param>
    /// <param name="padding">Implicit zero padding on each side, at most half the kernel.</param>
    /// <param name="ceilMode">Round the output size up instead of down.</param>
    /// <param name="countIncludePad">Whether padded zeros count in the divisor.</param>
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : base(nameof(AvgPool2d), kernelSize, stride, padding, 1, ceilMode)
    {
        CountIncludePad = countIncludePad;
    }

    /// <summary>Whether padded zeros count in the divisor.</summary>
    public bool CountIncludePad { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, H, W]", 4);
        return LayerChecks.Run(this, input, () => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad));
    }

    /// <summary>For example <c>AvgPool2d(kernel=2)</c>.</summary>
    public override string ToString() => PoolChecks.Describe(nameof(AvgPool2d), KernelSize, Stride, Padding, 1, CeilMode, CountIncludePad);
}

/// <summary>
/// Adaptive average pooling to a fixed output size, whatever the input size (PyTorch's window rule:
/// window i spans [floor(i·H/OH), ceil((i+1)·H/OH))). [N, C, H, W] → [N, C, OutputH, OutputW]. No parameters.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>Pools to a square <paramref name="outputSize"/> × <paramref name="outputSize"/> map.</summary>
    /// <param name="outputSize">Output height and width.</param>
    public AdaptiveAvgPool2d(int outputSize)
        : this(outputSize, outputSize)
    {
    }

    /// <summary>Pools to an <paramref name="outputH"/> × <paramref name="outputW"/> map.</summary>
    /// <param name="outputH">Output height.</param>
    /// <param name="outputW">Output width.</param>
    public AdaptiveAvgPool2d(int outputH, int outputW)
    {
        LayerChecks.Positive(outputH, nameof(outputH), nameof(AdaptiveAvgPool2d));
        LayerChecks.Positive(outputW, nameof(outputW), nameof(AdaptiveAvgPool2d));
        OutputH = outputH;
        OutputW = outputW;
    }

    /// <summary>Output height.</summary>
    public int OutputH { get; }

    /// <summary>Output width.</summary>
    public int OutputW { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, H, W]", 4);
        return LayerChecks.Run(this, input, () => Functional.AdaptiveAvgPool2d(input, OutputH, OutputW));
    }

    /// <summary>For example <c>AdaptiveAvgPool2d(7, 7)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"AdaptiveAvgPool2d({OutputH}, {OutputW})");
}

/// <summary>Global average pooling: [N, C, H, W] → [N, C, 1, 1] (the mean of each feature map). No parameters.</summary>
public sealed class GlobalAvgPool2d : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, H, W]", 4);
        return LayerChecks.Run(this, input, () => Functional.GlobalAvgPool2d(input));
    }
}

/// <summary>Base of the pooling layers with a sliding window: kernel, stride, padding, dilation and ceil mode.</summary>
public abstract class WindowPool : Module
{
    /// <summary>Validates and stores the window settings; the stride defaults to the kernel size.</summary>
    private protected WindowPool(string layer, int kernelSize, int? stride, int padding, int dilation, bool ceilMode)
    {
        PoolChecks.Validate(layer, kernelSize, stride, padding, dilation);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        Dilation = dilation;
        CeilMode = ceilMode;
    }

    /// <summary>Window size.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <summary>Implicit padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Spacing between window taps (1 for average pooling).</summary>
    public int Dilation { get; }

    /// <summary>Whether the output size is rounded up.</summary>
    public bool CeilMode { get; }
}

/// <summary>Argument checks and descriptions shared by the pooling layers.</summary>
internal static class PoolChecks
{
    public static void Validate(string layer, int kernelSize, int? stride, int padding, int dilation)
    {
        LayerChecks.Positive(kernelSize, nameof(kernelSize), layer);
        if (stride is int s)
        {
            LayerChecks.Positive(s, nameof(stride), layer);
        }
        LayerChecks.Positive(dilation, nameof(dilation), layer);
        LayerChecks.NonNegative(padding, nameof(padding), layer);
        if (padding > kernelSize / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), $"{layer}: padding ({padding}) must be at most half the kernel size ({kernelSize}).");
        }
    }

    public static string Describe(string layer, int kernel, int stride, int padding, int dilation, bool ceilMode, bool countIncludePad)
    {
        var sb = new StringBuilder(layer).Append("(kernel=").Append(kernel.ToString(CultureInfo.InvariantCulture));
        if (stride != kernel)
        {
            sb.Append(", stride=").Append(stride.ToString(CultureInfo.InvariantCulture));
        }
        if (padding != 0)
        {
            sb.Append(", padding=").Append(padding.ToString(CultureInfo.InvariantCulture));
        }
        if (dilation != 1)
        {
            sb.Append(", dilation=").Append(dilation.ToString(CultureInfo.InvariantCulture));
        }
        if (ceilMode)
        {
            sb.Append(", ceil_mode=true");
        }
        if (!countIncludePad)
        {
            sb.Append(", count_include_pad=false");
        }
        return sb.Append(')').ToString();
    }
}
