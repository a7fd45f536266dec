using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// SqueezeNet's Fire module (torchvision's <c>Fire</c>): <c>squeeze</c> 1×1 convolution + ReLU
/// (<c>squeeze_activation</c>), then <c>expand1x1</c> (1×1) and <c>expand3x3</c> (3×3, padding 1), each with ReLU,
/// concatenated on the channel axis. Input [N, InChannels, H, W] → [N, expand1x1 + expand3x3, H, W].
/// </summary>
public sealed class FireModule : Module
{
    private readonly Conv2d _squeeze, _expand1x1, _expand3x3;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="squeezeChannels">Channels after the squeeze layer.</param>
    /// <param name="expand1x1Channels">Output channels of the 1×1 expand layer.</param>
    /// <param name="expand3x3Channels">Output channels of the 3×3 expand layer.</param>
    public FireModule(int inChannels, int squeezeChannels, int expand1x1Channels, int expand3x3Channels)
    {
        InChannels = inChannels;
        OutChannels = expand1x1Channels + expand3x3Channels;
        _squeeze = RegisterModule("squeeze", new Conv2d(inChannels, squeezeChannels, 1));
        RegisterModule("squeeze_activation", new ReLU());
        _expand1x1 = RegisterModule("expand1x1", new Conv2d(squeezeChannels, expand1x1Channels, 1));
        RegisterModule("expand1x1_activation", new ReLU());
        _expand3x3 = RegisterModule("expand3x3", new Conv2d(squeezeChannels, expand3x3Channels, 3, padding: 1));
        RegisterModule("expand3x3_activation", new ReLU());
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = Functional.Relu(_squeeze.Forward(input));
        return Tensor.Concat([Functional.Relu(_expand1x1.Forward(s)), Functional.Relu(_expand3x3.Forward(s))], 1);
    }

    /// <summary>For example <c>FireModule(96→128)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"FireModule({InChannels}→{OutChannels})");
}

/// <summary>
/// SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) with torchvision 0.14's layout and names: <c>features</c>
/// (convolution, ReLU, 3×3/2 ceil-mode max pools and <see cref="FireModule"/>s) and <c>classifier</c> (dropout 0.5,
/// 1×1 convolution to the classes, ReLU, adaptive average pool 1×1), flattened to [N, classes].
/// Parameter counts equal torchvision's.
/// <para>
/// Small-input stem (<c>smallInput</c>): features.0 becomes a 3×3 stride-1 convolution with padding 1 (96 filters for
/// 1.0, 64 for 1.1; same name) and the first max pool (features.2) is replaced by an identity, so the remaining
/// indices and names are unchanged. A 32×32 input then reaches the last Fire module at 8×8.
/// </para>
/// </summary>
public static class SqueezeNet
{
    /// <summary>SqueezeNet 1.0: conv1 96@7×7/2.</summary>
    public static Module SqueezeNet1_0(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
        => Build(numClasses, new Sequential(
            smallInput ? new Conv2d(inputChannels, 96, 3, padding: 1) : new Conv2d(inputChannels, 96, 7, stride: 2),
            new ReLU(),
            smallInput ? new Identity() : Pool(),
            new FireModule(96, 16, 64, 64),
            new FireModule(128, 16, 64, 64),
            new FireModule(128, 32, 128, 128),
            Pool(),
            new FireModule(256, 32, 128, 128),
            new FireModule(256, 48, 192, 192),
            new FireModule(384, 48, 192, 192),
            new FireModule(384, 64, 256, 256),
            Pool(),
            new FireModule(512, 64, 256, 256)));

    /// <summary>SqueezeNet 1.1: conv1 64@3×3/2 and earlier pooling (2.4× less computation than 1.0).</summary>
    public static Module SqueezeNet1_1(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
        => Build(numClasses, new Sequential(
            smallInput ? new Conv2d(inputChannels, 64, 3, padding: 1) : new Conv2d(inputChannels, 64, 3, stride: 2),
            new ReLU(),
            smallInput ? new Identity() : Pool(),
            new FireModule(64, 16, 64, 64),
            new FireModule(128, 16, 64, 64),
            Pool(),
            new FireModule(128, 32, 128, 128),
            new FireModule(256, 32, 128, 128),
            Pool(),
            new FireModule(256, 48, 192, 192),
            new FireModule(384, 48, 192, 192),
            new FireModule(384, 64, 256, 256),
            new FireModule(512, 64, 256, 256)));

    private static MaxPool2d Pool() => new(3, 2, ceilMode: true);

    private static Module Build(int numClasses, Sequential features)
        => new FeaturesClassifierNet(features, null, new Sequential(
            new Dropout(0.5f),
            new Conv2d(512, numClasses, 1),
            new ReLU(),
            new AdaptiveAvgPool2d(1, 1)));
}
