using System.Globalization;
using System.Text;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// DenseNet-BC (Huang et al., 2017) with torchvision 0.14's layout and state-dictionary names: <c>features</c> holds
/// <c>conv0</c> (7×7 stride 2), <c>norm0</c>, <c>relu0</c>, <c>pool0</c> (3×3 max-pool stride 2), then
/// <c>denseblock1</c>, <c>transition1</c>, …, <c>denseblock4</c> and <c>norm5</c>; a ReLU, global average pooling and
/// the linear <c>classifier</c> follow. Each transition halves the channels and the resolution.
/// [N, C, H, W] → [N, NumClasses]. With <see cref="ModelOptions.SmallInput"/> <c>conv0</c> is 3×3 stride 1 with
/// padding 1 and there is no <c>pool0</c>. Weights are initialised as torchvision does (Kaiming normal for
/// convolutions, batch-norm weight 1 and bias 0, classifier bias 0).
/// </summary>
public sealed class DenseNet : Module
{
    private readonly DenseNetFeatures _features;

    /// <summary>Creates a DenseNet.</summary>
    /// <param name="growthRate">Channels each dense layer adds (k).</param>
    /// <param name="blockConfig">Dense layers in each of the four blocks (6, 12, 24, 16 for DenseNet-121).</param>
    /// <param name="numInitFeatures">Channels of the stem convolution.</param>
    /// <param name="bnSize">Bottleneck multiplier of the dense layers.</param>
    /// <param name="options">Classes, input channels and stem (defaults when null).</param>
    public DenseNet(int growthRate, IReadOnlyList<int> blockConfig, int numInitFeatures = 64, int bnSize = 4, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(blockConfig);
        options ??= new ModelOptions();
        if (blockConfig.Count == 0 || blockConfig.Any(n => n < 1))
        {
            throw new ArgumentException($"DenseNet needs at least one dense block of at least one layer, got [{string.Join(", ", blockConfig)}].", nameof(blockConfig));
        }
        GrowthRate = growthRate;
        BlockConfig = [.. blockConfig];
        Options = options;

        _features = RegisterModule("features", new DenseNetFeatures());
        _features.Add("conv0", options.SmallInput
            ? new Conv2d(options.InputChannels, numInitFeatures, 3, 1, 1, bias: false)
            : new Conv2d(options.InputChannels, numInitFeatures, 7, 2, 3, bias: false));
        _features.Add("norm0", new BatchNorm2d(numInitFeatures));
        _features.Add("relu0", new ReLU());
        if (!options.SmallInput)
        {
            _features.Add("pool0", new MaxPool2d(3, 2, 1));
        }
        int channels = numInitFeatures;
        for (int i = 0; i < blockConfig.Count; i++)
        {
            string index = (i + 1).ToString(CultureInfo.InvariantCulture);
            var block = new DenseBlock(blockConfig[i], channels, growthRate, bnSize);
            _features.Add("denseblock" + index, block);
            channels = block.OutChannels;
            if (i != blockConfig.Count - 1)
            {
                _features.Add("transition" + index, new Transition(channels, channels / 2));
                channels /= 2;
            }
        }
        _features.Add("norm5", new BatchNorm2d(channels));
        FeatureChannels = channels;
        Classifier = RegisterModule("classifier", new Linear(channels, options.NumClasses));

        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d conv)
            {
                Init.KaimingNormal(conv.Weight);
            }
        }
        Init.Zeros(Classifier.Bias!);
    }

    /// <summary>Channels each dense layer adds.</summary>
    public int GrowthRate { get; }

    /// <summary>Dense layers per block.</summary>
    public IReadOnlyList<int> BlockConfig { get; }

    /// <summary>The options the network was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>The convolutional trunk (<c>features</c>): [N, C, H, W] → [N, <see cref="FeatureChannels"/>, h, w].</summary>
    public Module Features => _features;

    /// <summary>Channels of the trunk's output (1024 for DenseNet-121, 1664 for DenseNet-169).</summary>
    public int FeatureChannels { get; }

    /// <summary>The linear classifier (<c>classifier</c>).</summary>
    public Linear Classifier { get; }

    /// <summary>The pooled features before the classifier: [N, C, H, W] → [N, <see cref="FeatureChannels"/>].</summary>
    public Tensor ForwardFeatures(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {Options.InputChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, Options.InputChannels);
        var x = Functional.GlobalAvgPool2d(Functional.Relu(_features.Forward(input)));
        return x.Reshape(x.Shape[0], FeatureChannels);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Classifier.Forward(ForwardFeatures(input));

    /// <summary>For example <c>DenseNet(k=32, [6, 12, 24, 16], classes=1000)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"DenseNet(k={GrowthRate}, [{string.Join(", ", BlockConfig)}], classes={Options.NumClasses}{(Options.InputChannels != 3 ? $", in={Options.InputChannels}" : string.Empty)}{(Options.SmallInput ? ", small input" : string.Empty)})");

    /// <summary>DenseNet-121: k = 32, blocks [6, 12, 24, 16], 64 stem channels; 7 978 856 parameters for 1000 classes.</summary>
    public static DenseNet DenseNet121(ModelOptions? options = null) => new(32, [6, 12, 24, 16], 64, 4, options);

    /// <summary>DenseNet-169: k = 32, blocks [6, 12, 32, 32], 64 stem channels; 14 149 480 parameters for 1000 classes.</summary>
    public static DenseNet DenseNet169(ModelOptions? options = null) => new(32, [6, 12, 32, 32], 64, 4, options);

    /// <summary>A chain whose children carry torchvision's names (conv0, norm0, denseblock1, ...), applied in order.</summary>
    private sealed class DenseNetFeatures : Module
    {
        private readonly List<KeyValuePair<string, Module>> _chain = new();

        public void Add(string name, Module module)
        {
            RegisterModule(name, module);
            _chain.Add(new(name, module));
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var x = input;
            foreach (var (_, m) in _chain)
            {
                x = m.Forward(x);
            }
            return x;
        }

        public override string ToString()
        {
            var sb = new StringBuilder("Features(\n");
            foreach (var (name, m) in _chain)
            {
                sb.Append("  (").Append(name).Append("): ").Append(m.ToString()!.Replace("\n", "\n  ", StringComparison.Ordinal)).Append('\n');
            }
            return sb.Append(')').ToString();
        }
    }
}
