using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// The convolution unit of GoogLeNet and Inception v3 (torchvision's <c>BasicConv2d</c>): a convolution without
/// bias, batch normalisation (eps 0.001) and ReLU. Input [N, InChannels, H, W] → [N, OutChannels, OH, OW].
/// Children <c>conv</c> and <c>bn</c>.
/// </summary>
public sealed class BasicConv2d : Module
{
    /// <summary>Creates the unit.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Filter size (an int or a (h, w) pair such as (1, 7)).</param>
    /// <param name="stride">Stride (1 when null).</param>
    /// <param name="padding">Zero padding (0 when null).</param>
    public BasicConv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(outChannels, eps: 0.001f));
    }

    /// <summary>The convolution (no bias).</summary>
    public Conv2d Conv { get; }

    /// <summary>The batch normalisation (eps 0.001).</summary>
    public BatchNorm2d Bn { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Functional.Relu(Bn.Forward(Conv.Forward(input)));

    /// <summary>For example <c>BasicConv2d(Conv2d(3→64, kernel=7, stride=2, padding=3))</c>.</summary>
    public override string ToString() => $"BasicConv2d({Conv})";
}
