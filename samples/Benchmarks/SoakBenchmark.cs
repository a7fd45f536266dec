using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.Data;
using static Microsoft.ML.ConvNet.Samples.Benchmarks.MLNetBenchmarks;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// A soak run: many training steps of the small CNN through the ML.NET trainer, then many single predictions through a
/// <c>PredictionEngine</c>, with the process's resident memory and the live managed heap sampled throughout; prints the
/// curves and the growth after warm-up. Then checks that one <c>PredictionEngine</c> per thread (ML.NET's thread-safe
/// way to predict, as <c>PredictionEnginePool</c> does) gives, under 8 threads, exactly the single-threaded results, for
/// the in-process model and for the saved one (ONNX Runtime).
/// </summary>
internal static class SoakBenchmark
{
    private const int BatchSize = 16;
    private const int StepsPerEpoch = 1_000;
    private const int Samples = 50;
    private const int Threads = 8;
    private const int ThreadRows = 2_000;

    private sealed record Sample(long Step, double ResidentMiB, double HeapMiB, double Seconds);

    public static void Run(BenchOptions options)
    {
        int steps = options.StepsOr(10_000);
        int predictions = options.Predictions;
        int epochs = Math.Max(1, (steps + StepsPerEpoch - 1) / StepsPerEpoch);
        steps = epochs * StepsPerEpoch;
        var train = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = StepsPerEpoch * BatchSize });
        var test = FashionMnist.Load(null, DatasetSplit.Test, new FashionMnistOptions { Limit = 10_000 });
        var ml = new MLContext(options.Seed);
        var trainView = ml.Data.LoadFromEnumerable(Rows(train));
        var testRows = Rows(test);
        Console.WriteLine($"soak: {steps} training steps (small CNN, batch {BatchSize}, {epochs} epochs of {train.Count} images), then {predictions} single predictions; memory sampled {Samples} times each");

        // Training: a sample every steps / Samples steps, from the trainer's batch callback.
        var process = Process.GetCurrentProcess();
        var clock = Stopwatch.StartNew();
        var trainSamples = new List<Sample> { Measure(process, 0, clock) };
        long done = 0;
        int every = Math.Max(1, steps / Samples);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", Architecture = "smallcnn", Epochs = epochs, BatchSize = BatchSize, Seed = options.Seed, Device = Device.Cpu,
                BatchCallback = _ =>
                {
                    if (++done % every == 0)
                    {
                        trainSamples.Add(Measure(process, done, clock));
                    }
                },
            }));
        using var model = pipeline.Fit(trainView);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        Print("training", "step", trainSamples);
        var trainGrowth = Growth(trainSamples);

        // Single predictions through one PredictionEngine, cycling over the test images.
        var engine = ml.Model.CreatePredictionEngine<FashionRow, ScoreRow>(model);
        clock.Restart();
        var predictSamples = new List<Sample> { Measure(process, 0, clock) };
        int predictEvery = Math.Max(1, predictions / Samples);
        float checksum = 0;
        for (int i = 1; i <= predictions; i++)
        {
            checksum += engine.Predict(testRows[i % testRows.Count]).Score[0];
            if (i % predictEvery == 0)
            {
                predictSamples.Add(Measure(process, i, clock));
            }
        }
        double predictSeconds = clock.Elapsed.TotalSeconds;
        Print("prediction", "call", predictSamples);
        var predictGrowth = Growth(predictSamples);

        // Threads: one engine per thread against one engine on one thread, in-process and saved (ONNX Runtime).
        string zip = Path.Combine(Path.GetTempPath(), $"convnet-soak-{Environment.ProcessId}.zip");
        (int Calls, int Mismatches) inProcess, saved;
        try
        {
            ml.Model.Save(model, trainView.Schema, zip);
            var loaded = ModelFile.Load(ml, zip, out _);
            inProcess = CompareThreads(ml, model, testRows);
            saved = CompareThreads(ml, loaded, testRows);
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(zip);
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training:   {steps} steps in {trainSeconds:F1} s; resident {trainGrowth.ResidentStart:F1} MiB after warm-up -> {trainGrowth.ResidentEnd:F1} MiB at the end ({Percent(trainGrowth.ResidentGrowth)}); live heap {trainGrowth.HeapStart:F1} -> {trainGrowth.HeapEnd:F1} MiB ({Percent(trainGrowth.HeapGrowth)})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prediction: {predictions} calls in {predictSeconds:F1} s ({predictions / predictSeconds:F0}/s); resident {predictGrowth.ResidentStart:F1} -> {predictGrowth.ResidentEnd:F1} MiB ({Percent(predictGrowth.ResidentGrowth)}); live heap {predictGrowth.HeapStart:F1} -> {predictGrowth.HeapEnd:F1} MiB ({Percent(predictGrowth.HeapGrowth)}) (checksum {checksum:F3})"));
        Console.WriteLine($"threads:    {Threads} threads, one PredictionEngine each: in-process {inProcess.Mismatches} mismatches in {inProcess.Calls} calls; saved model (ONNX Runtime) {saved.Mismatches} mismatches in {saved.Calls} calls (against one engine on one thread, bit-exact)");
        Report.Result("soak/train-resident-growth", "fraction", trainGrowth.ResidentGrowth, false, new() { ["steps"] = steps, ["startMiB"] = Math.Round(trainGrowth.ResidentStart, 1), ["endMiB"] = Math.Round(trainGrowth.ResidentEnd, 1), ["heapGrowth"] = Math.Round(trainGrowth.HeapGrowth, 4) });
        Report.Result("soak/predict-resident-growth", "fraction", predictGrowth.ResidentGrowth, false, new() { ["calls"] = predictions, ["startMiB"] = Math.Round(predictGrowth.ResidentStart, 1), ["endMiB"] = Math.Round(predictGrowth.ResidentEnd, 1), ["heapGrowth"] = Math.Round(predictGrowth.HeapGrowth, 4) });
        Report.Result("soak/threads-mismatches", "calls", inProcess.Mismatches + saved.Mismatches, false, new() { ["threads"] = Threads, ["calls"] = inProcess.Calls + saved.Calls });
    }

    private static string Percent(double fraction) => (fraction >= 0 ? "+" : "-") + Math.Abs(fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static Sample Measure(Process process, long step, Stopwatch clock)
    {
        double heap = GC.GetTotalMemory(forceFullCollection: true) / (1024.0 * 1024);
        process.Refresh();
        return new Sample(step, process.WorkingSet64 / (1024.0 * 1024), heap, clock.Elapsed.TotalSeconds);
    }

    private static void Print(string phase, string unit, List<Sample> samples)
    {
        Console.WriteLine($"{phase} memory curve ({unit}, resident MiB, live managed heap MiB, seconds):");
        foreach (var s in samples)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Step,7} {s.ResidentMiB,8:F1} {s.HeapMiB,8:F1} {s.Seconds,7:F1}"));
        }
    }

    /// <summary>
    /// Growth after warm-up: the mean of the last 5 samples against the mean of the 5 samples after the first 10 % of
    /// the run (warm-up: the buffer pool, the JIT and ML.NET's caches fill).
    /// </summary>
    private static (double ResidentStart, double ResidentEnd, double ResidentGrowth, double HeapStart, double HeapEnd, double HeapGrowth) Growth(List<Sample> samples)
    {
        int warm = Math.Max(1, samples.Count / 10);
        var start = samples.Skip(warm).Take(5).ToList();
        var end = samples.TakeLast(5).ToList();
        double rs = start.Average(s => s.ResidentMiB), re = end.Average(s => s.ResidentMiB);
        double hs = start.Average(s => s.HeapMiB), he = end.Average(s => s.HeapMiB);
        return (rs, re, (re - rs) / rs, hs, he, (he - hs) / hs);
    }

    /// <summary>Scores <see cref="ThreadRows"/> rows on one thread, then on <see cref="Threads"/> threads with an engine each; counts differing results.</summary>
    private static (int Calls, int Mismatches) CompareThreads(MLContext ml, ITransformer model, List<FashionRow> rows)
    {
        var single = ml.Model.CreatePredictionEngine<FashionRow, ScoreRow>(model);
        var expected = rows.Take(ThreadRows).Select(r => single.Predict(r).Score.ToArray()).ToArray();
        int mismatches = 0, calls = 0;
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var engine = ml.Model.CreatePredictionEngine<FashionRow, ScoreRow>(model);
            int local = 0;
            for (int k = 0; k < ThreadRows; k++)
            {
                int i = (k + t * ThreadRows / Threads) % ThreadRows; // each thread in its own order
                if (!engine.Predict(rows[i]).Score.AsSpan().SequenceEqual(expected[i]))
                {
                    local++;
                }
            }
            Interlocked.Add(ref mismatches, local);
            Interlocked.Add(ref calls, ThreadRows);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return (calls, mismatches);
    }
}
