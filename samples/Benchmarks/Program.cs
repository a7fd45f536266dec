// The .NET side of build/bench/run.sh: SGEMM and convolution kernels, training and inference throughput, peak
// memory and Fashion-MNIST accuracy, printed as JSON lines that the script joins with build/bench/torch_bench.py's.
//   dotnet samples/Benchmarks/bin/Release/net10.0/Benchmarks.dll [--mode throughput|memory|accuracy|gpu|mlnet|soak|augmentation|smalldata] [--only PREFIX] [--steps N]
using Microsoft.ML.ConvNet.Samples.Benchmarks;

if (args.Length == 2 && args[0] == MLNetBenchmarks.FirstPredictionCommand)
{
    return MLNetBenchmarks.FirstPrediction(args[1]); // run in a fresh process by the mlnet mode
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

if (options.Mode == BenchMode.Gpu)
{
    return GpuBenchmark.Run(options); // its own JSON lines only: build/bench/run_gpu.sh joins them with PyTorch's
}
Report.Info();
switch (options.Mode)
{
    case BenchMode.Throughput:
        KernelBenchmarks.Run(options);
        NetworkBenchmarks.RunThroughput(options);
        ImageNetBenchmarks.RunThroughput(options);
        break;
    case BenchMode.Memory:
        NetworkBenchmarks.RunMemory(options);
        ImageNetBenchmarks.RunMemory(options);
        break;
    case BenchMode.Accuracy:
        NetworkBenchmarks.RunAccuracy(options);
        break;
    case BenchMode.MLNet:
        MLNetBenchmarks.Run(options);
        break;
    case BenchMode.Soak:
        SoakBenchmark.Run(options);
        break;
    case BenchMode.Augmentation:
        AugmentationBenchmarks.Run(options);
        break;
    case BenchMode.SmallData:
        SmallDataBenchmarks.Run(options);
        break;
}
return 0;
