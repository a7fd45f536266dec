using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Separable convolution as in Xception: a k×k depthwise convolution <c>conv1</c> (groups = input channels) followed by
/// a 1×1 pointwise convolution <c>pointwise</c>, both without bias and with nothing in between.
/// </summary>
public sealed class SeparableConv2d : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Depthwise kernel size.</param>
    /// <param name="stride">Depthwise stride.</param>
    /// <param name="padding">Depthwise padding.</param>
    public SeparableConv2d(int inChannels, int outChannels, int kernelSize = 3, int stride = 1, int padding = 1)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, inChannels, kernelSize, stride, padding, groups: inChannels, bias: false));
        Pointwise = RegisterModule("pointwise", new Conv2d(inChannels, outChannels, 1, bias: false));
    }

    /// <summary>The depthwise convolution.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>The 1×1 pointwise convolution.</summary>
    public Conv2d Pointwise { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Pointwise.Forward(Conv1.Forward(input));

    /// <summary>For example <c>SeparableConv2d(728→728, k=3)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"SeparableConv2d({Conv1.InChannels}→{Pointwise.OutChannels}, k={Conv1.KernelSize.H})");
}

/// <summary>
/// An Xception block (Cadene / timm layout): <c>rep</c> = repeats of ReLU → <see cref="SeparableConv2d"/> 3×3 → BN
/// (the first ReLU omitted when the block does not start with one), then a 3×3 stride-s max pool when strided; the
/// shortcut is the input, or a 1×1 strided convolution <c>skip</c> + <c>skipbn</c> when the shape changes.
/// </summary>
public sealed class XceptionBlock : Module
{
    private readonly Conv2d? _skip;
    private readonly BatchNorm2d? _skipBn;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="repeats">Number of separable convolutions.</param>
    /// <param name="stride">Stride of the closing max pool (1: no pool).</param>
    /// <param name="startWithRelu">Whether the first separable convolution is preceded by a ReLU.</param>
    /// <param name="growFirst">Whether the first (true) or the last (false) separable convolution changes the width.</param>
    public XceptionBlock(int inChannels, int outChannels, int repeats, int stride = 1, bool startWithRelu = true, bool growFirst = true)
    {
        if (repeats < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(repeats), $"XceptionBlock: repeats must be at least 1, got {repeats}.");
        }
        if (outChannels != inChannels || stride != 1)
        {
            _skip = RegisterModule("skip", new Conv2d(inChannels, outChannels, 1, stride, bias: false));
            _skipBn = RegisterModule("skipbn", new BatchNorm2d(outChannels));
        }
        Rep = new Sequential();
        for (int i = 0; i < repeats; i++)
        {
            int inc = growFirst ? (i == 0 ? inChannels : outChannels) : inChannels;
            int outc = growFirst ? outChannels : (i < repeats - 1 ? inChannels : outChannels);
            if (i > 0 || startWithRelu)
            {
                Rep.Add(new ReLU());
            }
            Rep.Add(new SeparableConv2d(inc, outc, 3, 1, 1));
            Rep.Add(new BatchNorm2d(outc));
        }
        if (stride != 1)
        {
            Rep.Add(new MaxPool2d(3, stride, 1));
        }
        RegisterModule("rep", Rep);
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>The residual branch.</summary>
    public Sequential Rep { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = Rep.Forward(input);
        var skip = _skip != null ? _skipBn!.Forward(_skip.Forward(input)) : input;
        return x.Add(skip);
    }

    /// <summary>For example <c>XceptionBlock(64→128, stride=2)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"XceptionBlock({InChannels}→{OutChannels}, stride={Stride})");
}

/// <summary>
/// Xception (Chollet, 2017) in the Cadene / timm layout: entry flow <c>conv1</c> (3×3 stride 2, no padding) →
/// <c>bn1</c> → ReLU → <c>conv2</c> (3×3, no padding) → <c>bn2</c> → ReLU → <c>block1</c>–<c>block3</c> (128, 256, 728
/// channels, stride 2); middle flow <c>block4</c>–<c>block11</c> (728, three separable convolutions each); exit flow
/// <c>block12</c> (728 → 1024, stride 2), <c>conv3</c> separable 1536 → <c>bn3</c> → ReLU, <c>conv4</c> separable 2048 →
/// <c>bn4</c> → ReLU, global average pool, <c>fc</c>. 22 855 952 parameters for 1000 classes. The standard input is
/// 299×299 (at least 71×71 with no padding in the stem); the small-input stem pads both stem convolutions by 1 and gives
/// <c>conv1</c> stride 1.
/// </summary>
public sealed class Xception : Module
{
    private readonly XceptionBlock[] _blocks;

    /// <summary>Builds the network.</summary>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 and padding 1 in the stem convolutions (for 32×32 inputs).</param>
    public Xception(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
    {
        int pad = smallInput ? 1 : 0;
        Conv1 = RegisterModule("conv1", new Conv2d(inputChannels, 32, 3, smallInput ? 1 : 2, pad, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(32));
        Conv2 = RegisterModule("conv2", new Conv2d(32, 64, 3, 1, pad, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(64));
        var blocks = new List<XceptionBlock>
        {
            new(64, 128, 2, 2, startWithRelu: false),
            new(128, 256, 2, 2),
            new(256, 728, 2, 2),
        };
        for (int i = 0; i < 8; i++)
        {
            blocks.Add(new XceptionBlock(728, 728, 3, 1));
        }
        blocks.Add(new XceptionBlock(728, 1024, 2, 2, growFirst: false));
        for (int i = 0; i < blocks.Count; i++)
        {
            RegisterModule("block" + (i + 1).ToString(CultureInfo.InvariantCulture), blocks[i]);
        }
        _blocks = [.. blocks];
        Conv3 = RegisterModule("conv3", new SeparableConv2d(1024, 1536, 3, 1, 1));
        Bn3 = RegisterModule("bn3", new BatchNorm2d(1536));
        Conv4 = RegisterModule("conv4", new SeparableConv2d(1536, 2048, 3, 1, 1));
        Bn4 = RegisterModule("bn4", new BatchNorm2d(2048));
        Fc = RegisterModule("fc", new Linear(2048, numClasses));
    }

    /// <summary>First stem convolution.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Batch norm after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 { get; }

    /// <summary>Second stem convolution.</summary>
    public Conv2d Conv2 { get; }

    /// <summary>Batch norm after <see cref="Conv2"/>.</summary>
    public BatchNorm2d Bn2 { get; }

    /// <summary>The twelve blocks (entry, middle and exit flow).</summary>
    public IReadOnlyList<XceptionBlock> Blocks => _blocks;

    /// <summary>Exit-flow separable convolution to 1536 channels.</summary>
    public SeparableConv2d Conv3 { get; }

    /// <summary>Batch norm after <see cref="Conv3"/>.</summary>
    public BatchNorm2d Bn3 { get; }

    /// <summary>Exit-flow separable convolution to 2048 channels.</summary>
    public SeparableConv2d Conv4 { get; }

    /// <summary>Batch norm after <see cref="Conv4"/>.</summary>
    public BatchNorm2d Bn4 { get; }

    /// <summary>The final linear layer.</summary>
    public Linear Fc { get; }

    /// <summary>Builds the network from zoo options.</summary>
    public static Xception Create(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Xception(options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = Functional.Relu(Bn1.Forward(Conv1.Forward(input)));
        x = Functional.Relu(Bn2.Forward(Conv2.Forward(x)));
        foreach (var b in _blocks)
        {
            x = b.Forward(x);
        }
        x = Functional.Relu(Bn3.Forward(Conv3.Forward(x)));
        x = Functional.Relu(Bn4.Forward(Conv4.Forward(x)));
        return Fc.Forward(Functional.GlobalAvgPool2d(x).Flatten());
    }
}
