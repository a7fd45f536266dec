using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Channel shuffle (Zhang et al., 2018): [N, C, H, W] viewed as [N, g, C/g, H, W], axes 1 and 2 swapped, viewed back,
/// so that channel g·j + i of the output is channel i·(C/g) + j of the input. Differentiable; no parameters.
/// </summary>
/// <param name="groups">Number of groups g; C must divide by it.</param>
public sealed class ChannelShuffle(int groups) : Module
{
    /// <summary>Number of groups.</summary>
    public int Groups { get; } = groups > 0 ? groups : throw new ArgumentOutOfRangeException(nameof(groups), $"ChannelShuffle: groups must be positive, got {groups}.");

    /// <summary>Shuffles the channels of <paramref name="x"/> [N, C, H, W] across <paramref name="groups"/> groups.</summary>
    public static Tensor Shuffle(Tensor x, int groups)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || groups <= 0 || x.Shape[1] % groups != 0)
        {
            throw new ShapeMismatchException($"ChannelShuffle(groups={groups}): expected [N, C, H, W] with C divisible by {groups}, got {x.Shape}.");
        }
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        return x.Reshape(n, groups, c / groups, h, w).Permute(0, 2, 1, 3, 4).Reshape(n, c, h, w);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Shuffle(input, Groups);

    /// <summary>For example <c>ChannelShuffle(groups=2)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ChannelShuffle(groups={Groups})");
}

/// <summary>
/// The ShuffleNet v2 unit with torchvision's names. Stride 1: the channels are split in two halves; the first passes
/// through, the second goes through <c>branch2</c> (1×1 conv-BN-ReLU, 3×3 depthwise conv-BN, 1×1 conv-BN-ReLU). Stride
/// 2: both <c>branch1</c> (3×3 depthwise stride-2 conv-BN, 1×1 conv-BN-ReLU) and <c>branch2</c> see the whole input.
/// The halves are concatenated and shuffled with two groups. [N, in, H, W] → [N, out, H/stride, W/stride].
/// </summary>
public sealed class ShuffleNetV2Block : Module
{
    /// <summary>Creates the unit.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels (even).</param>
    /// <param name="stride">1 or 2; with 1, <paramref name="inChannels"/> must equal <paramref name="outChannels"/>.</param>
    public ShuffleNetV2Block(int inChannels, int outChannels, int stride)
    {
        if (stride is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(stride), $"ShuffleNetV2Block: stride must be 1 or 2, got {stride}.");
        }
        if (outChannels % 2 != 0 || (stride == 1 && inChannels != outChannels))
        {
            throw new ArgumentException($"ShuffleNetV2Block: with stride {stride}, {inChannels}→{outChannels} channels are not possible (stride 1 needs in = out, and out must be even).");
        }
        int branch = outChannels / 2;
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        if (stride > 1)
        {
            Branch1 = RegisterModule("branch1", new Sequential(
                new Conv2d(inChannels, inChannels, 3, stride, 1, groups: inChannels, bias: false),
                new BatchNorm2d(inChannels),
                new Conv2d(inChannels, branch, 1, bias: false),
                new BatchNorm2d(branch),
                new ReLU()));
        }
        Branch2 = RegisterModule("branch2", new Sequential(
            new Conv2d(stride > 1 ? inChannels : branch, branch, 1, bias: false),
            new BatchNorm2d(branch),
            new ReLU(),
            new Conv2d(branch, branch, 3, stride, 1, groups: branch, bias: false),
            new BatchNorm2d(branch),
            new Conv2d(branch, branch, 1, bias: false),
            new BatchNorm2d(branch),
            new ReLU()));
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>The downsampling branch (stride 2 only; null with stride 1).</summary>
    public Sequential? Branch1 { get; }

    /// <summary>The main branch.</summary>
    public Sequential Branch2 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Shape[1] != InChannels)
        {
            throw new ShapeMismatchException($"{this}: expected input [N, {InChannels}, H, W], got {input.Shape}.");
        }
        Tensor left, right;
        if (Branch1 == null)
        {
            int half = InChannels / 2;
            left = input.Slice(1, 0, half);
            right = Branch2.Forward(input.Slice(1, half, half));
        }
        else
        {
            left = Branch1.Forward(input);
            right = Branch2.Forward(input);
        }
        return ChannelShuffle.Shuffle(Tensor.Concat([left, right], 1), 2);
    }

    /// <summary>For example <c>ShuffleNetV2Block(24→116, stride=2)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ShuffleNetV2Block({InChannels}→{OutChannels}, stride={Stride})");
}

/// <summary>
/// ShuffleNet v2 (Ma et al., 2018), exactly as torchvision 0.14's <c>shufflenet_v2_x1_0</c>: <c>conv1</c> 3×3 stride-2
/// conv-BN-ReLU to 24 channels, 3×3 stride-2 <c>maxpool</c>, <c>stage2</c>–<c>stage4</c> of 4, 8, 4
/// <see cref="ShuffleNetV2Block"/> units (116, 232, 464 channels), <c>conv5</c> 1×1 conv-BN-ReLU to 1024, global average
/// pool, <c>fc</c>. 2 278 604 parameters for 1000 classes. With the small-input stem the first convolution has stride 1
/// and there is no max pool.
/// </summary>
public sealed class ShuffleNetV2 : Module
{
    private readonly MaxPool2d? _maxPool;

    /// <summary>Builds the network.</summary>
    /// <param name="stageRepeats">Units per stage (3 stages).</param>
    /// <param name="stageOutChannels">Channels of conv1, the three stages and conv5 (5 values).</param>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 in the first convolution and no max pool (for 32×32 inputs).</param>
    public ShuffleNetV2(IReadOnlyList<int> stageRepeats, IReadOnlyList<int> stageOutChannels, int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
    {
        ArgumentNullException.ThrowIfNull(stageRepeats);
        ArgumentNullException.ThrowIfNull(stageOutChannels);
        if (stageRepeats.Count != 3 || stageOutChannels.Count != 5)
        {
            throw new ArgumentException($"ShuffleNetV2: expected 3 stage repeats and 5 channel counts, got {stageRepeats.Count} and {stageOutChannels.Count}.");
        }
        int channels = stageOutChannels[0];
        Conv1 = RegisterModule("conv1", new Sequential(
            new Conv2d(inputChannels, channels, 3, smallInput ? 1 : 2, 1, bias: false), new BatchNorm2d(channels), new ReLU()));
        if (!smallInput)
        {
            _maxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, 1));
        }
        var stages = new Sequential[3];
        for (int s = 0; s < 3; s++)
        {
            int outChannels = stageOutChannels[s + 1];
            var stage = new Sequential(new ShuffleNetV2Block(channels, outChannels, 2));
            for (int i = 1; i < stageRepeats[s]; i++)
            {
                stage.Add(new ShuffleNetV2Block(outChannels, outChannels, 1));
            }
            stages[s] = RegisterModule("stage" + (s + 2).ToString(CultureInfo.InvariantCulture), stage);
            channels = outChannels;
        }
        Stages = stages;
        Conv5 = RegisterModule("conv5", new Sequential(
            new Conv2d(channels, stageOutChannels[4], 1, bias: false), new BatchNorm2d(stageOutChannels[4]), new ReLU()));
        Fc = RegisterModule("fc", new Linear(stageOutChannels[4], numClasses));
    }

    /// <summary>The stem convolution.</summary>
    public Sequential Conv1 { get; }

    /// <summary>Stages 2, 3 and 4.</summary>
    public IReadOnlyList<Sequential> Stages { get; }

    /// <summary>The last 1×1 convolution.</summary>
    public Sequential Conv5 { get; }

    /// <summary>The final linear layer.</summary>
    public Linear Fc { get; }

    /// <summary>ShuffleNet v2 ×1.0 (torchvision <c>shufflenet_v2_x1_0</c>).</summary>
    public static ShuffleNetV2 X1_0(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = Conv1.Forward(input);
        if (_maxPool != null)
        {
            x = _maxPool.Forward(x);
        }
        foreach (var stage in Stages)
        {
            x = stage.Forward(x);
        }
        return Fc.Forward(Functional.GlobalAvgPool2d(Conv5.Forward(x)).Flatten());
    }
}
