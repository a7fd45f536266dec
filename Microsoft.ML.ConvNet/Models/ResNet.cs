using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>Which residual block a <see cref="ResNet"/> stacks.</summary>
public enum ResidualBlockKind
{
    /// <summary><see cref="BasicBlock"/>: two 3×3 convolutions (ResNet-18/34).</summary>
    Basic,

    /// <summary><see cref="Models.Bottleneck"/>: 1×1 → 3×3 → 1×1 (ResNet-50 and deeper, ResNeXt, Wide ResNet, SE-ResNet).</summary>
    Bottleneck,
}

/// <summary>
/// ResNet (He et al., 2016) and its variants, with torchvision 0.14's layout and state-dictionary names:
/// <c>conv1</c> (7×7 stride 2), <c>bn1</c>, <c>relu</c>, <c>maxpool</c> (3×3 stride 2), <c>layer1</c>–<c>layer4</c>
/// (stacks of blocks named 0, 1, ...; the first block of layers 2–4 has stride 2 and a <c>downsample</c> projection,
/// a 1×1 convolution <c>downsample.0</c> and batch norm <c>downsample.1</c>), <c>avgpool</c>, <c>fc</c>.
/// [N, C, H, W] → [N, NumClasses]. With <see cref="ModelOptions.SmallInput"/> the stem is a 3×3 stride-1 <c>conv1</c>
/// with padding 1 and no max-pool, for 28–32 px images. Weights are initialised as torchvision does (Kaiming normal,
/// fan-out, for convolutions; batch-norm weight 1 and bias 0; PyTorch's default for <c>fc</c>).
/// </summary>
public sealed class ResNet : Module
{
    /// <summary>Creates a ResNet.</summary>
    /// <param name="block">The block type.</param>
    /// <param name="layers">Blocks in each of the four stages (e.g. 3, 4, 6, 3 for ResNet-50).</param>
    /// <param name="options">Classes, input channels and stem (defaults when null).</param>
    /// <param name="groups">Groups of the bottleneck's 3×3 convolution (ResNeXt's cardinality); bottleneck only.</param>
    /// <param name="widthPerGroup">Bottleneck width per group at 64 planes (64 standard, 4 for ResNeXt 32×4d, 128 for Wide ResNet-50-2).</param>
    /// <param name="seReduction">Squeeze-and-excitation reduction in every bottleneck (16 for SE-ResNet); 0 for none.</param>
    public ResNet(ResidualBlockKind block, IReadOnlyList<int> layers, ModelOptions? options = null, int groups = 1, int widthPerGroup = 64, int seReduction = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        options ??= new ModelOptions();
        if (layers.Count != 4 || layers.Any(n => n < 1))
        {
            throw new ArgumentException($"ResNet needs four stages of at least one block each, got [{string.Join(", ", layers)}].", nameof(layers));
        }
        if (block == ResidualBlockKind.Basic && (groups != 1 || widthPerGroup != 64 || seReduction != 0))
        {
            throw new ArgumentException($"ResNet: BasicBlock supports only groups = 1, widthPerGroup = 64 and no squeeze-and-excitation (got {groups}, {widthPerGroup}, {seReduction}).");
        }
        Block = block;
        Layers = [.. layers];
        Options = options;
        int expansion = block == ResidualBlockKind.Basic ? BasicBlock.Expansion : Models.Bottleneck.Expansion;

        Conv1 = RegisterModule("conv1", options.SmallInput
            ? new Conv2d(options.InputChannels, 64, 3, 1, 1, bias: false)
            : new Conv2d(options.InputChannels, 64, 7, 2, 3, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(64));
        Relu = RegisterModule("relu", new ReLU());
        if (!options.SmallInput)
        {
            MaxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, 1));
        }

        int inChannels = 64;
        var stages = new Sequential[4];
        for (int s = 0; s < 4; s++)
        {
            int planes = 64 << s;
            int stride = s == 0 ? 1 : 2;
            var stage = new Sequential();
            for (int b = 0; b < layers[s]; b++)
            {
                int blockStride = b == 0 ? stride : 1;
                Module? downsample = b == 0 && (stride != 1 || inChannels != planes * expansion)
                    ? MakeDownsample(inChannels, planes * expansion, stride)
                    : null;
                stage.Add(block == ResidualBlockKind.Basic
                    ? new BasicBlock(inChannels, planes, blockStride, downsample)
                    : new Bottleneck(inChannels, planes, blockStride, downsample, groups, widthPerGroup, seReduction));
                inChannels = planes * expansion;
            }
            stages[s] = RegisterModule("layer" + (s + 1).ToString(CultureInfo.InvariantCulture), stage);
        }
        Stages = stages;
        AvgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        Fc = RegisterModule("fc", new Linear(512 * expansion, options.NumClasses));
        FeatureChannels = 512 * expansion;

        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d conv)
            {
                Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
            }
        }
    }

    /// <summary>The block type.</summary>
    public ResidualBlockKind Block { get; }

    /// <summary>Blocks per stage.</summary>
    public IReadOnlyList<int> Layers { get; }

    /// <summary>The options the network was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>Stem convolution (<c>conv1</c>).</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Stem batch norm (<c>bn1</c>).</summary>
    public BatchNorm2d Bn1 { get; }

    /// <summary>Stem ReLU (<c>relu</c>).</summary>
    public ReLU Relu { get; }

    /// <summary>Stem max-pool (<c>maxpool</c>); null with the small-input stem.</summary>
    public MaxPool2d? MaxPool { get; }

    /// <summary>The four stages <c>layer1</c>–<c>layer4</c>.</summary>
    public IReadOnlyList<Sequential> Stages { get; }

    /// <summary>Global average pooling (<c>avgpool</c>).</summary>
    public AdaptiveAvgPool2d AvgPool { get; }

    /// <summary>The classifier (<c>fc</c>); replace the head for transfer learning by training a new one on <see cref="ForwardFeatures"/>.</summary>
    public Linear Fc { get; }

    /// <summary>Channels of the pooled features that feed <see cref="Fc"/> (512 or 2048).</summary>
    public int FeatureChannels { get; }

    /// <summary>
    /// The shortcut projection torchvision uses: a 1×1 convolution without bias (<c>0</c>) and batch norm (<c>1</c>).
    /// </summary>
    public static Sequential MakeDownsample(int inChannels, int outChannels, int stride)
        => new(new Conv2d(inChannels, outChannels, 1, stride, bias: false), new BatchNorm2d(outChannels));

    /// <summary>Returns <paramref name="next"/>, freeing <paramref name="previous"/> when nothing can read it again.</summary>
    private static Tensor Next(Tensor previous, Tensor next)
    {
        ReleaseIntermediate(previous, next);
        return next;
    }

    /// <summary>The pooled features before the classifier: [N, C, H, W] → [N, <see cref="FeatureChannels"/>].</summary>
    public Tensor ForwardFeatures(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {Options.InputChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, Options.InputChannels);
        var x = ConvBatchNormFolding.ConvNormActivation(Conv1, Bn1, Relu, input);
        if (MaxPool != null)
        {
            x = Next(x, MaxPool.Forward(x));
        }
        foreach (var stage in Stages)
        {
            x = Next(x, stage.Forward(x));
        }
        x = Next(x, AvgPool.Forward(x));
        return x.Reshape(x.Shape[0], FeatureChannels);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Fc.Forward(ForwardFeatures(input));

    /// <summary>For example <c>ResNet(Bottleneck, [3, 4, 6, 3], classes=1000)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"ResNet({Block}, [{string.Join(", ", Layers)}], classes={Options.NumClasses}{(Options.InputChannels != 3 ? $", in={Options.InputChannels}" : string.Empty)}{(Options.SmallInput ? ", small input" : string.Empty)})");

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2]; 11 689 512 parameters for 1000 classes.</summary>
    public static ResNet ResNet18(ModelOptions? options = null) => new(ResidualBlockKind.Basic, [2, 2, 2, 2], options);

    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3]; 21 797 672 parameters for 1000 classes.</summary>
    public static ResNet ResNet34(ModelOptions? options = null) => new(ResidualBlockKind.Basic, [3, 4, 6, 3], options);

    /// <summary>ResNet-50: bottlenecks [3, 4, 6, 3]; 25 557 032 parameters for 1000 classes.</summary>
    public static ResNet ResNet50(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 4, 6, 3], options);

    /// <summary>ResNet-101: bottlenecks [3, 4, 23, 3]; 44 549 160 parameters for 1000 classes.</summary>
    public static ResNet ResNet101(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 4, 23, 3], options);

    /// <summary>ResNet-152: bottlenecks [3, 8, 36, 3]; 60 192 808 parameters for 1000 classes.</summary>
    public static ResNet ResNet152(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 8, 36, 3], options);

    /// <summary>ResNeXt-50 32×4d (Xie et al., 2017): ResNet-50 with 32 groups of width 4; 25 028 904 parameters for 1000 classes.</summary>
    public static ResNet ResNeXt50_32x4d(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 4, 6, 3], options, groups: 32, widthPerGroup: 4);

    /// <summary>Wide ResNet-50-2 (Zagoruyko and Komodakis, 2016): ResNet-50 with twice the bottleneck width; 68 883 240 parameters for 1000 classes.</summary>
    public static ResNet WideResNet50_2(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 4, 6, 3], options, widthPerGroup: 128);

    /// <summary>
    /// SE-ResNet-50 (Hu et al., 2018): ResNet-50 with a squeeze-and-excitation block (reduction 16, 1×1 convolutions
    /// with bias as <c>se.fc1</c> / <c>se.fc2</c>) in every bottleneck; 28 088 024 parameters for 1000 classes.
    /// </summary>
    public static ResNet SeResNet50(ModelOptions? options = null) => new(ResidualBlockKind.Bottleneck, [3, 4, 6, 3], options, seReduction: 16);
}
