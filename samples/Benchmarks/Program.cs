// Training and inference throughput of the Fashion-MNIST networks on synthetic 28×28 batches.
// Same workloads as build/bench/torch_bench.py; build/bench/run.sh runs both and prints the ratios.
//   dotnet run -c Release --project samples/Benchmarks -- [--steps 100] [--warmup 10] [--models lenet5,smallcnn]
// GPU mode: ResNet-18 at 224×224 (batch 128) and 32×32 (batch 256) in fp32/TF32/bf16, as build/bench/gpu_torch_bench.py;
// build/bench/run_gpu.sh runs both.
//   dotnet run -c Release --project samples/Benchmarks -- --mode gpu [--steps 50] [--warmup 10] [--device cuda:0]
//       [--precisions fp32,tf32,bf16] [--workloads resnet18-224,resnet18-32]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;

int steps = 100, warmup = 20;
int? gpuSteps = null, gpuWarmup = null;
string models = "lenet5,smallcnn", mode = "cpu", device = "cuda:0", precisions = "fp32,tf32,bf16", workloads = "resnet18-224,resnet18-32";
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--steps": steps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); gpuSteps = steps; break;
        case "--warmup": warmup = int.Parse(args[i + 1], CultureInfo.InvariantCulture); gpuWarmup = warmup; break;
        case "--models": models = args[i + 1]; break;
        case "--mode": mode = args[i + 1]; break;
        case "--device": device = args[i + 1]; break;
        case "--precisions": precisions = args[i + 1]; break;
        case "--workloads": workloads = args[i + 1]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (mode == "gpu")
{
    return GpuBenchmark.Run(Microsoft.ML.ConvNet.Backends.Device.Parse(device), gpuSteps ?? 50, gpuWarmup ?? 10, precisions.Split(','), workloads.Split(','));
}

RandomSource.ManualSeed(0);
foreach (var name in models.Split(','))
{
    using Module model = name switch
    {
        "lenet5" => LeNet5.Create(),
        "smallcnn" => SmallCnn.Create(),
        _ => throw new ArgumentException($"unknown model {name}"),
    };
    Report($"train/{name}", 64, TrainThroughput(model, 64, steps, warmup));
    Report($"infer/{name}", 256, InferThroughput(model, 256, Math.Max(steps / 4, 10), 3));
}
return 0;

static void Report(string workload, int batch, double imagesPerSecond)
    => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"workload\": \"{workload}\", \"batch\": {batch}, \"imagesPerSecond\": {imagesPerSecond:F1}}}"));

static double TrainThroughput(Module model, int batch, int steps, int warmup)
{
    var rng = new Random(1);
    using var x = Tensor.RandomNormal(new Shape(batch, 1, 28, 28), rng).Unscope();
    var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray();
    using var optimizer = new Adam(model.Parameters(), 1e-3f);
    model.Train();
    var sw = new Stopwatch();
    for (int i = 0; i < warmup + steps; i++)
    {
        if (i == warmup)
        {
            sw.Start();
        }
        using var scope = new TensorScope();
        optimizer.ZeroGrad();
        var loss = Loss.CrossEntropy(model.Forward(x), labels);
        loss.Backward();
        optimizer.Step();
    }
    return steps * batch / sw.Elapsed.TotalSeconds;
}

static double InferThroughput(Module model, int batch, int steps, int warmup)
{
    using var x = Tensor.RandomNormal(new Shape(batch, 1, 28, 28), new Random(2)).Unscope();
    model.Eval();
    var sw = new Stopwatch();
    using var noGrad = new NoGradScope();
    for (int i = 0; i < warmup + steps; i++)
    {
        if (i == warmup)
        {
            sw.Start();
        }
        using var scope = new TensorScope();
        model.Forward(x);
    }
    return steps * batch / sw.Elapsed.TotalSeconds;
}
