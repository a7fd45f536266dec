using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// One layer of a DenseNet dense block (Huang et al., 2017), the "DenseNet-B" bottleneck as torchvision builds it:
/// BN → ReLU → 1×1 convolution to bnSize·growthRate channels → BN → ReLU → 3×3 convolution to growthRate channels.
/// [N, InChannels, H, W] (all earlier feature maps, concatenated) → [N, GrowthRate, H, W] (the new features).
/// Members <c>norm1</c>, <c>relu1</c>, <c>conv1</c>, <c>norm2</c>, <c>relu2</c>, <c>conv2</c>.
/// </summary>
public sealed class DenseLayer : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Channels of the concatenated input.</param>
    /// <param name="growthRate">New channels this layer adds (k; 32 in DenseNet-121/169).</param>
    /// <param name="bnSize">Bottleneck multiplier: the 1×1 convolution outputs bnSize·growthRate channels (4).</param>
    public DenseLayer(int inChannels, int growthRate, int bnSize = 4)
    {
        LayerChecks.Positive(growthRate, nameof(growthRate), nameof(DenseLayer));
        LayerChecks.Positive(bnSize, nameof(bnSize), nameof(DenseLayer));
        InChannels = inChannels;
        GrowthRate = growthRate;
        int width = bnSize * growthRate;
        Norm1 = RegisterModule("norm1", new BatchNorm2d(inChannels));
        Relu1 = RegisterModule("relu1", new ReLU());
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, width, 1, bias: false));
        Norm2 = RegisterModule("norm2", new BatchNorm2d(width));
        Relu2 = RegisterModule("relu2", new ReLU());
        Conv2 = RegisterModule("conv2", new Conv2d(width, growthRate, 3, 1, 1, bias: false));
    }

    /// <summary>Channels of the concatenated input.</summary>
    public int InChannels { get; }

    /// <summary>Channels this layer outputs.</summary>
    public int GrowthRate { get; }

    /// <summary>Batch norm of the input (<c>norm1</c>).</summary>
    public BatchNorm2d Norm1 { get; }

    /// <summary>ReLU after <see cref="Norm1"/> (<c>relu1</c>).</summary>
    public ReLU Relu1 { get; }

    /// <summary>1×1 bottleneck convolution (<c>conv1</c>).</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Batch norm after <see cref="Conv1"/> (<c>norm2</c>).</summary>
    public BatchNorm2d Norm2 { get; }

    /// <summary>ReLU after <see cref="Norm2"/> (<c>relu2</c>).</summary>
    public ReLU Relu2 { get; }

    /// <summary>3×3 convolution producing the new features (<c>conv2</c>).</summary>
    public Conv2d Conv2 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {InChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, InChannels);
        var x = Conv1.Forward(Relu1.Forward(Norm1.Forward(input)));
        return Conv2.Forward(Relu2.Forward(Norm2.Forward(x)));
    }

    /// <summary>For example <c>DenseLayer(256→+32)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"DenseLayer({InChannels}→+{GrowthRate})");
}

/// <summary>
/// A DenseNet dense block: <c>denselayer1</c> … <c>denselayerL</c>, each fed the concatenation of the block input and
/// all earlier layers' outputs. [N, InChannels, H, W] → [N, InChannels + L·GrowthRate, H, W] (the input and every new
/// feature map, concatenated along the channels in order).
/// </summary>
public sealed class DenseBlock : Module
{
    private readonly DenseLayer[] _layers;

    /// <summary>Creates the block.</summary>
    /// <param name="numLayers">Number of dense layers (L).</param>
    /// <param name="inChannels">Channels of the block input.</param>
    /// <param name="growthRate">Channels each layer adds.</param>
    /// <param name="bnSize">Bottleneck multiplier of each layer.</param>
    public DenseBlock(int numLayers, int inChannels, int growthRate, int bnSize = 4)
    {
        LayerChecks.Positive(numLayers, nameof(numLayers), nameof(DenseBlock));
        InChannels = inChannels;
        GrowthRate = growthRate;
        _layers = new DenseLayer[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            _layers[i] = RegisterModule("denselayer" + (i + 1).ToString(CultureInfo.InvariantCulture),
                new DenseLayer(inChannels + i * growthRate, growthRate, bnSize));
        }
    }

    /// <summary>Channels of the block input.</summary>
    public int InChannels { get; }

    /// <summary>Channels each layer adds.</summary>
    public int GrowthRate { get; }

    /// <summary>Channels of the block output (InChannels + L·GrowthRate).</summary>
    public int OutChannels => InChannels + _layers.Length * GrowthRate;

    /// <summary>The dense layers, in order.</summary>
    public IReadOnlyList<DenseLayer> Layers => _layers;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {InChannels}, H, W]", 4);
        LayerChecks.Channels(this, input, InChannels);
        var features = new List<Tensor>(_layers.Length + 1) { input };
        foreach (var layer in _layers)
        {
            var concatenated = features.Count == 1 ? input : Tensor.Concat(features, 1);
            features.Add(layer.Forward(concatenated));
        }
        return Tensor.Concat(features, 1);
    }

    /// <summary>For example <c>DenseBlock(6 layers, 64→256)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"DenseBlock({_layers.Length} layers, {InChannels}→{OutChannels})");
}

/// <summary>
/// The DenseNet transition between dense blocks: BN → ReLU → 1×1 convolution (compression) → 2×2 average pooling
/// with stride 2. [N, InChannels, H, W] → [N, OutChannels, H/2, W/2]. Members <c>norm</c>, <c>relu</c>, <c>conv</c>,
/// <c>pool</c>.
/// </summary>
public sealed class Transition : Module
{
    /// <summary>Creates the transition.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output (half the input in DenseNet-BC).</param>
    public Transition(int inChannels, int outChannels)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Norm = RegisterModule("norm", new BatchNorm2d(inChannels));
        Relu = RegisterModule("relu", new ReLU());
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, 1, bias: false));
        Pool = RegisterModule("pool", new AvgPool2d(2, 2));
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Batch norm (<c>norm</c>).</summary>
    public BatchNorm2d Norm { get; }

    /// <summary>ReLU (<c>relu</c>).</summary>
    public ReLU Relu { get; }

    /// <summary>1×1 convolution (<c>conv</c>).</summary>
    public Conv2d Conv { get; }

    /// <summary>2×2 stride-2 average pooling (<c>pool</c>).</summary>
    public AvgPool2d Pool { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Pool.Forward(Conv.Forward(Relu.Forward(Norm.Forward(input))));

    /// <summary>For example <c>Transition(256→128)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Transition({InChannels}→{OutChannels})");
}
