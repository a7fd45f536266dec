using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Convolution → batch norm → activation as one <see cref="Sequential"/> (children "0", "1", "2", as torchvision's
/// <c>Conv2dNormActivation</c>), with "same" padding (kernel − 1) / 2 · dilation and no convolution bias.
/// </summary>
public static class ConvNormActivation
{
    /// <summary>Builds the chain.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Square kernel size.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="groups">Channel groups (groups = channels for a depthwise convolution).</param>
    /// <param name="activation">Creates the activation; null for none (a linear projection).</param>
    /// <param name="eps">Batch-norm epsilon.</param>
    /// <param name="momentum">Batch-norm momentum.</param>
    /// <param name="dilation">Dilation.</param>
    public static Sequential Create(int inChannels, int outChannels, int kernelSize = 3, int stride = 1, int groups = 1,
        Func<Module>? activation = null, float eps = 1e-5f, float momentum = 0.1f, int dilation = 1)
    {
        var seq = new Sequential(
            new Conv2d(inChannels, outChannels, kernelSize, stride, (kernelSize - 1) / 2 * dilation, dilation, groups, bias: false),
            new BatchNorm2d(outChannels, eps, momentum));
        if (activation != null)
        {
            seq.Add(activation());
        }
        return seq;
    }

    /// <summary>
    /// The channel count rounded to the nearest multiple of <paramref name="divisor"/> (at least <paramref name="divisor"/>),
    /// never more than 10 % below <paramref name="value"/>: the MobileNet / EfficientNet width rule.
    /// </summary>
    public static int MakeDivisible(double value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        if (rounded < 0.9 * value)
        {
            rounded += divisor;
        }
        return rounded;
    }
}

/// <summary>
/// Squeeze-and-excitation (Hu et al., 2018) as torchvision's <c>SqueezeExcitation</c>: global average pool →
/// 1×1 conv <c>fc1</c> (C → squeeze) → activation → 1×1 conv <c>fc2</c> (squeeze → C) → gate, and the input
/// [N, C, H, W] is multiplied by the gate [N, C, 1, 1]. MobileNet v3 gates with a hard sigmoid and squeezes with ReLU;
/// EfficientNet uses SiLU and the logistic sigmoid.
/// </summary>
public sealed class SqueezeExcitation : Module
{
    private readonly Module _activation;
    private readonly Module _gate;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Channels C of the input.</param>
    /// <param name="squeezeChannels">Channels of the bottleneck.</param>
    /// <param name="activation">Activation after <c>fc1</c> (ReLU when null).</param>
    /// <param name="gate">The gating function after <c>fc2</c> (sigmoid when null).</param>
    public SqueezeExcitation(int channels, int squeezeChannels, Module? activation = null, Module? gate = null)
    {
        Channels = channels;
        SqueezeChannels = squeezeChannels;
        Fc1 = RegisterModule("fc1", new Conv2d(channels, squeezeChannels, 1));
        Fc2 = RegisterModule("fc2", new Conv2d(squeezeChannels, channels, 1));
        _activation = RegisterModule("activation", activation ?? new ReLU());
        _gate = RegisterModule("scale_activation", gate ?? new Sigmoid());
    }

    /// <summary>Channels C of the input.</summary>
    public int Channels { get; }

    /// <summary>Channels of the bottleneck.</summary>
    public int SqueezeChannels { get; }

    /// <summary>The squeezing 1×1 convolution.</summary>
    public Conv2d Fc1 { get; }

    /// <summary>The expanding 1×1 convolution.</summary>
    public Conv2d Fc2 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Shape[1] != Channels)
        {
            throw new ShapeMismatchException($"{this}: expected input [N, {Channels}, H, W], got {input.Shape}.");
        }
        var scale = Functional.GlobalAvgPool2d(input);
        scale = _gate.Forward(Fc2.Forward(_activation.Forward(Fc1.Forward(scale))));
        return input.Mul(scale);
    }

    /// <summary>For example <c>SqueezeExcitation(96→24, Hardsigmoid())</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SqueezeExcitation({Channels}→{SqueezeChannels}, {_gate})");
}
