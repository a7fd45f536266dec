using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// Whole networks on 28×28×1 inputs, 10 classes: training throughput (batch 64, Adam, cross-entropy), inference
/// throughput (batch 256, eval mode, no gradients), peak memory while training ResNet-18, and the Fashion-MNIST
/// accuracy of the small CNN.
/// </summary>
internal static class NetworkBenchmarks
{
    private const int TrainBatch = 64;
    private const int InferBatch = 256;

    /// <summary>The networks with their default timed steps and warm-up steps for training and for inference.</summary>
    private static readonly (string Name, int TrainSteps, int TrainWarmup, int InferSteps, int InferWarmup)[] Networks =
    [
        ("lenet5", 100, 20, 40, 5),
        ("smallcnn", 60, 10, 20, 3),
        ("resnet18", 10, 2, 4, 1),
    ];

    /// <summary>LeNet-5 with C1 padded for 28×28, the Fashion-MNIST job's small CNN, or ResNet-18 with the small-image stem.</summary>
    private static Module Create(string name) => name switch
    {
        "lenet5" => LeNet5.Create(),
        "smallcnn" => SmallCnn.Create(),
        "resnet18" => ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10, InputChannels: 1, SmallInput: true)),
        _ => throw new ArgumentException($"Unknown network '{name}'.", nameof(name)),
    };

    public static void RunThroughput(BenchOptions o)
    {
        foreach (var (name, trainSteps, trainWarmup, inferSteps, inferWarmup) in Networks)
        {
            bool train = o.Selected($"train/{name}"), infer = o.Selected($"infer/{name}");
            if (!train && !infer)
            {
                continue;
            }
            RandomSource.ManualSeed(0);
            using var model = Create(name);
            if (train)
            {
                var (trainStep, trainOwner) = TrainStep(model, TrainBatch);
                using (trainOwner)
                {
                    Report.Throughput($"train/{name}", model, TrainBatch, o.StepsOr(trainSteps), o.WarmupOr(trainWarmup), o.WarmupSeconds, trainStep);
                }
            }
            if (infer)
            {
                var (inferStep, inferOwner) = InferStep(model, InferBatch);
                using (inferOwner)
                {
                    Report.Throughput($"infer/{name}", model, InferBatch, o.StepsOr(inferSteps), o.WarmupOr(inferWarmup), o.WarmupSeconds, inferStep);
                }
            }
        }
    }

    /// <summary>One Adam step on a fixed random batch; the owner disposes the batch and the optimizer.</summary>
    private static (Action, IDisposable) TrainStep(Module model, int batch)
    {
        var rng = new Random(1);
        var x = Tensor.RandomNormal(new Shape(batch, 1, 28, 28), rng).Unscope();
        int[] labels = Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray();
        var optimizer = new Adam(model.Parameters(), 1e-3f);
        model.Train();
        return (() => Report.TrainingStep(model, x, labels, optimizer), new Owner(x, optimizer));
    }

    /// <summary>One forward pass in eval mode without gradients on a fixed random batch.</summary>
    private static (Action, IDisposable) InferStep(Module model, int batch)
    {
        var x = Tensor.RandomNormal(new Shape(batch, 1, 28, 28), new Random(2)).Unscope();
        model.Eval();
        return (() =>
        {
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            model.Forward(x);
        }, new Owner(x));
    }

    /// <summary>
    /// Trains ResNet-18 for a few steps and reports the process's peak resident set (VmHWM), and its growth over the
    /// peak before the network was built (the runtime and the library loaded).
    /// </summary>
    public static void RunMemory(BenchOptions o)
    {
        const string Name = "memory/resnet18-train";
        if (!o.Selected(Name))
        {
            return;
        }
        double baseline = Report.ProcStatusMiB("VmHWM");
        RandomSource.ManualSeed(0);
        using var model = Create("resnet18");
        Report.PeakMemory(Name, baseline, TrainStep(model, TrainBatch), o.StepsOr(5), TrainBatch);
    }

    /// <summary>
    /// The Fashion-MNIST job's recipe: small CNN, Adam 1e-3, StepLR(3, 0.1) per epoch, batch 64, shuffled each epoch,
    /// normalised inputs; reports the final test accuracy in percent.
    /// </summary>
    public static void RunAccuracy(BenchOptions o)
    {
        const string Name = "accuracy/smallcnn";
        if (!o.Selected(Name))
        {
            return;
        }
        var train = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Normalize = true });
        var test = FashionMnist.Load(null, DatasetSplit.Test, new FashionMnistOptions { Normalize = true });
        RandomSource.ManualSeed(o.Seed);
        using var model = SmallCnn.Create();
        using var adam = new Adam(model.Parameters(), 1e-3f);
        var history = Trainer.Fit(model, adam, train, null, new TrainingOptions
        {
            Epochs = o.Epochs,
            BatchSize = TrainBatch,
            Seed = o.Seed,
            Scheduler = new StepLR(adam, stepSize: 3, gamma: 0.1f),
        });
        var result = Trainer.Evaluate(model, test);
        Report.Result(Name, "% test accuracy", 100 * result.Accuracy, higherIsBetter: true, new()
        {
            ["epochs"] = o.Epochs,
            ["seed"] = o.Seed,
            ["trainSeconds"] = Math.Round(history.Elapsed.TotalSeconds, 1),
            ["testImages"] = result.Count,
        });
    }
}
