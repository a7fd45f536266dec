using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// LeNet-5 (LeCun et al., 1998) in the classic layout: C1 6@5×5 → S2 2×2 → C3 16@5×5 → S4 2×2 → C5 120@5×5 →
/// F6 84 → output. On the original 32×32 input the maps are 28×28×6 → 14×14×6 → 10×10×16 → 5×5×16 → 1×1×120,
/// with 156, 0, 2 416, 0, 48 120, 10 164 and 850 parameters (61 706 in all for 10 classes).
/// Uses ReLU and max pooling (the modern reading of the original's squashing and trainable subsampling).
/// </summary>
public static class LeNet5
{
    /// <summary>
    /// Builds the network. For 28×28 inputs (MNIST, Fashion-MNIST) set <paramref name="padInputTo32"/>: C1 gets
    /// padding 2, exactly as if the image had been padded to 32×32.
    /// </summary>
    public static Sequential Create(int numClasses = 10, int inputChannels = 1, bool padInputTo32 = true)
        => new(
            new Conv2d(inputChannels, 6, 5, padding: padInputTo32 ? 2 : 0),
            new ReLU(),
            new MaxPool2d(2, 2),
            new Conv2d(6, 16, 5),
            new ReLU(),
            new MaxPool2d(2, 2),
            new Conv2d(16, 120, 5),
            new ReLU(),
            new Flatten(),
            new Linear(120, 84),
            new ReLU(),
            new Linear(84, numClasses));
}
