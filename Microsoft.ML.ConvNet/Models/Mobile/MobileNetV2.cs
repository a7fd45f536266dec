using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// The MobileNet v2 inverted residual (Sandler et al., 2018) with torchvision's names: <c>conv</c> holds the 1×1
/// expansion (conv-BN-ReLU6, only when the expansion ratio is not 1), the 3×3 depthwise conv-BN-ReLU6 (groups =
/// hidden channels) and the linear 1×1 projection (conv, BN). The input is added back when the stride is 1 and the
/// channel counts agree. [N, in, H, W] → [N, out, H/stride, W/stride].
/// </summary>
public sealed class InvertedResidual : Module
{
    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="stride">Stride of the depthwise convolution (1 or 2).</param>
    /// <param name="expandRatio">Hidden channels = round(in · ratio).</param>
    public InvertedResidual(int inChannels, int outChannels, int stride, int expandRatio)
    {
        if (stride is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(stride), $"InvertedResidual: stride must be 1 or 2, got {stride}.");
        }
        int hidden = (int)Math.Round(inChannels * (double)expandRatio, MidpointRounding.ToEven);
        UseResidual = stride == 1 && inChannels == outChannels;
        Conv = new Sequential();
        if (expandRatio != 1)
        {
            Conv.Add(ConvNormActivation.Create(inChannels, hidden, 1, activation: () => new ReLU6()));
        }
        Conv.Add(ConvNormActivation.Create(hidden, hidden, 3, stride, groups: hidden, activation: () => new ReLU6()));
        Conv.Add(new Conv2d(hidden, outChannels, 1, bias: false));
        Conv.Add(new BatchNorm2d(outChannels));
        RegisterModule("conv", Conv);
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the depthwise convolution.</summary>
    public int Stride { get; }

    /// <summary>Whether the input is added to the output.</summary>
    public bool UseResidual { get; }

    /// <summary>Expansion, depthwise and projection layers.</summary>
    public Sequential Conv { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (TryForwardFused(input) is Tensor fused)
        {
            return fused;
        }
        var y = Conv.Forward(input);
        if (!UseResidual)
        {
            return y;
        }
        var sum = y.Add(input);
        ReleaseIntermediate(y, sum);
        return sum;
    }

    /// <summary>
    /// The whole block in one pass (bands of rows, or channels last on small maps; <see cref="FusedMobileBlock"/>)
    /// where that applies; null otherwise, and the layers run one by one.
    /// </summary>
    private Tensor? TryForwardFused(Tensor input)
        => Conv.Count == 4 && Conv[2] is Conv2d projectConv && Conv[3] is BatchNormBase projectBn
            ? FusedMobileBlock.TryForward(Conv[0], Conv[1], projectConv, projectBn, Stride, UseResidual, input)
            : null;

    /// <summary>For example <c>InvertedResidual(24→24, stride=1, residual)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"InvertedResidual({InChannels}→{OutChannels}, stride={Stride}{(UseResidual ? ", residual" : string.Empty)})");
}

/// <summary>
/// MobileNet v2 (Sandler et al., 2018) exactly as torchvision 0.14's <c>mobilenet_v2</c> (width 1.0): <c>features.0</c>
/// 3×3 stride-2 conv-BN-ReLU6 to 32 channels, <c>features.1</c>–<c>features.17</c> <see cref="InvertedResidual"/>
/// blocks, <c>features.18</c> 1×1 conv-BN-ReLU6 to 1280, global average pool, <c>classifier</c> = Dropout(0.2) +
/// Linear. 3 504 872 parameters for 1000 classes.
/// </summary>
public sealed class MobileNetV2 : Module
{
    // expansion t, channels c, repeats n, stride s
    private static readonly (int T, int C, int N, int S)[] Settings =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    /// <summary>Builds the network.</summary>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 in the first convolution (for 32×32 inputs).</param>
    /// <param name="dropout">Dropout probability before the classifier.</param>
    public MobileNetV2(int numClasses = 1000, int inputChannels = 3, bool smallInput = false, float dropout = 0.2f)
    {
        int channels = 32;
        Features = RegisterModule("features", new Sequential(
            ConvNormActivation.Create(inputChannels, channels, 3, smallInput ? 1 : 2, activation: () => new ReLU6())));
        foreach (var (t, c, n, s) in Settings)
        {
            for (int i = 0; i < n; i++)
            {
                Features.Add(new InvertedResidual(channels, c, i == 0 ? s : 1, t));
                channels = c;
            }
        }
        const int LastChannels = 1280;
        Features.Add(ConvNormActivation.Create(channels, LastChannels, 1, activation: () => new ReLU6()));
        Classifier = RegisterModule("classifier", new Sequential(new Dropout(dropout), new Linear(LastChannels, numClasses)));
    }

    /// <summary>The convolutional trunk.</summary>
    public Sequential Features { get; }

    /// <summary>Dropout and the final linear layer.</summary>
    public Sequential Classifier { get; }

    /// <summary>Builds the network from zoo options.</summary>
    public static MobileNetV2 Create(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MobileNetV2(options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Classifier.Forward(Functional.GlobalAvgPool2d(Features.Forward(input)).Flatten());
}
