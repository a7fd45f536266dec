using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>One bottleneck of MobileNet v3 (a row of Table 1/2 of Howard et al., 2019).</summary>
/// <param name="InChannels">Input channels.</param>
/// <param name="Kernel">Depthwise kernel size (3 or 5).</param>
/// <param name="ExpandedChannels">Hidden (expanded) channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="UseSqueezeExcitation">Whether a squeeze-and-excitation block follows the depthwise convolution.</param>
/// <param name="UseHardswish">Hardswish activations (true) or ReLU (false).</param>
/// <param name="Stride">Stride of the depthwise convolution.</param>
public sealed record MobileNetV3BlockConfig(int InChannels, int Kernel, int ExpandedChannels, int OutChannels,
    bool UseSqueezeExcitation, bool UseHardswish, int Stride);

/// <summary>
/// The MobileNet v3 bottleneck with torchvision's names: <c>block</c> holds the 1×1 expansion conv-BN-act (when the
/// expanded width differs from the input), the k×k depthwise conv-BN-act, an optional <see cref="SqueezeExcitation"/>
/// (squeeze = make_divisible(expanded / 4), hard-sigmoid gate) and the linear 1×1 projection conv-BN. Batch norms use
/// eps 0.001, momentum 0.01. The input is added back when the stride is 1 and the channel counts agree.
/// </summary>
public sealed class MobileNetV3Block : Module
{
    /// <summary>Creates the block.</summary>
    public MobileNetV3Block(MobileNetV3BlockConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Func<Module> act = config.UseHardswish ? () => new Hardswish() : () => new ReLU();
        const float Eps = 0.001f, Momentum = 0.01f;
        Block = RegisterModule("block", new Sequential());
        if (config.ExpandedChannels != config.InChannels)
        {
            Block.Add(ConvNormActivation.Create(config.InChannels, config.ExpandedChannels, 1, activation: act, eps: Eps, momentum: Momentum));
        }
        Block.Add(ConvNormActivation.Create(config.ExpandedChannels, config.ExpandedChannels, config.Kernel, config.Stride,
            groups: config.ExpandedChannels, activation: act, eps: Eps, momentum: Momentum));
        if (config.UseSqueezeExcitation)
        {
            Block.Add(new SqueezeExcitation(config.ExpandedChannels, ConvNormActivation.MakeDivisible(config.ExpandedChannels / 4), () => new ReLU(), () => new Hardsigmoid()));
        }
        Block.Add(ConvNormActivation.Create(config.ExpandedChannels, config.OutChannels, 1, eps: Eps, momentum: Momentum));
        UseResidual = config.Stride == 1 && config.InChannels == config.OutChannels;
    }

    /// <summary>The block's settings.</summary>
    public MobileNetV3BlockConfig Config { get; }

    /// <summary>Whether the input is added to the output.</summary>
    public bool UseResidual { get; }

    /// <summary>Expansion, depthwise, squeeze-excitation and projection layers.</summary>
    public Sequential Block { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var y = Block.Forward(input);
        return UseResidual ? y.Add(input) : y;
    }

    /// <summary>For example <c>MobileNetV3Block(16→24, k=3, expanded=64, stride=2)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"MobileNetV3Block({Config.InChannels}→{Config.OutChannels}, k={Config.Kernel}, expanded={Config.ExpandedChannels}, stride={Config.Stride}{(Config.UseSqueezeExcitation ? ", SE" : string.Empty)}{(Config.UseHardswish ? ", hardswish" : string.Empty)})");
}

/// <summary>
/// MobileNet v3 (Howard et al., 2019), Small and Large, exactly as torchvision 0.14's <c>mobilenet_v3_small</c> /
/// <c>mobilenet_v3_large</c>: <c>features.0</c> 3×3 stride-2 conv-BN-Hardswish to 16 channels, the
/// <see cref="MobileNetV3Block"/> bottlenecks, a 1×1 conv-BN-Hardswish to 6× the last width, global average pool,
/// and <c>classifier</c> = Linear, Hardswish, Dropout(0.2), Linear. 2 542 856 (Small) and 5 483 032 (Large) parameters
/// for 1000 classes.
/// </summary>
public sealed class MobileNetV3 : Module
{
    /// <summary>Builds the network from a bottleneck list.</summary>
    /// <param name="blocks">The bottlenecks, in order.</param>
    /// <param name="lastChannels">Width of the hidden classifier layer (1024 Small, 1280 Large).</param>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 in the first convolution (for 32×32 inputs).</param>
    /// <param name="dropout">Dropout probability in the classifier.</param>
    public MobileNetV3(IReadOnlyList<MobileNetV3BlockConfig> blocks, int lastChannels, int numClasses = 1000, int inputChannels = 3,
        bool smallInput = false, float dropout = 0.2f)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            throw new ArgumentException("MobileNetV3: the bottleneck list is empty.", nameof(blocks));
        }
        const float Eps = 0.001f, Momentum = 0.01f;
        Features = RegisterModule("features", new Sequential(ConvNormActivation.Create(inputChannels, blocks[0].InChannels, 3, smallInput ? 1 : 2,
            activation: () => new Hardswish(), eps: Eps, momentum: Momentum)));
        foreach (var b in blocks)
        {
            Features.Add(new MobileNetV3Block(b));
        }
        int lastIn = blocks[^1].OutChannels, lastOut = 6 * lastIn;
        Features.Add(ConvNormActivation.Create(lastIn, lastOut, 1, activation: () => new Hardswish(), eps: Eps, momentum: Momentum));
        Classifier = RegisterModule("classifier", new Sequential(
            new Linear(lastOut, lastChannels), new Hardswish(), new Dropout(dropout), new Linear(lastChannels, numClasses)));
    }

    /// <summary>The convolutional trunk.</summary>
    public Sequential Features { get; }

    /// <summary>The classifier head.</summary>
    public Sequential Classifier { get; }

    /// <summary>The bottlenecks of MobileNet v3 Small (Table 2).</summary>
    public static IReadOnlyList<MobileNetV3BlockConfig> SmallBlocks { get; } =
    [
        new(16, 3, 16, 16, true, false, 2),
        new(16, 3, 72, 24, false, false, 2),
        new(24, 3, 88, 24, false, false, 1),
        new(24, 5, 96, 40, true, true, 2),
        new(40, 5, 240, 40, true, true, 1),
        new(40, 5, 240, 40, true, true, 1),
        new(40, 5, 120, 48, true, true, 1),
        new(48, 5, 144, 48, true, true, 1),
        new(48, 5, 288, 96, true, true, 2),
        new(96, 5, 576, 96, true, true, 1),
        new(96, 5, 576, 96, true, true, 1),
    ];

    /// <summary>The bottlenecks of MobileNet v3 Large (Table 1).</summary>
    public static IReadOnlyList<MobileNetV3BlockConfig> LargeBlocks { get; } =
    [
        new(16, 3, 16, 16, false, false, 1),
        new(16, 3, 64, 24, false, false, 2),
        new(24, 3, 72, 24, false, false, 1),
        new(24, 5, 72, 40, true, false, 2),
        new(40, 5, 120, 40, true, false, 1),
        new(40, 5, 120, 40, true, false, 1),
        new(40, 3, 240, 80, false, true, 2),
        new(80, 3, 200, 80, false, true, 1),
        new(80, 3, 184, 80, false, true, 1),
        new(80, 3, 184, 80, false, true, 1),
        new(80, 3, 480, 112, true, true, 1),
        new(112, 3, 672, 112, true, true, 1),
        new(112, 5, 672, 160, true, true, 2),
        new(160, 5, 960, 160, true, true, 1),
        new(160, 5, 960, 160, true, true, 1),
    ];

    /// <summary>MobileNet v3 Small (torchvision <c>mobilenet_v3_small</c>).</summary>
    public static MobileNetV3 Small(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MobileNetV3(SmallBlocks, 1024, options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <summary>MobileNet v3 Large (torchvision <c>mobilenet_v3_large</c>).</summary>
    public static MobileNetV3 Large(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MobileNetV3(LargeBlocks, 1280, options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Classifier.Forward(Functional.GlobalAvgPool2d(Features.Forward(input)).Flatten());
}
