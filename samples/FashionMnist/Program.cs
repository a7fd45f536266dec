using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Samples.FashionMnistSample;

/// <summary>
/// Trains a CNN on Fashion-MNIST in an ML.NET pipeline: per-epoch progress with throughput, ML.NET's metrics and
/// confusion table on the test set, then saves the model as an ML.NET zip, loads it back with <c>Model.Load</c> (which
/// scores with ONNX Runtime) and checks that it predicts what the trained model predicts.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        SampleOptions o;
        try
        {
            o = SampleOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("Run with --help for the options.");
            return 2;
        }
        if (o.Help)
        {
            Console.WriteLine(SampleOptions.Usage);
            return 0;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            return Run(o, cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine();
            Console.WriteLine("Cancelled.");
            return 130;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    /// <summary>One image: 1×28×28 normalised pixels and its class name.</summary>
    private sealed class Garment
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];

        public string PredictedName { get; set; } = "";
    }

    private static int Run(SampleOptions o, CancellationToken token)
    {
        var inv = CultureInfo.InvariantCulture;
        var watch = Stopwatch.StartNew();
        string folder = FashionMnist.FindDataDirectory(o.DataDir);
        var trainSet = FashionMnist.Load(folder, DatasetSplit.Train, new FashionMnistOptions { Limit = o.TrainLimit, Normalize = true });
        var testSet = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = o.TestLimit, Normalize = true });
        Console.WriteLine(string.Create(inv,
            $"Fashion-MNIST from {folder}: {trainSet.Count} training and {testSet.Count} test images (checksums verified, loaded in {watch.Elapsed.TotalSeconds:F1} s)"));

        var ml = new MLContext(o.Seed);
        var train = ml.Data.LoadFromEnumerable(Garments(trainSet));
        var test = ml.Data.LoadFromEnumerable(Garments(testSet));
        // The class names in Fashion-MNIST's order are the key values, so output i is class i.
        var classes = ml.Data.LoadFromEnumerable(FashionMnist.ClassNames.Select(n => new Garment { Label = n }));

        var progress = new ConsoleProgress { Epochs = o.Epochs }; // a bar in a terminal, epoch lines only when redirected
        var augmentation = AugmentationSpec.Parse(o.Augment);
        int stepsPerEpoch = (trainSet.Count + o.BatchSize - 1) / o.BatchSize;
        var labelKeys = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label", keyData: ml.Transforms.SelectColumns("Label").Fit(classes).Transform(classes));
        var pipeline = labelKeys
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey",
                Architecture = o.Arch,
                ModelFactory = o.Arch == "smallcnn" && (o.Width != 32 || o.Dropout != 0.25f) ? (classes, channels) => SmallCnn.Create(classes, channels, dropout: o.Dropout, width: o.Width) : null,
                SmallInput = true, // 28×28 inputs: LeNet-5 pads its first convolution to see 32×32

                Epochs = o.Epochs,
                BatchSize = o.BatchSize,
                Optimizer = o.Optimizer,
                LearningRate = o.LearningRate,
                WeightDecay = o.WeightDecay,
                LearningRateSchedule = optimizer => Architectures.Schedule(o, optimizer, stepsPerEpoch),
                LabelSmoothing = o.LabelSmoothing,
                Augmentation = augmentation.Augmentation,
                Mixing = augmentation.Mixing,
                ValidationSet = labelKeys.Fit(train).Transform(test), // the trainer's validation rows have its input's columns
                Seed = o.Seed,
                Device = Device.Cpu,
                CancellationToken = token,
                BatchCallback = progress.Batch,
                MetricsCallback = m => progress.Epoch(m.ToString().Replace("val_", "test_", StringComparison.Ordinal)),
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        Console.WriteLine(string.Create(inv,
            $"Pipeline: MapValueToKey → ConvNet({o.Arch}{(o.Arch == "smallcnn" ? $" width {o.Width}, dropout {o.Dropout:G2}" : "")}, {o.Optimizer} lr {o.LearningRate:G4}{(o.WeightDecay > 0 ? $" weight decay {o.WeightDecay:G3}" : "")}, {Architectures.ScheduleDescription(o)}, batch {o.BatchSize}, {o.Epochs} epochs, label smoothing {o.LabelSmoothing:G2}, augmentation {augmentation}, seed {o.Seed}) → MapKeyToValue"));

        var model = pipeline.Fit(train);
        var convnet = model.OfType<ConvNetTransformer>().Single();
        var epochs = convnet.TrainingHistory!.Epochs;
        double meanThroughput = epochs.Sum(e => e.Samples) / epochs.Sum(e => e.TrainTime.TotalSeconds);
        Console.WriteLine(string.Create(inv,
            $"Model {o.Arch}: {convnet.Model.ParameterCount():N0} parameters. Training: {convnet.TrainingHistory.Elapsed.TotalSeconds:F1} s, {meanThroughput:F0} images/s on average"));

        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "LabelKey");
        Console.WriteLine();
        Console.WriteLine(string.Create(inv,
            $"Test accuracy: {metrics.MicroAccuracy:F4} (macro {metrics.MacroAccuracy:F4}), log-loss {metrics.LogLoss:F4}"));
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        string path = Path.GetFullPath(o.OutputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, stream => ml.Model.Save(model, train.Schema, stream));
        Console.WriteLine(string.Create(inv, $"Saved the ML.NET model to {path} ({new FileInfo(path).Length:N0} bytes)"));

        var loaded = ModelFile.Load(ml, path, out _);
        var ours = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).ToList();
        var again = ml.Data.CreateEnumerable<Scored>(loaded.Transform(test), reuseRowObject: false).ToList();
        int differing = ours.Zip(again).Count(p => p.First.PredictedName != p.Second.PredictedName);
        double maxDifference = ours.Zip(again).Max(p => p.First.Score.Zip(p.Second.Score, (a, b) => Math.Abs(a - b)).Max());
        Console.WriteLine(string.Create(inv,
            $"Reloaded model (ONNX Runtime): {ours.Count - differing} of {ours.Count} predictions identical, max |score difference| {maxDifference:E1}."));
        if (maxDifference > 1e-5)
        {
            Console.WriteLine("The reloaded model does not score as the trained one.");
            return 1;
        }

        if (o.MinAccuracy is double min && metrics.MicroAccuracy < min)
        {
            Console.WriteLine(string.Create(inv, $"Test accuracy {metrics.MicroAccuracy:F4} is below the required {min:F4}."));
            return 3;
        }
        return 0;
    }

    private static List<Garment> Garments(ImageDataset data)
        => Enumerable.Range(0, data.Count).Select(i => new Garment { Features = data.GetImage(i).ToArray(), Label = data.ClassNames[data.Labels[i]] }).ToList();
}
