using System.Globalization;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;

namespace Microsoft.ML.ConvNet.Samples.FashionMnistSample;

/// <summary>How the sample's networks are trained: the learning-rate schedule chosen by --schedule and --warmup.</summary>
internal static class Architectures
{
    /// <summary>
    /// cosine: cosine annealing to 0 over the run, per step, after an optional linear warm-up of --warmup epochs;
    /// onecycle: one cycle per step peaking at the --lr rate; step: the earlier recipe (StepLR per epoch, ×0.1 after 3
    /// epochs for the small CNN, ×0.5 every 2 for LeNet-5).
    /// </summary>
    public static LearningRateScheduler Schedule(SampleOptions o, Optimizer optimizer, int stepsPerEpoch) => o.Schedule switch
    {
        "onecycle" => new OneCycleLR(optimizer, o.LearningRate),
        "step" => o.Arch == "smallcnn" ? new StepLR(optimizer, 3, 0.1f) : new StepLR(optimizer, 2, 0.5f),
        _ => o.WarmupEpochs > 0
            ? new LinearWarmup(new CosineAnnealingLR(optimizer, stepping: SchedulerStepping.Batch), o.WarmupEpochs * stepsPerEpoch)
            : new CosineAnnealingLR(optimizer, stepping: SchedulerStepping.Batch),
    };

    /// <summary>How the learning rate changes, for the log.</summary>
    public static string ScheduleDescription(SampleOptions o) => o.Schedule switch
    {
        "onecycle" => "OneCycleLR per step",
        "step" => o.Arch == "smallcnn" ? "StepLR ×0.1 every 3 epochs" : "StepLR ×0.5 every 2 epochs",
        _ => o.WarmupEpochs > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{o.WarmupEpochs}-epoch linear warm-up, then cosine annealing per step")
            : "cosine annealing per step",
    };
}
