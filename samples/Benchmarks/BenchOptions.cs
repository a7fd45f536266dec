using System.Globalization;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>What the benchmark process measures.</summary>
internal enum BenchMode
{
    /// <summary>SGEMM, convolution kernels, training and inference throughput (28×28 and 224×224 networks).</summary>
    Throughput,

    /// <summary>Peak resident memory while training ResNet-18 or ResNet-50 at 224×224; each alone in its process so the peak is its own.</summary>
    Memory,

    /// <summary>Final Fashion-MNIST test accuracy of the small CNN with the Fashion-MNIST job's recipe.</summary>
    Accuracy,

    /// <summary>ResNet-18 training and inference on a CUDA device in fp32, TF32 and bf16 (build/bench/run_gpu.sh).</summary>
    Gpu,

    /// <summary>The ML.NET face: pipeline training against Trainer.Fit, in-process scoring against the saved (ONNX Runtime) model, time to the first prediction.</summary>
    MLNet,

    /// <summary>A soak run: training steps and single predictions with memory sampled, and per-thread prediction engines against one thread.</summary>
    Soak,

    /// <summary>The cost of augmentation: small-CNN training throughput on Fashion-MNIST with and without it.</summary>
    Augmentation,

    /// <summary>Small data: a 36×36 RGB image folder of 300 images per class, LeNet-5 and the small CNN against ML.NET's LbfgsMaximumEntropy.</summary>
    SmallData,
}

/// <summary>Command-line options; build/bench/torch_bench.py takes the same ones.</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        Usage: Benchmarks [--mode throughput|memory|accuracy|gpu|mlnet|soak|augmentation|smalldata] [--only PREFIX[,PREFIX...]]
                          [--steps N] [--warmup N] [--warmup-seconds S] [--epochs N] [--seed N] [--device cuda:N] [--predictions N]
          --mode     throughput (default): sgemm/, conv3x3/, depthwise3x3/, train/, infer/ workloads, and at 224×224
                     train224/, infer224/ (with ONNX Runtime on the exported network), finetune224/
                     memory: memory/resnet18-train, memory/resnet50-224-train (peak resident memory; run each in a
                     process of its own)
                     accuracy: accuracy/smallcnn (Fashion-MNIST, Adam 1e-3, StepLR(3, 0.1), batch 64)
          gpu: train/resnet18-224/, train/resnet18-32/, infer/... in fp32, tf32 and bf16 on --device
                     mlnet: mlnet/ workloads, the ML.NET trainer and its saved model (--epochs: training epochs, default 2)
                     soak: --steps training steps of the small CNN (default 10000, whole epochs of 1000 steps) and
                     --predictions single predictions (default 100000), memory sampled; then 8 threads with a
                     PredictionEngine each against one thread
                     augmentation: augment/ workloads, small-CNN training on Fashion-MNIST with and without the
                     Fashion-MNIST job's augmentation (--steps: batches per timed run, default 300)
                     smalldata: smalldata/ workloads, a 36x36 RGB folder of 300 training images per class; LeNet-5 and
                     the small CNN (8 epochs, the trainer's defaults, seeds 1-3) against ML.NET's LbfgsMaximumEntropy
          --only     run only the workloads whose names start with one of the prefixes
          --steps    timed iterations of every workload (default: per workload, see docs/benchmarks.md)
          --warmup   untimed iterations before them (default: per workload)
          --warmup-seconds  whole networks also run untimed steps for at least this long (default 10), so that the
                     runtime has recompiled their hot code with its profile before the clock starts
          --epochs   epochs of the accuracy run (default 5)
          --seed     seed of the accuracy run (default 1)
          --device   the GPU of the gpu mode (default cuda:0)
        Prints one JSON object per line: first {"info": ...}, then one per workload.
        """;

    public BenchMode Mode { get; private set; } = BenchMode.Throughput;

    public IReadOnlyList<string> Only { get; private set; } = [];

    public int? Steps { get; private set; }

    public int? Warmup { get; private set; }

    /// <summary>Least time the whole-network workloads warm up for, whatever <see cref="Warmup"/> says.</summary>
    public double WarmupSeconds { get; private set; } = 10;

    public int Epochs { get; private set; } = 5;

    public int Seed { get; private set; } = 1;

    public string Device { get; private set; } = "cuda:0";

    public bool Help { get; private set; }

    /// <summary>Single predictions of the soak mode.</summary>
    public int Predictions { get; private set; } = 100_000;

    /// <summary>True when <paramref name="workload"/> is selected by <see cref="Only"/> (everything when it is empty).</summary>
    public bool Selected(string workload)
        => Only.Count == 0 || Only.Any(p => workload.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Timed iterations: <see cref="Steps"/> when given, otherwise the workload's default.</summary>
    public int StepsOr(int fallback) => Steps ?? fallback;

    /// <summary>Untimed iterations: <see cref="Warmup"/> when given, otherwise the workload's default.</summary>
    public int WarmupOr(int fallback) => Warmup ?? fallback;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h")
            {
                o.Help = true;
                continue;
            }
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"Option {name} needs a value.");
            }
            string value = args[++i];
            switch (name)
            {
                case "--mode":
                    o.Mode = value switch
                    {
                        "throughput" => BenchMode.Throughput,
                        "memory" => BenchMode.Memory,
                        "accuracy" => BenchMode.Accuracy,
                        "gpu" => BenchMode.Gpu,
                        "mlnet" => BenchMode.MLNet,
                        "soak" => BenchMode.Soak,
                        "augmentation" => BenchMode.Augmentation,
                        "smalldata" => BenchMode.SmallData,
                        _ => throw new ArgumentException($"--mode must be throughput, memory, accuracy, gpu, mlnet, soak, augmentation or smalldata, got '{value}'."),
                    };
                    break;
                case "--only":
                    o.Only = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--steps":
                    o.Steps = Positive(name, value);
                    break;
                case "--warmup":
                    o.Warmup = Positive(name, value, allowZero: true);
                    break;
                case "--warmup-seconds":
                    o.WarmupSeconds = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0
                        ? seconds
                        : throw new ArgumentException($"--warmup-seconds must be a number of seconds, 0 or more, got '{value}'.");
                    break;
                case "--epochs":
                    o.Epochs = Positive(name, value);
                    break;
                case "--seed":
                    o.Seed = Positive(name, value, allowZero: true);
                    break;
                case "--device":
                    o.Device = value;
                    break;
                case "--predictions":
                    o.Predictions = Positive(name, value);
                    break;
                default:
                    throw new ArgumentException($"Unknown option {name}.");
            }
        }
        return o;
    }

    private static int Positive(string name, string value, bool allowZero = false)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || (n == 0 && !allowZero))
        {
            throw new ArgumentException($"{name} needs a {(allowZero ? "non-negative" : "positive")} integer, got '{value}'.");
        }
        return n;
    }
}
