using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// The residual block of ResNet-18/34 (He et al., 2016), as torchvision builds it: two 3×3 convolutions with batch
/// norm, the first one strided, and an identity (or <see cref="Downsample"/>) shortcut:
/// out = ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)).
/// [N, InChannels, H, W] → [N, Planes, H/stride, W/stride]. Members <c>conv1</c>, <c>bn1</c>, <c>relu</c>, <c>conv2</c>,
/// <c>bn2</c>, <c>downsample</c> (when given).
/// </summary>
public sealed class BasicBlock : Module
{
    /// <summary>Output channels per "plane" (1: the block outputs <c>planes</c> channels).</summary>
    public const int Expansion = 1;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="planes">Channels of both convolutions and of the output.</param>
    /// <param name="stride">Stride of the first convolution (2 halves the resolution).</param>
    /// <param name="downsample">
    /// The shortcut projection, needed when the stride is not 1 or the channel count changes (ResNet uses a 1×1 strided
    /// convolution and batch norm, see <see cref="ResNet.MakeDownsample"/>); null for the identity shortcut.
    /// </param>
    public BasicBlock(int inChannels, int planes, int stride = 1, Module? downsample = null)
    {
        InChannels = inChannels;
        Planes = planes;
        Stride = stride;
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, planes, 3, stride, 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        Relu = RegisterModule("relu", new ReLU());
        Conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, 1, 1, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        if (downsample != null)
        {
            Downsample = RegisterModule("downsample", downsample);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Width of the block (its output channels).</summary>
    public int Planes { get; }

    /// <summary>Output channels (<see cref="Planes"/> · <see cref="Expansion"/>).</summary>
    public int OutChannels => Planes * Expansion;

    /// <summary>Stride of the first convolution.</summary>
    public int Stride { get; }

    /// <summary>First 3×3 convolution (<c>conv1</c>, strided).</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Batch norm after <see cref="Conv1"/> (<c>bn1</c>).</summary>
    public BatchNorm2d Bn1 { get; }

    /// <summary>The ReLU applied after <see cref="Bn1"/> and after the addition (<c>relu</c>).</summary>
    public ReLU Relu { get; }

    /// <summary>Second 3×3 convolution (<c>conv2</c>).</summary>
    public Conv2d Conv2 { get; }

    /// <summary>Batch norm after <see cref="Conv2"/> (<c>bn2</c>).</summary>
    public BatchNorm2d Bn2 { get; }

    /// <summary>The shortcut projection (<c>downsample</c>), or null for the identity.</summary>
    public Module? Downsample { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var identity = Downsample != null ? Downsample.Forward(input) : input;
        var x = ConvBatchNormFolding.ConvNormActivation(Conv1, Bn1, Relu, input);
        if (ConvBatchNormFolding.CanFold(Conv2, Bn2, x, identity))
        {
            var y = ConvBatchNormFolding.Forward(Conv2, Bn2, x, FusedActivation.Relu, identity, this);
            ReleaseIntermediate(x, y);
            if (!ReferenceEquals(identity, input))
            {
                ReleaseIntermediate(identity, y);
            }
            return y;
        }
        x = Conv2.Forward(x);
        if (Bn2.TryForwardFused(x, FusedActivation.Relu, identity) is { } fused)
        {
            ResidualMath.ReleaseShortcut(identity, input);
            return fused;
        }
        return Relu.Forward(ResidualMath.AddShortcut(this, Bn2.Forward(x), identity));
    }

    /// <summary>For example <c>BasicBlock(64→128, stride=2, downsample)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"BasicBlock({InChannels}→{OutChannels}{(Stride != 1 ? $", stride={Stride}" : string.Empty)}{(Downsample != null ? ", downsample" : string.Empty)})");
}

/// <summary>
/// The bottleneck residual block of ResNet-50/101/152 in torchvision's "v1.5" form (the stride sits on the 3×3
/// convolution): 1×1 reduce → 3×3 (strided, grouped) → 1×1 expand, each with batch norm, plus the shortcut, then ReLU.
/// The inner width is ⌊planes · baseWidth / 64⌋ · groups, which gives ResNeXt (groups 32, base width 4) and Wide
/// ResNet (base width 128); the output has planes · 4 channels. With a squeeze-and-excitation reduction it is the
/// SE-ResNet block of Hu et al. (2018): a <see cref="SqueezeExcitation"/> (<c>se</c>) reweights the channels after
/// <c>bn3</c>, before the addition. Members <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>conv3</c>, <c>bn3</c>,
/// <c>relu</c>, <c>se</c> (when used), <c>downsample</c> (when given).
/// </summary>
public sealed class Bottleneck : Module
{
    /// <summary>Output channels per "plane" (4: the block outputs 4·planes channels).</summary>
    public const int Expansion = 4;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="planes">Base width; the output has 4·planes channels.</param>
    /// <param name="stride">Stride of the 3×3 convolution.</param>
    /// <param name="downsample">The shortcut projection (see <see cref="ResNet.MakeDownsample"/>), or null for the identity.</param>
    /// <param name="groups">Groups of the 3×3 convolution (ResNeXt's cardinality).</param>
    /// <param name="baseWidth">Width per group at planes = 64 (64 for ResNet, 4 for ResNeXt 32×4d, 128 for Wide ResNet-50-2).</param>
    /// <param name="seReduction">Squeeze-and-excitation reduction ratio (16 in SE-ResNet); 0 for none.</param>
    public Bottleneck(int inChannels, int planes, int stride = 1, Module? downsample = null, int groups = 1, int baseWidth = 64, int seReduction = 0)
    {
        LayerChecks.Positive(planes, nameof(planes), nameof(Bottleneck));
        LayerChecks.Positive(groups, nameof(groups), nameof(Bottleneck));
        LayerChecks.Positive(baseWidth, nameof(baseWidth), nameof(Bottleneck));
        LayerChecks.NonNegative(seReduction, nameof(seReduction), nameof(Bottleneck));
        InChannels = inChannels;
        Planes = planes;
        Stride = stride;
        Groups = groups;
        Width = (int)(planes * (baseWidth / 64.0)) * groups;
        int outChannels = planes * Expansion;
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, Width, 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(Width));
        Conv2 = RegisterModule("conv2", new Conv2d(Width, Width, 3, stride, 1, groups: groups, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(Width));
        Conv3 = RegisterModule("conv3", new Conv2d(Width, outChannels, 1, bias: false));
        Bn3 = RegisterModule("bn3", new BatchNorm2d(outChannels));
        Relu = RegisterModule("relu", new ReLU());
        if (seReduction > 0)
        {
            if (outChannels / seReduction < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(seReduction), seReduction,
                    $"Bottleneck: a squeeze-and-excitation reduction of {seReduction} leaves no channels of {outChannels}.");
            }
            SqueezeExcitation = RegisterModule("se", new SqueezeExcitation(outChannels, outChannels / seReduction));
        }
        if (downsample != null)
        {
            Downsample = RegisterModule("downsample", downsample);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Base width (the output has 4·<see cref="Planes"/> channels).</summary>
    public int Planes { get; }

    /// <summary>Output channels (<see cref="Planes"/> · <see cref="Expansion"/>).</summary>
    public int OutChannels => Planes * Expansion;

    /// <summary>Channels of the inner 1×1 and 3×3 convolutions.</summary>
    public int Width { get; }

    /// <summary>Stride of the 3×3 convolution.</summary>
    public int Stride { get; }

    /// <summary>Groups of the 3×3 convolution.</summary>
    public int Groups { get; }

    /// <summary>1×1 reducing convolution (<c>conv1</c>).</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Batch norm after <see cref="Conv1"/> (<c>bn1</c>).</summary>
    public BatchNorm2d Bn1 { get; }

    /// <summary>3×3 strided, grouped convolution (<c>conv2</c>).</summary>
    public Conv2d Conv2 { get; }

    /// <summary>Batch norm after <see cref="Conv2"/> (<c>bn2</c>).</summary>
    public BatchNorm2d Bn2 { get; }

    /// <summary>1×1 expanding convolution (<c>conv3</c>).</summary>
    public Conv2d Conv3 { get; }

    /// <summary>Batch norm after <see cref="Conv3"/> (<c>bn3</c>).</summary>
    public BatchNorm2d Bn3 { get; }

    /// <summary>The ReLU used after bn1, bn2 and the addition (<c>relu</c>).</summary>
    public ReLU Relu { get; }

    /// <summary>The squeeze-and-excitation block (<c>se</c>), or null.</summary>
    public SqueezeExcitation? SqueezeExcitation { get; }

    /// <summary>The shortcut projection (<c>downsample</c>), or null for the identity.</summary>
    public Module? Downsample { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var identity = Downsample != null ? Downsample.Forward(input) : input;
        var x1 = ConvBatchNormFolding.ConvNormActivation(Conv1, Bn1, Relu, input);
        var x = ConvBatchNormFolding.ConvNormActivation(Conv2, Bn2, Relu, x1);
        ReleaseIntermediate(x1, x);
        if (SqueezeExcitation == null && ConvBatchNormFolding.CanFold(Conv3, Bn3, x, identity))
        {
            var y = ConvBatchNormFolding.Forward(Conv3, Bn3, x, FusedActivation.Relu, identity, this);
            ReleaseIntermediate(x, y);
            if (!ReferenceEquals(identity, input))
            {
                ReleaseIntermediate(identity, y);
            }
            return y;
        }
        x = Conv3.Forward(x);
        if (SqueezeExcitation == null && Bn3.TryForwardFused(x, FusedActivation.Relu, identity) is { } fused)
        {
            ResidualMath.ReleaseShortcut(identity, input);
            return fused;
        }
        x = Bn3.Forward(x);
        if (SqueezeExcitation != null)
        {
            x = SqueezeExcitation.Forward(x);
        }
        return Relu.Forward(ResidualMath.AddShortcut(this, x, identity));
    }

    /// <summary>For example <c>Bottleneck(256→512, width=128, stride=2, groups=32, se, downsample)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"Bottleneck({InChannels}→{OutChannels}, width={Width}{(Stride != 1 ? $", stride={Stride}" : string.Empty)}{(Groups != 1 ? $", groups={Groups}" : string.Empty)}{(SqueezeExcitation != null ? ", se" : string.Empty)}{(Downsample != null ? ", downsample" : string.Empty)})");
}

/// <summary>
/// Squeeze-and-excitation (Hu et al., 2018), as torchvision.ops.SqueezeExcitation: global average pooling (squeeze),
/// a 1×1 convolution C → S with bias (<c>fc1</c>), an activation (ReLU by default), a 1×1 convolution S → C with bias
/// (<c>fc2</c>) and a gate (sigmoid by default) whose [N, C, 1, 1] output rescales the input channels.
/// [N, C, H, W] → [N, C, H, W]; 2·C·S + C + S parameters. The 1×1 convolutions on the pooled [N, C, 1, 1] map are
/// exactly the paper's fully connected layers.
/// </summary>
public sealed class SqueezeExcitation : Module
{
    /// <summary>Creates the block.</summary>
    /// <param name="channels">Channels of the input and output.</param>
    /// <param name="squeezeChannels">Channels of the bottleneck (C / reduction; C/16 in SE-ResNet).</param>
    /// <param name="activation">Creates the activation between the two layers (ReLU when null).</param>
    /// <param name="scaleActivation">Creates the gate (sigmoid when null; MobileNet v3 uses a hard sigmoid).</param>
    public SqueezeExcitation(int channels, int squeezeChannels, Func<Module>? activation = null, Func<Module>? scaleActivation = null)
    {
        LayerChecks.Positive(channels, nameof(channels), nameof(SqueezeExcitation));
        LayerChecks.Positive(squeezeChannels, nameof(squeezeChannels), nameof(SqueezeExcitation));
        Channels = channels;
        SqueezeChannels = squeezeChannels;
        AvgPool = RegisterModule("avgpool", new GlobalAvgPool2d());
        Fc1 = RegisterModule("fc1", new Conv2d(channels, squeezeChannels, 1));
        Fc2 = RegisterModule("fc2", new Conv2d(squeezeChannels, channels, 1));
        Activation = RegisterModule("activation", activation?.Invoke() ?? new ReLU());
        ScaleActivation = RegisterModule("scale_activation", scaleActivation?.Invoke() ?? new Sigmoid());
    }

    /// <summary>Channels of the input and output.</summary>
    public int Channels { get; }

    /// <summary>Channels of the bottleneck.</summary>
    public int SqueezeChannels { get; }

    /// <summary>Global average pooling (<c>avgpool</c>).</summary>
    public GlobalAvgPool2d AvgPool { get; }

    /// <summary>Reducing 1×1 convolution with bias (<c>fc1</c>): weight [S, C, 1, 1], bias [S].</summary>
    public Conv2d Fc1 { get; }

    /// <summary>Expanding 1×1 convolution with bias (<c>fc2</c>): weight [C, S, 1, 1], bias [C].</summary>
    public Conv2d Fc2 { get; }

    /// <summary>The activation between <see cref="Fc1"/> and <see cref="Fc2"/> (<c>activation</c>).</summary>
    public Module Activation { get; }

    /// <summary>The gate (<c>scale_activation</c>).</summary>
    public Module ScaleActivation { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {Channels}, H, W]", 4);
        LayerChecks.Channels(this, input, Channels);
        var scale = ScaleActivation.Forward(Fc2.Forward(Activation.Forward(Fc1.Forward(AvgPool.Forward(input)))));
        return input * scale;
    }

    /// <summary>For example <c>SqueezeExcitation(256→16)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SqueezeExcitation({Channels}→{SqueezeChannels})");
}

/// <summary>Helpers shared by the residual blocks.</summary>
internal static class ResidualMath
{
    /// <summary>x + shortcut, with an error naming the block and both shapes when they differ.</summary>
    public static Tensor AddShortcut(Module block, Tensor x, Tensor shortcut)
    {
        if (x.Shape != shortcut.Shape)
        {
            throw new ShapeMismatchException(
                $"{block}: the residual branch gives {x.Shape} but the shortcut gives {shortcut.Shape}; " +
                "a block that changes the stride or the channels needs a downsample projection.");
        }
        return x + shortcut;
    }

    /// <summary>
    /// After a fused batch norm added the shortcut: frees a projected shortcut's values when no backward pass reads them
    /// (a batch norm's output), which training would otherwise hold until the backward pass reaches the projection.
    /// </summary>
    public static void ReleaseShortcut(Tensor shortcut, Tensor input)
    {
        if (!ReferenceEquals(shortcut, input))
        {
            Module.ReleaseUnreadValues(shortcut);
        }
    }
}
