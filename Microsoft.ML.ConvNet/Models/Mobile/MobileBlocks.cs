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
