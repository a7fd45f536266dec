using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// The plain "features → pool → classifier" network of AlexNet, ZFNet, VGG and SqueezeNet, with torchvision's
/// child names <c>features</c>, <c>avgpool</c> and <c>classifier</c>. With a pooling stage (AlexNet, VGG) the pooled
/// map is flattened before the fully connected <c>classifier</c>; without one (SqueezeNet) the convolutional
/// classifier runs on the map and its [N, classes, 1, 1] output is flattened.
/// </summary>
public sealed class FeaturesClassifierNet : Module
{
    /// <summary>Creates the network from its three stages.</summary>
    /// <param name="features">The convolutional trunk.</param>
    /// <param name="avgPool">Pooling between trunk and a fully connected classifier, or null for a convolutional classifier.</param>
    /// <param name="classifier">The head.</param>
    public FeaturesClassifierNet(Sequential features, Module? avgPool, Sequential classifier)
    {
        Features = RegisterModule("features", features);
        if (avgPool != null)
        {
            AvgPool = RegisterModule("avgpool", avgPool);
        }
        Classifier = RegisterModule("classifier", classifier);
    }

    /// <summary>The convolutional trunk (<c>features.N</c>).</summary>
    public Sequential Features { get; }

    /// <summary>The pooling stage (<c>avgpool</c>), or null.</summary>
    public Module? AvgPool { get; }

    /// <summary>The head (<c>classifier.N</c>).</summary>
    public Sequential Classifier { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = Features.Forward(input);
        if (AvgPool != null)
        {
            x = AvgPool.Forward(x);
            return Classifier.Forward(x.Reshape(x.Shape[0], -1));
        }
        x = Classifier.Forward(x);
        return x.Reshape(x.Shape[0], -1);
    }
}
