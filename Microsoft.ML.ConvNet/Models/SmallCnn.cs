using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// A small CNN with batch normalisation for 28×28 images: two blocks of 3×3 convolution (padding 1), batch norm,
/// ReLU and 2×2 max pooling (1→32→64 channels, 28→14→7 pixels), then a 3136→128→classes classifier with dropout.
/// About 421 k parameters; the default network of the Fashion-MNIST job. <c>width</c> scales every layer: the
/// channels are width and 2·width, the hidden layer 4·width (32 by default).
/// </summary>
public static class SmallCnn
{
    /// <summary>Builds the network for <paramref name="inputSize"/>×<paramref name="inputSize"/> inputs (divisible by 4).</summary>
    public static Sequential Create(int numClasses = 10, int inputChannels = 1, int inputSize = 28, float dropout = 0.25f, int width = 32)
    {
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"SmallCnn needs a width of at least 1, got {width}.");
        }
        if (inputSize < 4 || inputSize % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"SmallCnn needs an input size divisible by 4, got {inputSize}.");
        }
        int s = inputSize / 4;
        return new(
            new Conv2d(inputChannels, width, 3, padding: 1),
            new BatchNorm2d(width),
            new ReLU(),
            new MaxPool2d(2, 2),
            new Conv2d(width, 2 * width, 3, padding: 1),
            new BatchNorm2d(2 * width),
            new ReLU(),
            new MaxPool2d(2, 2),
            new Flatten(),
            new Linear(2 * width * s * s, 4 * width),
            new ReLU(),
            new Dropout(dropout),
            new Linear(4 * width, numClasses));
    }
}
