using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// AlexNet (Krizhevsky et al., 2012) and ZFNet (Zeiler and Fergus, 2013). Every variant is a
/// <see cref="FeaturesClassifierNet"/> with torchvision's names (<c>features.N</c>, <c>avgpool</c>, <c>classifier.N</c>)
/// and an adaptive 6×6 average pool before the classifier (an identity at the design input size), so other input
/// sizes work too. The classifier is dropout 0.5, FC 9216→4096, ReLU, dropout 0.5, FC 4096→4096, ReLU, FC 4096→classes.
/// </summary>
public static class AlexNet
{
    /// <summary>
    /// torchvision's AlexNet (the "one weird trick" single-GPU variant): conv 64@11×11/4 pad 2, max pool 3/2,
    /// conv 192@5×5 pad 2, max pool, conv 384, 256, 256 @3×3 pad 1, max pool; no LRN. 61 100 840 parameters for
    /// 1000 classes; smallest input 63×63.
    /// <para>
    /// Small-input stem: features.0 becomes 64@3×3 stride 1 pad 1 and the first max pool (features.2) becomes an
    /// identity; a 32×32 input reaches the classifier's pool at 7×7.
    /// </para>
    /// </summary>
    public static FeaturesClassifierNet Create(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
        => new(
            new Sequential(
                smallInput ? new Conv2d(inputChannels, 64, 3, padding: 1) : new Conv2d(inputChannels, 64, 11, stride: 4, padding: 2),
                new ReLU(),
                smallInput ? new Identity() : new MaxPool2d(3, 2),
                new Conv2d(64, 192, 5, padding: 2),
                new ReLU(),
                new MaxPool2d(3, 2),
                new Conv2d(192, 384, 3, padding: 1),
                new ReLU(),
                new Conv2d(384, 256, 3, padding: 1),
                new ReLU(),
                new Conv2d(256, 256, 3, padding: 1),
                new ReLU(),
                new MaxPool2d(3, 2)),
            new AdaptiveAvgPool2d(6, 6),
            Classifier(numClasses));

    /// <summary>
    /// The original AlexNet with local response normalisation, without the two-GPU grouping: on 227×227×3,
    /// CONV1 96@11×11 stride 4 → 55×55×96 (34 944 parameters), ReLU, LRN, overlapping max pool 3×3/2 → 27×27×96;
    /// CONV2 256@5×5 pad 2 → 27×27×256, ReLU, LRN, max pool → 13×13×256; CONV3 384, CONV4 384, CONV5 256 @3×3 pad 1
    /// with ReLU; max pool → 6×6×256; FC 4096, 4096, classes with dropout 0.5. LRN is size 5, α 1e-4, β 0.75, k 2 in
    /// PyTorch's (and Caffe's) convention, where α is divided by the size. 62 378 344 parameters for 1000 classes.
    /// Layout: features.0 conv1, .1 ReLU, .2 LRN, .3 pool, .4 conv2, .5 ReLU, .6 LRN, .7 pool, .8/.10/.12 conv3–5, .14 pool.
    /// <para>
    /// Small-input stem: features.0 becomes 96@3×3 stride 1 pad 1 and the first max pool (features.3) an identity.
    /// </para>
    /// </summary>
    public static FeaturesClassifierNet CreateWithLrn(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
        => LrnNet(numClasses,
            smallInput ? new Conv2d(inputChannels, 96, 3, padding: 1) : new Conv2d(inputChannels, 96, 11, stride: 4),
            smallInput ? new Identity() : new MaxPool2d(3, 2),
            new Conv2d(96, 256, 5, padding: 2),
            new MaxPool2d(3, 2));

    /// <summary>
    /// ZFNet: AlexNet-with-LRN with a smaller, denser first layer — CONV1 96@7×7 stride 2 pad 1 and CONV2 256@5×5
    /// stride 2 — and the first two max pools in ceil mode, so a 224×224 input gives the paper's maps:
    /// 110×110×96 → 55×55 → 26×26×256 → 13×13 → 13×13×384/384/256 → 6×6×256. Same layout and names as
    /// <see cref="CreateWithLrn"/>; 62 357 608 parameters for 1000 classes.
    /// <para>
    /// Small-input stem: features.0 becomes 96@3×3 stride 1 pad 1 and the first max pool (features.3) an identity;
    /// conv2 keeps stride 2.
    /// </para>
    /// </summary>
    public static FeaturesClassifierNet CreateZFNet(int numClasses = 1000, int inputChannels = 3, bool smallInput = false)
        => LrnNet(numClasses,
            smallInput ? new Conv2d(inputChannels, 96, 3, padding: 1) : new Conv2d(inputChannels, 96, 7, stride: 2, padding: 1),
            smallInput ? new Identity() : new MaxPool2d(3, 2, ceilMode: true),
            new Conv2d(96, 256, 5, stride: 2),
            new MaxPool2d(3, 2, ceilMode: true));

    private static FeaturesClassifierNet LrnNet(int numClasses, Conv2d conv1, Module pool1, Conv2d conv2, MaxPool2d pool2)
        => new(
            new Sequential(
                conv1,
                new ReLU(),
                Lrn(),
                pool1,
                conv2,
                new ReLU(),
                Lrn(),
                pool2,
                new Conv2d(256, 384, 3, padding: 1),
                new ReLU(),
                new Conv2d(384, 384, 3, padding: 1),
                new ReLU(),
                new Conv2d(384, 256, 3, padding: 1),
                new ReLU(),
                new MaxPool2d(3, 2)),
            new AdaptiveAvgPool2d(6, 6),
            Classifier(numClasses));

    private static LocalResponseNorm Lrn() => new(5, alpha: 1e-4f, beta: 0.75f, k: 2f);

    private static Sequential Classifier(int numClasses)
        => new(
            new Dropout(0.5f),
            new Linear(256 * 6 * 6, 4096),
            new ReLU(),
            new Dropout(0.5f),
            new Linear(4096, 4096),
            new ReLU(),
            new Linear(4096, numClasses));
}
