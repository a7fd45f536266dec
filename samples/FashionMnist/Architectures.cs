using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Samples.FashionMnistSample;

/// <summary>The networks of the sample and how they are trained.</summary>
internal static class Architectures
{
    /// <summary>Seeds the library's global generator: weight initialisation and dropout masks.</summary>
    public static void Seed(int seed) => RandomSource.ManualSeed(seed);

    /// <summary>A fresh, randomly initialised network.</summary>
    public static Module Create(string arch) => arch switch
    {
        "smallcnn" => SmallCnn(),
        "lenet5" => LeNet5(),
        _ => throw new ArgumentException($"Unknown architecture '{arch}'; use smallcnn or lenet5.", nameof(arch)),
    };

    /// <summary>Adam over every parameter.</summary>
    public static Optimizer CreateOptimizer(Module model, float learningRate) => new Adam(model.Parameters(), learningRate);

    /// <summary>
    /// The learning-rate schedule, stepped after each epoch: the small CNN drops it tenfold after 3 epochs, LeNet-5
    /// halves it every 2. With Adam at 1e-3, batch 64 and 5 epochs, PyTorch 1.13 runs of the same networks reach
    /// 0.919–0.920 (small CNN, seeds 2 and 3) and 0.89 (LeNet-5) test accuracy.
    /// </summary>
    public static (int StepSize, float Gamma) Schedule(string arch) => arch == "smallcnn" ? (3, 0.1f) : (2, 0.5f);

    /// <summary>The schedule of <paramref name="arch"/> for the optimizer the training loop is given.</summary>
    public static Func<Optimizer, Action> Scheduler(string arch)
    {
        var (step, gamma) = Schedule(arch);
        return optimizer => new StepLR(optimizer, step, gamma).Step;
    }

    /// <summary>How the learning rate changes, for the log.</summary>
    public static string ScheduleDescription(string arch)
    {
        var (step, gamma) = Schedule(arch);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"StepLR ×{gamma} every {step} epochs");
    }

    /// <summary>
    /// Two 3×3 convolution blocks with batch normalisation and 2×2 max pooling (1→32→64 channels, 28→14→7 pixels),
    /// then a 3136→128→10 classifier with dropout. 421 834 parameters.
    /// </summary>
    public static Module SmallCnn() => new Sequential(
        new Conv2d(1, 32, 3, 1, 1),
        new BatchNorm2d(32),
        new ReLU(),
        new MaxPool2d(2, 2),
        new Conv2d(32, 64, 3, 1, 1),
        new BatchNorm2d(64),
        new ReLU(),
        new MaxPool2d(2, 2),
        new Flatten(),
        new Linear(64 * 7 * 7, 128),
        new ReLU(),
        new Dropout(0.25f),
        new Linear(128, 10));

    /// <summary>
    /// LeNet-5 (LeCun et al., 1998) with ReLU and max pooling: C1 6@5×5 (padding 2 keeps 28×28, as the original's
    /// 32×32 input), S2 2×2, C3 16@5×5, S4 2×2, then 120-84-10 fully connected. 61 706 parameters.
    /// </summary>
    public static Module LeNet5() => new Sequential(
        new Conv2d(1, 6, 5, 1, 2),
        new ReLU(),
        new MaxPool2d(2, 2),
        new Conv2d(6, 16, 5),
        new ReLU(),
        new MaxPool2d(2, 2),
        new Flatten(),
        new Linear(16 * 5 * 5, 120),
        new ReLU(),
        new Linear(120, 84),
        new ReLU(),
        new Linear(84, 10));
}
