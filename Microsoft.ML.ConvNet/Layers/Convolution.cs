using System.Text;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// 2-D convolution layer: input [N, InChannels, H, W] → [N, OutChannels, OH, OW] with
/// OH = (H + 2·padding − dilation·(kernel − 1) − 1) / stride + 1. Parameters <c>weight</c>
/// [OutChannels, InChannels/groups, kH, kW] and <c>bias</c> [OutChannels], initialised as PyTorch does
/// (Kaiming uniform with a = √5, i.e. U(±1/√fan_in), bias U(±1/√fan_in)).
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer; kernel, stride, padding and dilation take an int or a (h, w) pair.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output (number of filters).</param>
    /// <param name="kernelSize">Filter size.</param>
    /// <param name="stride">Step between windows (1 when null).</param>
    /// <param name="padding">Zero padding on each side (0 when null).</param>
    /// <param name="dilation">Spacing between filter taps (1 when null).</param>
    /// <param name="groups">Channel groups (depthwise: groups = inChannels); both channel counts must divide by it.</param>
    /// <param name="bias">Whether to add a learnable bias.</param>
    /// <param name="random">Generator for the initial weights; a fork of <see cref="RandomSource.Shared"/> when null.</param>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, int groups = 1, bool bias = true, Random? random = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        ConvChecks.Validate(nameof(Conv2d), inChannels, outChannels, groups, kernelSize, Stride, Padding, Dilation);
        Weight = RegisterParameter("weight", Tensor.Empty(new Shape(outChannels, inChannels / groups, kernelSize.H, kernelSize.W)));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new Shape(outChannels))) : null;
        Init.DefaultLayerInit(Weight, Bias, random);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Filter size (height, width).</summary>
    public Size2 KernelSize { get; }

    /// <summary>Stride (height, width).</summary>
    public Size2 Stride { get; }

    /// <summary>Zero padding (height, width).</summary>
    public Size2 Padding { get; }

    /// <summary>Dilation (height, width).</summary>
    public Size2 Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>The filters [OutChannels, InChannels/Groups, kH, kW] (parameter <c>weight</c>).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [OutChannels] (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {InChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, InChannels);
        return LayerChecks.Run(this, input, () => Functional.Conv2d(input, Weight, Bias, Stride.ToTuple(), Padding.ToTuple(), Dilation.ToTuple(), Groups));
    }

    /// <summary>For example <c>Conv2d(3→16, kernel=3, stride=2, padding=1)</c>; settings at their defaults are left out.</summary>
    public override string ToString()
        => ConvChecks.Describe(nameof(Conv2d), InChannels, OutChannels, KernelSize.ToString(), Stride.ToString(), Padding.ToString(),
            Dilation.ToString(), Groups, Bias != null, outputPadding: null);
}

/// <summary>
/// 1-D convolution layer: input [N, InChannels, L] → [N, OutChannels, OL]. Parameters <c>weight</c>
/// [OutChannels, InChannels/groups, kernel] and <c>bias</c> [OutChannels], PyTorch's default initialisation.
/// </summary>
public sealed class Conv1d : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="kernelSize">Filter length.</param>
    /// <param name="stride">Step between windows.</param>
    /// <param name="padding">Zero padding on each side.</param>
    /// <param name="dilation">Spacing between filter taps.</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="bias">Whether to add a learnable bias.</param>
    /// <param name="random">Generator for the initial weights; a fork of <see cref="RandomSource.Shared"/> when null.</param>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Random? random = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        ConvChecks.Validate(nameof(Conv1d), inChannels, outChannels, groups, kernelSize, stride, padding, dilation);
        Weight = RegisterParameter("weight", Tensor.Empty(new Shape(outChannels, inChannels / groups, kernelSize)));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new Shape(outChannels))) : null;
        Init.DefaultLayerInit(Weight, Bias, random);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Filter length.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>The filters [OutChannels, InChannels/Groups, kernel] (parameter <c>weight</c>).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [OutChannels] (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {InChannels}, L]", 3);
        LayerChecks.Channels(this, input, InChannels);
        return LayerChecks.Run(this, input, () => Functional.Conv1d(input, Weight, Bias, Stride, Padding, Dilation, Groups));
    }

    /// <summary>For example <c>Conv1d(8→16, kernel=5, padding=2)</c>.</summary>
    public override string ToString()
        => ConvChecks.Describe(nameof(Conv1d), InChannels, OutChannels, ToText(KernelSize), ToText(Stride), ToText(Padding),
            ToText(Dilation), Groups, Bias != null, outputPadding: null);

    private static string ToText(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Transposed 2-D convolution (the gradient of a convolution with respect to its input; "deconvolution"):
/// input [N, InChannels, H, W] → [N, OutChannels, OH, OW] with
/// OH = (H − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1. Parameters <c>weight</c>
/// [InChannels, OutChannels/groups, k, k] and <c>bias</c> [OutChannels]; PyTorch's default initialisation
/// (whose fan-in is taken from dimension 1 of the weight, OutChannels/groups·k²).
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>Creates the layer (argument order as PyTorch's <c>ConvTranspose2d</c>).</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="kernelSize">Square filter size.</param>
    /// <param name="stride">Upsampling factor.</param>
    /// <param name="padding">Removes dilation·(kernel − 1) − padding rows and columns from each side of the full output.</param>
    /// <param name="outputPadding">Extra rows and columns on one side, to choose among the output sizes a stride allows; less than stride or dilation.</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="bias">Whether to add a learnable bias.</param>
    /// <param name="dilation">Spacing between filter taps.</param>
    /// <param name="random">Generator for the initial weights; a fork of <see cref="RandomSource.Shared"/> when null.</param>
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0,
        int groups = 1, bool bias = true, int dilation = 1, Random? random = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        Groups = groups;
        Dilation = dilation;
        ConvChecks.Validate(nameof(ConvTranspose2d), inChannels, outChannels, groups, kernelSize, stride, padding, dilation);
        if (outputPadding < 0 || (outputPadding >= stride && outputPadding >= dilation))
        {
            throw new ArgumentOutOfRangeException(nameof(outputPadding),
                $"{nameof(ConvTranspose2d)}: outputPadding ({outputPadding}) must be non-negative and smaller than either stride ({stride}) or dilation ({dilation}).");
        }
        Weight = RegisterParameter("weight", Tensor.Empty(new Shape(inChannels, outChannels / groups, kernelSize, kernelSize)));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new Shape(outChannels))) : null;
        Init.DefaultLayerInit(Weight, Bias, random);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Square filter size.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Padding.</summary>
    public int Padding { get; }

    /// <summary>Output padding.</summary>
    public int OutputPadding { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>The filters [InChannels, OutChannels/Groups, k, k] (parameter <c>weight</c>).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [OutChannels] (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {InChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, InChannels);
        return LayerChecks.Run(this, input, () => Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Dilation, Groups));
    }

    /// <summary>For example <c>ConvTranspose2d(16→8, kernel=3, stride=2, padding=1, output_padding=1)</c>.</summary>
    public override string ToString()
    {
        static string T(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ConvChecks.Describe(nameof(ConvTranspose2d), InChannels, OutChannels, T(KernelSize), T(Stride), T(Padding), T(Dilation),
            Groups, Bias != null, OutputPadding == 0 ? null : T(OutputPadding));
    }
}

/// <summary>Argument checks and descriptions shared by the convolution layers.</summary>
internal static class ConvChecks
{
    public static void Validate(string layer, int inChannels, int outChannels, int groups, Size2 kernel, Size2 stride, Size2 padding, Size2 dilation)
    {
        LayerChecks.Positive(inChannels, nameof(inChannels), layer);
        LayerChecks.Positive(outChannels, nameof(outChannels), layer);
        LayerChecks.Positive(groups, nameof(groups), layer);
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"{layer}: inChannels ({inChannels}) and outChannels ({outChannels}) must both be divisible by groups ({groups}).");
        }
        LayerChecks.Positive(kernel, "kernelSize", layer);
        LayerChecks.Positive(stride, nameof(stride), layer);
        LayerChecks.NonNegative(padding, nameof(padding), layer);
        LayerChecks.Positive(dilation, nameof(dilation), layer);
    }

    public static string Describe(string layer, int inChannels, int outChannels, string kernel, string stride, string padding,
        string dilation, int groups, bool bias, string? outputPadding)
    {
        var sb = new StringBuilder();
        sb.Append(layer).Append('(').Append(inChannels).Append('→').Append(outChannels).Append(", kernel=").Append(kernel);
        if (stride != "1")
        {
            sb.Append(", stride=").Append(stride);
        }
        if (padding != "0")
        {
            sb.Append(", padding=").Append(padding);
        }
        if (outputPadding != null)
        {
            sb.Append(", output_padding=").Append(outputPadding);
        }
        if (dilation != "1")
        {
            sb.Append(", dilation=").Append(dilation);
        }
        if (groups != 1)
        {
            sb.Append(", groups=").Append(groups);
        }
        if (!bias)
        {
            sb.Append(", bias=false");
        }
        return sb.Append(')').ToString();
    }
}
