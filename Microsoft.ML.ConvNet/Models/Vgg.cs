using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// VGG-11/13/16/19 (Simonyan and Zisserman, 2014; configurations A, B, D, E), with or without batch
/// normalisation, in torchvision 0.14's layout: <c>features.N</c> (3×3 pad-1 convolutions [+ BatchNorm2d] + ReLU,
/// 2×2/2 max pools), <c>avgpool</c> (adaptive 7×7), <c>classifier.N</c> (FC 25088→4096, ReLU, dropout 0.5,
/// FC 4096→4096, ReLU, dropout 0.5, FC 4096→classes). Parameter counts equal torchvision's (138 357 544 for VGG-16
/// with 1000 classes).
/// <para>
/// VGG has no large strided stem: the small-input option changes nothing. A 32×32 input reaches the last pool at
/// 1×1 and the adaptive pool spreads it to 7×7, exactly as torchvision would.
/// </para>
/// </summary>
public static class Vgg
{
    private const int M = -1;

    private static readonly int[] ConfigA = [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M];
    private static readonly int[] ConfigB = [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M];
    private static readonly int[] ConfigD = [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M];
    private static readonly int[] ConfigE = [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M];

    /// <summary>VGG-11 (configuration A: 8 convolutions).</summary>
    public static FeaturesClassifierNet Vgg11(int numClasses = 1000, int inputChannels = 3, bool batchNorm = false)
        => Create(ConfigA, numClasses, inputChannels, batchNorm);

    /// <summary>VGG-13 (configuration B: 10 convolutions).</summary>
    public static FeaturesClassifierNet Vgg13(int numClasses = 1000, int inputChannels = 3, bool batchNorm = false)
        => Create(ConfigB, numClasses, inputChannels, batchNorm);

    /// <summary>VGG-16 (configuration D: 13 convolutions).</summary>
    public static FeaturesClassifierNet Vgg16(int numClasses = 1000, int inputChannels = 3, bool batchNorm = false)
        => Create(ConfigD, numClasses, inputChannels, batchNorm);

    /// <summary>VGG-19 (configuration E: 16 convolutions).</summary>
    public static FeaturesClassifierNet Vgg19(int numClasses = 1000, int inputChannels = 3, bool batchNorm = false)
        => Create(ConfigE, numClasses, inputChannels, batchNorm);

    private static FeaturesClassifierNet Create(int[] config, int numClasses, int inputChannels, bool batchNorm)
    {
        var features = new Sequential();
        int channels = inputChannels;
        foreach (int v in config)
        {
            if (v == M)
            {
                features.Add(new MaxPool2d(2, 2));
                continue;
            }
            features.Add(new Conv2d(channels, v, 3, padding: 1));
            if (batchNorm)
            {
                features.Add(new BatchNorm2d(v));
            }
            features.Add(new ReLU());
            channels = v;
        }
        return new FeaturesClassifierNet(features, new AdaptiveAvgPool2d(7, 7), new Sequential(
            new Linear(512 * 7 * 7, 4096),
            new ReLU(),
            new Dropout(0.5f),
            new Linear(4096, 4096),
            new ReLU(),
            new Dropout(0.5f),
            new Linear(4096, numClasses)));
    }
}
