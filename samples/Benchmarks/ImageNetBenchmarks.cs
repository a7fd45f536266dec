using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// The networks transfer learning fine-tunes, at 224×224×3 with 1000 classes: training (batch 32, SGD with momentum),
/// inference at batch 1 and 32 against ONNX Runtime on the exported ONNX of the same network in the same process, and
/// ResNet-18 fine-tuned with its body frozen against its own inference, and the peak memory of training ResNet-50.
/// </summary>
internal static class ImageNetBenchmarks
{
    private const int Size = 224;
    private const int TrainBatch = 32;

    /// <summary>The trained networks with their default timed and warm-up steps.</summary>
    private static readonly (string Name, int Steps, int Warmup)[] Trained = [("resnet18", 3, 1), ("resnet50", 2, 1), ("mobilenet_v2", 3, 1)];

    /// <summary>The inferred networks; each runs at every batch of <see cref="InferBatches"/>.</summary>
    private static readonly string[] Inferred = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0"];

    /// <summary>Batch, timed steps and warm-up steps of the inference rows.</summary>
    private static readonly (int Batch, int Steps, int Warmup)[] InferBatches = [(1, 10, 3), (32, 3, 1)];

    public static void RunThroughput(BenchOptions o)
    {
        foreach (var (name, steps, warmup) in Trained)
        {
            string workload = $"train224/{name}";
            if (!o.Selected(workload))
            {
                continue;
            }
            using var model = Create(name, 1000);
            var (step, owner) = TrainStep(model, TrainBatch);
            using (owner)
            {
                Report.Throughput(workload, model, TrainBatch, o.StepsOr(steps), o.WarmupOr(warmup), o.WarmupSeconds, step);
            }
        }
        foreach (string name in Inferred)
        {
            foreach (var (batch, steps, warmup) in InferBatches)
            {
                string workload = $"infer224/{name}/b{batch}";
                if (o.Selected(workload))
                {
                    Inference(o, workload, name, batch, o.StepsOr(steps), o.WarmupOr(warmup));
                }
            }
        }
        FineTune(o);
    }

    private static Module Create(string name, int classes)
    {
        RandomSource.ManualSeed(0);
        return ModelZoo.Create(name, new ModelOptions(NumClasses: classes));
    }

    private static Tensor Images(int batch, int seed) => Tensor.RandomNormal(new Shape(batch, 3, Size, Size), new Random(seed)).Unscope();

    /// <summary>One SGD step (learning rate 0.01, momentum 0.9) on a fixed random batch with cross-entropy.</summary>
    private static (Action, IDisposable) TrainStep(Module model, int batch)
    {
        var x = Images(batch, 1);
        var rng = new Random(1);
        int[] labels = Enumerable.Range(0, batch).Select(_ => rng.Next(1000)).ToArray();
        var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        model.Train();
        return (() => Report.TrainingStep(model, x, labels, optimizer), new Owner(x, optimizer));
    }

    /// <summary>
    /// Our forward pass in evaluation mode without gradients, then ONNX Runtime (2 intra-op threads, all graph
    /// optimisations) on the network exported to ONNX, on the same input; the two outputs are compared.
    /// </summary>
    private static void Inference(BenchOptions o, string workload, string name, int batch, int steps, int warmup)
    {
        using var model = Create(name, 1000);
        model.Eval();
        using var x = Images(batch, 2);
        float[] ours;
        using (new NoGradScope())
        using (var scope = new TensorScope())
        {
            ours = model.Forward(x).ToArray();
        }
        Report.Throughput(workload, model, batch, steps, warmup, o.WarmupSeconds, () =>
        {
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            model.Forward(x);
        });

        using var stream = new MemoryStream();
        model.ExportOnnx(stream, 1, 3, Size, Size);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(stream.ToArray(), options);
        using var input = OrtValue.CreateTensorValueFromMemory(x.ToArray(), [batch, 3, Size, Size]);
        using var run = new RunOptions();
        string[] inputNames = [OnnxExport.InputName], outputNames = [OnnxExport.OutputName];
        float difference = 0, scale = 0;
        using (var outputs = session.Run(run, inputNames, [input], outputNames))
        {
            var theirs = outputs[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < ours.Length; i++)
            {
                difference = Math.Max(difference, Math.Abs(ours[i] - theirs[i]));
                scale = Math.Max(scale, Math.Abs(ours[i]));
            }
        }
        if (difference > 1e-3f * Math.Max(1f, scale))
        {
            Console.Error.WriteLine($"warning: {workload}: ONNX Runtime's output differs from ours by up to {difference} (outputs up to {scale})");
        }
        Report.Throughput(workload, model, batch, steps, warmup, o.WarmupSeconds, () =>
        {
            using var outputs = session.Run(run, inputNames, [input], outputNames);
        }, new() { ["maxAbsDifferenceFromOurs"] = difference, ["largestOutput"] = scale, ["onnxRuntime"] = OrtEnv.Instance().GetVersionString() },
            side: "onnxruntime");
    }

    /// <summary>
    /// ResNet-18 with a new 10-class head and its body frozen (parameters without gradients, batch norms kept in
    /// evaluation mode), as transfer learning trains it: SGD steps at batch 32, and the same network's inference at the
    /// same batch in the same process; the second row is the step time over the inference time.
    /// </summary>
    private static void FineTune(BenchOptions o)
    {
        const string Name = "finetune224/resnet18";
        if (!o.Selected(Name))
        {
            return;
        }
        using var model = Create("resnet18", 10);
        var resnet = (ResNet)model;
        model.Freeze();
        resnet.Fc.Unfreeze();
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is BatchNormBase)
            {
                module.KeepsEvaluationMode = true;
            }
        }
        int steps = o.StepsOr(3), warmup = o.WarmupOr(1);
        using var x = Images(TrainBatch, 1);
        var rng = new Random(1);
        int[] labels = Enumerable.Range(0, TrainBatch).Select(_ => rng.Next(10)).ToArray();
        using var optimizer = new Sgd(model.TrainableParameters(), 0.01f, momentum: 0.9f);
        double[] Seconds(Action step) => Report.StepSeconds(step, warmup, steps, o.WarmupSeconds);
        void Train() => Report.TrainingStep(model, x, labels, optimizer);
        void Infer()
        {
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            model.Forward(x);
        }
        // Alternate the two so that both see the same machine load.
        double train = 0, infer = 0;
        for (int round = 0; round < 2; round++)
        {
            model.Train();
            train += Seconds(Train).Sum();
            model.Eval();
            infer += Seconds(Infer).Sum();
        }
        var detail = new Dictionary<string, object?>
        {
            ["batch"] = TrainBatch,
            ["steps"] = 2 * steps,
            ["warmup"] = warmup,
            ["inferenceImagesPerSecond"] = Math.Round(2 * steps * TrainBatch / infer, 1),
            ["parameters"] = model.ParameterCount(),
            ["trainableParameters"] = model.ParameterCount(trainableOnly: true),
        };
        Report.Result(Name, "images/s", 2 * steps * TrainBatch / train, higherIsBetter: true, detail);
        Report.Result(Name + "/over-inference", "× inference time", train / infer, higherIsBetter: false, detail);
    }

    /// <summary>Peak resident set while training ResNet-50 at 224×224, batch 32, with SGD (run it in a process of its own).</summary>
    public static void RunMemory(BenchOptions o)
    {
        const string Name = "memory/resnet50-224-train";
        if (!o.Selected(Name))
        {
            return;
        }
        double baseline = Report.ProcStatusMiB("VmHWM");
        using var model = Create("resnet50", 1000);
        Report.PeakMemory(Name, baseline, TrainStep(model, TrainBatch), o.StepsOr(2), TrainBatch);
    }
}
