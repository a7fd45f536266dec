using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Depthwise-separable convolution (MobileNet v1): a 3×3 depthwise convolution <c>depthwise</c> (groups = channels)
/// → <c>bn1</c> → ReLU, then a 1×1 pointwise convolution <c>pointwise</c> → <c>bn2</c> → ReLU.
/// [N, in, H, W] → [N, out, H/stride, W/stride].
/// </summary>
public sealed class DepthwiseSeparableConv : Module
{
    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="stride">Stride of the depthwise convolution (1 or 2).</param>
    public DepthwiseSeparableConv(int inChannels, int outChannels, int stride = 1)
    {
        Depthwise = RegisterModule("depthwise", new Conv2d(inChannels, inChannels, 3, stride, 1, groups: inChannels, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(inChannels));
        Pointwise = RegisterModule("pointwise", new Conv2d(inChannels, outChannels, 1, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
    }

    /// <summary>The 3×3 depthwise convolution.</summary>
    public Conv2d Depthwise { get; }

    /// <summary>Batch norm after the depthwise convolution.</summary>
    public BatchNorm2d Bn1 { get; }

    /// <summary>The 1×1 pointwise convolution.</summary>
    public Conv2d Pointwise { get; }

    /// <summary>Batch norm after the pointwise convolution.</summary>
    public BatchNorm2d Bn2 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = Functional.Relu(Bn1.Forward(Depthwise.Forward(input)));
        return Functional.Relu(Bn2.Forward(Pointwise.Forward(x)));
    }

    /// <summary>For example <c>DepthwiseSeparableConv(32→64, stride=1)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"DepthwiseSeparableConv({Depthwise.InChannels}→{Pointwise.OutChannels}, stride={Depthwise.Stride.H})");
}

/// <summary>
/// MobileNet v1 (Howard et al., 2017), width 1.0: <c>features.0</c> = 3×3 stride-2 convolution to 32 channels + BN +
/// ReLU, <c>features.1</c>–<c>features.13</c> = 13 <see cref="DepthwiseSeparableConv"/> blocks (64, 128, 128, 256, 256,
/// 512 ×6, 1024, 1024 channels; stride 2 at blocks 2, 4, 6 and 12), global average pool, and the linear
/// <c>classifier</c>. 4 231 976 parameters for 1000 classes.
/// </summary>
public sealed class MobileNetV1 : Module
{
    private static readonly (int Out, int Stride)[] Blocks =
        [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)];

    /// <summary>Builds the network.</summary>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 in the first convolution (for 32×32 inputs).</param>
    public MobileNetV1(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
    {
        Features = RegisterModule("features", new Sequential(
            ConvNormActivation.Create(inputChannels, 32, 3, smallInput ? 1 : 2, activation: () => new ReLU())));
        int channels = 32;
        foreach (var (outChannels, stride) in Blocks)
        {
            Features.Add(new DepthwiseSeparableConv(channels, outChannels, stride));
            channels = outChannels;
        }
        Classifier = RegisterModule("classifier", new Linear(channels, numClasses));
    }

    /// <summary>The convolutional trunk.</summary>
    public Sequential Features { get; }

    /// <summary>The final linear layer.</summary>
    public Linear Classifier { get; }

    /// <summary>Builds the network from zoo options.</summary>
    public static MobileNetV1 Create(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MobileNetV1(options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Classifier.Forward(Functional.GlobalAvgPool2d(Features.Forward(input)).Flatten());
}
