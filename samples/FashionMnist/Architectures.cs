namespace Microsoft.ML.ConvNet.Samples.FashionMnistSample;

/// <summary>How the sample's networks (the zoo's "smallcnn" and "lenet5") are trained.</summary>
internal static class Architectures
{
    /// <summary>
    /// The learning-rate schedule, stepped after each epoch: the small CNN drops it tenfold after 3 epochs, LeNet-5
    /// halves it every 2. With Adam at 1e-3, batch 64 and 5 epochs, PyTorch 1.13 runs of the same networks reach
    /// 0.919–0.920 (small CNN, seeds 2 and 3) and 0.89 (LeNet-5) test accuracy.
    /// </summary>
    public static (int StepSize, float Gamma) Schedule(string arch) => arch == "smallcnn" ? (3, 0.1f) : (2, 0.5f);

    /// <summary>How the learning rate changes, for the log.</summary>
    public static string ScheduleDescription(string arch)
    {
        var (step, gamma) = Schedule(arch);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"StepLR ×{gamma} every {step} epochs");
    }
}
