using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// ResNet-18 training and inference throughput on a GPU, the workloads of build/bench/gpu_torch_bench.py: SGD
/// (lr 0.01, momentum 0.9) on cross-entropy with synthetic data, fp32 (TF32 off), tf32 (TF32 on) and bf16 autocast.
/// </summary>
internal static class GpuBenchmark
{
    private static readonly (string Name, bool Small, int Size, int Batch)[] Workloads =
        [("resnet18-224", false, 224, 128), ("resnet18-32", true, 32, 256)];

    public static int Run(BenchOptions options)
    {
        var device = Device.Parse(options.Device);
        int steps = options.StepsOr(50), warmup = options.WarmupOr(10);
        if (device.Type != DeviceType.Cuda)
        {
            Console.Error.WriteLine($"--mode gpu needs a CUDA device, got {device}.");
            return 2;
        }
        if (!CudaBackend.Availability.IsAvailable)
        {
            Console.Error.WriteLine(CudaBackend.Availability);
            return 3;
        }
        var backend = (CudaBackend)device.Backend;
        Console.Error.WriteLine($"{CudaBackend.Availability.Description}; benchmarking {device} ({backend.Name})");
        foreach (var (name, small, size, batch) in Workloads)
        {
            int classes = small ? 10 : 1000;
            foreach (var precision in (string[])["fp32", "tf32", "bf16"])
            {
                if (!options.Selected($"train/{name}/{precision}") && !options.Selected($"infer/{name}/{precision}"))
                {
                    continue;
                }
                CudaOptions.AllowTf32 = precision != "fp32";
                bool bf16 = precision == "bf16";
                RandomSource.ManualSeed(0);
                using var model = ModelZoo.Create("resnet18", new ModelOptions(classes, 3, small)).To(device);
                Report($"train/{name}/{precision}", batch, Train(model, backend, size, batch, classes, bf16, steps, warmup));
                Report($"infer/{name}/{precision}", batch, Infer(model, backend, size, batch, bf16, steps, warmup));
                backend.ReleaseCachedMemory();
            }
        }
        Console.Error.WriteLine($"device memory: {backend.MemoryStats}");
        return 0;
    }

    private static void Report(string workload, int batch, double imagesPerSecond)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"workload\": \"{workload}\", \"batch\": {batch}, \"imagesPerSecond\": {imagesPerSecond:F1}}}"));

    private static double Train(Module model, CudaBackend backend, int size, int batch, int classes, bool bf16, int steps, int warmup)
    {
        var rng = new Random(1);
        using var x = Tensor.RandomNormal(new Shape(batch, 3, size, size), rng, device: backend.Device).Unscope();
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        using var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        model.Train();
        var sw = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup)
            {
                backend.Synchronize();
                sw.Start();
            }
            using var scope = new TensorScope();
            using var cast = bf16 ? Autocast.BFloat16() : null;
            optimizer.ZeroGrad();
            var loss = Loss.CrossEntropy(model.Forward(x), labels);
            loss.Backward();
            optimizer.Step();
        }
        backend.Synchronize();
        return steps * batch / sw.Elapsed.TotalSeconds;
    }

    private static double Infer(Module model, CudaBackend backend, int size, int batch, bool bf16, int steps, int warmup)
    {
        using var x = Tensor.RandomNormal(new Shape(batch, 3, size, size), new Random(2), device: backend.Device).Unscope();
        model.Eval();
        using var noGrad = new NoGradScope();
        var sw = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup)
            {
                backend.Synchronize();
                sw.Start();
            }
            using var scope = new TensorScope();
            using var cast = bf16 ? Autocast.BFloat16() : null;
            model.Forward(x);
        }
        backend.Synchronize();
        return steps * batch / sw.Elapsed.TotalSeconds;
    }
}
