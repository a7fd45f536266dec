using System.Diagnostics;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// The ML.NET face measured against the engine under it, in one process and on the same images: training through an
/// ML.NET pipeline against <see cref="Trainer.Fit"/>; scoring by the in-process transformer against the saved model
/// (ONNX Runtime) through <c>Transform</c> (batches of 256 in-process) and through a <c>PredictionEngine</c> (one row at
/// a time); in a fresh process, the time from <c>Model.Load</c> to the first prediction of a ResNet-18 model; and the
/// featurizer against ML.NET's own <c>DnnFeaturizeImage</c> on the packaged ImageNet ResNet-18.
/// </summary>
internal static class MLNetBenchmarks
{
    /// <summary>The argument with which the benchmark runs itself to time a first prediction in a fresh process.</summary>
    public const string FirstPredictionCommand = "first-prediction";

    private const int TrainImages = 12_000;
    private const int TestImages = 5_000;
    private const int EngineRows = 1_000;

    public sealed class FashionRow
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }

    public static void Run(BenchOptions options)
    {
        var train = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = TrainImages });
        var test = FashionMnist.Load(null, DatasetSplit.Test, new FashionMnistOptions { Limit = TestImages });
        var ml = new MLContext(options.Seed);
        var trainView = ml.Data.LoadFromEnumerable(Rows(train));
        var testRows = Rows(test);
        var testView = ml.Data.LoadFromEnumerable(testRows);

        // Warm both paths up on a few batches so that neither pays for the first compilation of the kernels.
        FitLowLevel(train.Take(1_024), 1, options.Seed).Dispose();
        FitPipeline(ml, ml.Data.TakeRows(trainView, 1_024), 1, options.Seed);

        // Alternate the two sides and keep each one's best run: a shared two-core machine is noisy.
        int epochs = options.Epochs;
        double lowLevel = double.MaxValue, pipeline = double.MaxValue;
        ITransformer model = null!;
        for (int round = 0; round < 2; round++)
        {
            lowLevel = Math.Min(lowLevel, Time(() => FitLowLevel(train, epochs, options.Seed).Dispose()));
            pipeline = Math.Min(pipeline, Time(() => model = FitPipeline(ml, trainView, epochs, options.Seed)));
        }
        double images = (double)train.Count * epochs;
        Report.Result("mlnet/train-trainer-fit", "images/s", images / lowLevel, true, new() { ["epochs"] = epochs, ["images"] = train.Count });
        // What the pipeline adds to training itself: fitting MapValueToKey and reading the rows into batches.
        var history = ((TransformerChain<ConvNetTransformer>)model).LastTransformer.TrainingHistory!;
        double adapter = pipeline - history.Elapsed.TotalSeconds;
        Report.Result("mlnet/train-pipeline", "images/s", images / pipeline, true, new()
        {
            ["epochs"] = epochs, ["images"] = train.Count, ["pipelineOverTrainerFit"] = Math.Round(pipeline / lowLevel, 3),
            ["adapterSeconds"] = Math.Round(adapter, 3), ["adapterShareOfFit"] = Math.Round(adapter / pipeline, 3),
        });

        string zip = Path.Combine(Path.GetTempPath(), $"convnet-bench-{Environment.ProcessId}.zip");
        try
        {
            ml.Model.Save(model, trainView.Schema, zip);
            var loaded = ml.Model.Load(zip, out _);
            CompareScoring(ml, "smallcnn", model, loaded, testView, testRows);
            TimeFirstPrediction(ml, zip);
            CompareFeaturizers(ml);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    internal static List<FashionRow> Rows(ImageDataset data)
        => Enumerable.Range(0, data.Count).Select(i => new FashionRow { Features = data.GetImage(i).ToArray(), Label = data.ClassNames[data.Labels[i]] }).ToList();

    private static Module FitLowLevel(ImageDataset train, int epochs, int seed)
    {
        RandomSource.ManualSeed(seed);
        var model = ModelZoo.Create("smallcnn", new ModelOptions(train.ClassCount, 1));
        using var adam = new Adam(model.Parameters(), 1e-3f);
        Trainer.Fit(model, adam, train, null, new TrainingOptions { Epochs = epochs, BatchSize = 64, Seed = seed, Device = Device.Cpu });
        return model;
    }

    private static ITransformer FitPipeline(MLContext ml, IDataView train, int epochs, int seed)
        => ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", Architecture = "smallcnn", Epochs = epochs, BatchSize = 64, Seed = seed, Device = Device.Cpu,
            }))
            .Fit(train);

    /// <summary>Images per second of the fitted (in-process) and the loaded (ONNX Runtime) model, by Transform and by PredictionEngine.</summary>
    private static void CompareScoring(MLContext ml, string name, ITransformer fitted, ITransformer loaded, IDataView data, IReadOnlyList<FashionRow> rows)
    {
        long count = data.GetRowCount() ?? 0;
        double ours = Best(() => ReadScores(ml, fitted.Transform(data)));
        double onnx = Best(() => ReadScores(ml, loaded.Transform(data)));
        Report.Result($"mlnet/score-transform/{name}/in-process", "images/s", count / ours, true);
        Report.Result($"mlnet/score-transform/{name}/saved-onnxruntime", "images/s", count / onnx, true, new() { ["inProcessOverOnnx"] = Math.Round(onnx / ours, 3) });

        int n = Math.Min(EngineRows, rows.Count);
        double oursRow = Best(() => PredictEach(ml, fitted, rows, n));
        double onnxRow = Best(() => PredictEach(ml, loaded, rows, n));
        Report.Result($"mlnet/score-engine/{name}/in-process", "images/s", n / oursRow, true);
        Report.Result($"mlnet/score-engine/{name}/saved-onnxruntime", "images/s", n / onnxRow, true, new() { ["inProcessOverOnnx"] = Math.Round(onnxRow / oursRow, 3) });
    }

    private static void ReadScores(MLContext ml, IDataView scored)
    {
        foreach (var _ in ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: true))
        {
        }
    }

    private static void PredictEach<TRow>(MLContext ml, ITransformer model, IReadOnlyList<TRow> rows, int count)
        where TRow : class
    {
        var engine = ml.Model.CreatePredictionEngine<TRow, ScoreRow>(model);
        for (int i = 0; i < count; i++)
        {
            engine.Predict(rows[i]);
        }
    }

    public sealed class ColourRow
    {
        [VectorType(3, 224, 224)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    /// <summary>
    /// Saves a ResNet-18 (224×224) model and times, in a fresh process, <c>Model.Load</c> → <c>CreatePredictionEngine</c> →
    /// the first <c>Predict</c>; also row-by-row scoring of ResNet-18 in-process against ONNX Runtime.
    /// </summary>
    private static void TimeFirstPrediction(MLContext ml, string smallZip)
    {
        var random = new Random(1);
        var rows = Enumerable.Range(0, 16).Select(i => new ColourRow
        {
            Features = Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)random.NextDouble()).ToArray(),
            Label = i % 2 == 0 ? "even" : "odd",
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", Architecture = "resnet18", Epochs = 1, BatchSize = 8, Device = Device.Cpu,
            }))
            .Fit(data);
        string zip = Path.ChangeExtension(smallZip, ".resnet18.zip");
        try
        {
            ml.Model.Save(model, data.Schema, zip);
            Report.Result("mlnet/resnet18-zip-size", "MB", new FileInfo(zip).Length / 1e6, false);
            var loaded = ml.Model.Load(zip, out _);
            double ours = Best(() => PredictEach(ml, model, rows, rows.Count));
            double onnx = Best(() => PredictEach(ml, loaded, rows, rows.Count));
            Report.Result("mlnet/score-engine/resnet18/in-process", "images/s", rows.Count / ours, true);
            Report.Result("mlnet/score-engine/resnet18/saved-onnxruntime", "images/s", rows.Count / onnx, true, new() { ["inProcessOverOnnx"] = Math.Round(onnx / ours, 3) });

            var start = new ProcessStartInfo(Environment.ProcessPath!, [typeof(MLNetBenchmarks).Assembly.Location, FirstPredictionCommand, zip])
            {
                RedirectStandardOutput = true,
            };
            if (!Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                start.ArgumentList.RemoveAt(0);
            }
            var times = new List<double>();
            for (int run = 0; run < 3; run++)
            {
                using var child = Process.Start(start)!;
                string output = child.StandardOutput.ReadToEnd();
                child.WaitForExit();
                times.Add(double.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture));
            }
            times.Sort();
            Report.Result("mlnet/resnet18-first-prediction-after-load", "ms", times[1], false,
                new() { ["process"] = "fresh, median of 3", ["runs"] = times, ["steps"] = "Model.Load, CreatePredictionEngine, Predict" });
        }
        finally
        {
            File.Delete(zip);
        }
    }

    public sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>
    /// The packaged ImageNet ResNet-18's 512 features of 64 images at 224×224: ML.NET's <c>DnnFeaturizeImage</c> (ONNX
    /// Runtime, one row at a time) against <c>ConvNetFeaturize</c> (the same ONNX files imported, batches of 256), and
    /// the largest difference between their features.
    /// </summary>
    private static void CompareFeaturizers(MLContext ml)
    {
        const int Count = 64;
        var random = new Random(2);
        var pixels = Enumerable.Range(0, Count).Select(_ => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)random.Next(256)).ToArray()).ToList();
        // DnnFeaturizeImage takes ExtractPixels' 0–255 values; ConvNetFeaturize the trainer's 0–1 (the network scales them back).
        var bytes = ml.Data.LoadFromEnumerable(pixels.Select(p => new ColourRow { Features = p }));
        var unit = ml.Data.LoadFromEnumerable(pixels.Select(p => new ColourRow { Features = [.. p.Select(v => v / 255f)] }));
        var theirs = ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Features").Fit(bytes);
        using var ours = ml.Transforms.ConvNetFeaturize("Features", "Features", PretrainedModel.ResNet18ImageNet).Fit(unit);
        List<FeatureRow> theirFeatures = [], ourFeatures = [];
        double theirTime = Best(() => theirFeatures = ml.Data.CreateEnumerable<FeatureRow>(theirs.Transform(bytes), reuseRowObject: false).ToList());
        double ourTime = Best(() => ourFeatures = ml.Data.CreateEnumerable<FeatureRow>(ours.Transform(unit), reuseRowObject: false).ToList());
        double difference = theirFeatures.Zip(ourFeatures).Max(p => p.First.Features.Zip(p.Second.Features, (a, b) => Math.Abs(a - b)).Max());
        double scale = theirFeatures.Max(r => r.Features.Max(Math.Abs));
        Report.Result("mlnet/featurize-resnet18/dnn-featurize-image", "images/s", Count / theirTime, true);
        Report.Result("mlnet/featurize-resnet18/convnet-featurize", "images/s", Count / ourTime, true, new()
        {
            ["oursOverDnnFeaturizeImage"] = Math.Round(theirTime / ourTime, 3),
            ["maxAbsFeatureDifference"] = difference, ["largestFeature"] = scale,
        });
    }

    /// <summary>In a fresh process: milliseconds from <c>Model.Load</c> to the first prediction of <paramref name="zip"/>.</summary>
    public static int FirstPrediction(string zip)
    {
        var row = new ColourRow { Features = new float[3 * 224 * 224], Label = "even" };
        var watch = Stopwatch.StartNew();
        var ml = new MLContext();
        var model = ml.Model.Load(zip, out _);
        double load = watch.Elapsed.TotalMilliseconds;
        var engine = ml.Model.CreatePredictionEngine<ColourRow, ScoreRow>(model);
        double create = watch.Elapsed.TotalMilliseconds;
        engine.Predict(row);
        Console.Error.WriteLine($"Model.Load {load:F0} ms, CreatePredictionEngine {create - load:F0} ms, first Predict {watch.Elapsed.TotalMilliseconds - create:F0} ms");
        Console.WriteLine(watch.Elapsed.TotalMilliseconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>The better of two timed runs (the first also warms the scoring code up).</summary>
    private static double Best(Action action) => Math.Min(Time(action), Time(action));

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }
}
