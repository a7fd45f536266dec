using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>Writes the JSON lines build/bench/run.sh joins with the PyTorch side's.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The environment of this side: runtime, thread count, SIMD width.</summary>
    public static void Info()
        => Write(new Dictionary<string, object?>
        {
            ["info"] = new Dictionary<string, object?>
            {
                ["side"] = "ours",
                ["runtime"] = RuntimeInformation.FrameworkDescription,
                ["library"] = typeof(Tensors.Tensor).Assembly.GetName().Version?.ToString(),
                ["threads"] = Environment.ProcessorCount,
                ["vector512"] = Vector512.IsHardwareAccelerated,
                ["vector256"] = Vector256.IsHardwareAccelerated,
            },
        });

    /// <summary>
    /// One measured workload; <paramref name="side"/> names another engine measured in this process (onnxruntime),
    /// which the table shows in a column of its own.
    /// </summary>
    public static void Result(string workload, string unit, double value, bool higherIsBetter, Dictionary<string, object?>? detail = null, string? side = null)
    {
        var line = new Dictionary<string, object?>
        {
            ["workload"] = workload,
            ["unit"] = unit,
            ["value"] = Math.Round(value, 3),
            ["higherIsBetter"] = higherIsBetter,
            ["detail"] = detail,
        };
        if (side != null)
        {
            line["side"] = side;
        }
        Write(line);
    }

    private static void Write(Dictionary<string, object?> line)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(line, Json));
        Console.Out.Flush();
    }

    /// <summary>Least time a kernel warms up for (the runtime recompiles hot code after its first calls).</summary>
    public const double KernelWarmupSeconds = 1;

    /// <summary>
    /// Best (smallest) milliseconds per call of <paramref name="action"/> over <paramref name="rounds"/> rounds of
    /// <paramref name="repeat"/> calls, after at least <paramref name="warmup"/> untimed calls and
    /// <see cref="KernelWarmupSeconds"/>.
    /// </summary>
    public static double BestMs(Action action, int warmup, int rounds, int repeat = 1)
    {
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmup || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < KernelWarmupSeconds; i++)
        {
            action();
        }
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < repeat; i++)
            {
                action();
            }
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds / repeat);
        }
        return best;
    }

    /// <summary>
    /// Seconds of each of <paramref name="steps"/> timed calls of <paramref name="step"/>, after at least
    /// <paramref name="warmup"/> untimed ones that together last at least <paramref name="warmupSeconds"/>.
    /// </summary>
    public static double[] StepSeconds(Action step, int warmup, int steps, double warmupSeconds)
    {
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmup || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < warmupSeconds; i++)
        {
            step();
        }
        var seconds = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return seconds;
    }

    /// <summary>
    /// Runs a training step <paramref name="steps"/> times, disposes what it holds, and reports the process's peak resident
    /// set (VmHWM) as <paramref name="name"/> and its growth over <paramref name="baselineMiB"/> (the peak measured before
    /// the network was built) as <c>name-growth</c>.
    /// </summary>
    public static void PeakMemory(string name, double baselineMiB, (Action Step, IDisposable Owner) train, int steps, int batch)
    {
        Tensors.BufferPool.ResetPeak();
        using (train.Owner)
        {
            for (int i = 0; i < steps; i++)
            {
                train.Step();
            }
        }
        double peak = ProcStatusMiB("VmHWM");
        var pool = Tensors.BufferPool.Stats;
        Result(name, "MiB", peak, higherIsBetter: false, new()
        {
            ["steps"] = steps, ["batch"] = batch, ["baselineMiB"] = Math.Round(baselineMiB, 1),
            ["peakTensorMiB"] = Math.Round(pool.PeakRentedBytes / 1048576.0, 1), ["pooledMiB"] = Math.Round(pool.PooledBytes / 1048576.0, 1),
        });
        Result(name + "-growth", "MiB", peak - baselineMiB, higherIsBetter: false, new() { ["steps"] = steps, ["batch"] = batch });
    }

    /// <summary>
    /// Times <paramref name="step"/> (warm-up excluded) and reports images per second over all timed steps as
    /// <paramref name="workload"/>, with the median step's rate, the settings and the model's parameter count in the detail.
    /// </summary>
    public static void Throughput(string workload, Layers.Module model, int batch, int steps, int warmup, double warmupSeconds, Action step,
        Dictionary<string, object?>? extra = null, string? side = null)
    {
        double[] seconds = StepSeconds(step, warmup, steps, warmupSeconds);
        double[] sorted = [.. seconds.Order()];
        var detail = new Dictionary<string, object?>
        {
            ["batch"] = batch,
            ["steps"] = steps,
            ["warmup"] = warmup,
            ["warmupSeconds"] = warmupSeconds,
            ["medianImagesPerSecond"] = Math.Round(batch / sorted[sorted.Length / 2], 1),
            ["parameters"] = model.ParameterCount(),
        };
        foreach (var (key, value) in extra ?? [])
        {
            detail[key] = value;
        }
        Result(workload, "images/s", steps * batch / seconds.Sum(), higherIsBetter: true, detail, side);
    }

    /// <summary>
    /// One training step as <c>Trainer.Fit</c> takes it: cross-entropy of the model on a fixed batch, backward freeing the
    /// intermediates, an optimizer step.
    /// </summary>
    public static void TrainingStep(Layers.Module model, Tensors.Tensor x, int[] labels, Optimizers.Optimizer optimizer)
    {
        using var scope = new Tensors.TensorScope();
        optimizer.ZeroGrad();
        Losses.Loss.CrossEntropy(model.Forward(x), labels).BackwardReleasingIntermediates();
        optimizer.Step();
    }

    /// <summary>A field of /proc/self/status in MiB (VmHWM: peak resident set; VmRSS: current).</summary>
    public static double ProcStatusMiB(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                string kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
            }
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}

/// <summary>Disposes what a benchmark step holds (its fixed batch, its optimizer) when the workload is done.</summary>
internal sealed class Owner(params IDisposable[] owned) : IDisposable
{
    public void Dispose()
    {
        foreach (var d in owned)
        {
            d.Dispose();
        }
    }
}
