using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Samples.FashionMnistSample;

/// <summary>
/// Trains a CNN on Fashion-MNIST: per-epoch progress with throughput, test accuracy, confusion matrix, then saves the
/// model, reloads it into a fresh network and checks that its predictions on the test set are identical.
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
        catch (Exception e) when (e is InvalidDataException or DirectoryNotFoundException or FileNotFoundException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static int Run(SampleOptions o, CancellationToken token)
    {
        var inv = CultureInfo.InvariantCulture;
        var watch = Stopwatch.StartNew();
        string folder = FashionMnist.FindDataDirectory(o.DataDir);
        var train = FashionMnist.Load(folder, DatasetSplit.Train, new FashionMnistOptions { Limit = o.TrainLimit, Normalize = true });
        var test = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = o.TestLimit, Normalize = true });
        Console.WriteLine(string.Create(inv,
            $"Fashion-MNIST from {folder}: {train.Count} training and {test.Count} test images (checksums verified, loaded in {watch.Elapsed.TotalSeconds:F1} s)"));

        Architectures.Seed(o.Seed);
        using var model = Architectures.Create(o.Arch);
        using var optimizer = Architectures.CreateOptimizer(model, o.LearningRate);
        Console.WriteLine(string.Create(inv,
            $"Model {o.Arch}: {model.ParameterCount():N0} parameters; {optimizer.GetType().Name} lr {o.LearningRate:G4}, {Architectures.ScheduleDescription(o.Arch)}; batch {o.BatchSize}, {o.Epochs} epochs, seed {o.Seed}"));

        bool interactive = !Console.IsOutputRedirected;
        var lastLine = Stopwatch.StartNew();
        var history = Trainer.Fit(model, optimizer, train, test, new TrainingOptions
        {
            Epochs = o.Epochs,
            BatchSize = o.BatchSize,
            Seed = o.Seed,
            Scheduler = Architectures.Scheduler(o.Arch, optimizer),
            CancellationToken = token,
            BatchCompleted = r =>
            {
                if (interactive && lastLine.ElapsedMilliseconds >= 500)
                {
                    lastLine.Restart();
                    Console.Write(string.Create(inv,
                        $"\r  epoch {r.Epoch}  batch {r.Batch + 1}/{r.BatchCount}  loss {r.EpochLoss:F4}  acc {r.EpochAccuracy:F4}  {r.ImagesPerSecond:F0} img/s   "));
                }
            },
            EpochCompleted = r =>
            {
                if (interactive)
                {
                    Console.Write("\r" + new string(' ', 90) + "\r");
                }
                Console.WriteLine(r.ToString().Replace("val_", "test_", StringComparison.Ordinal));
            },
        });
        double meanThroughput = history.Epochs.Sum(e => e.Samples) / history.Epochs.Sum(e => e.TrainTime.TotalSeconds);
        Console.WriteLine(string.Create(inv, $"Training: {history.Elapsed.TotalSeconds:F1} s, {meanThroughput:F0} images/s on average"));

        var result = Trainer.Evaluate(model, test, cancellationToken: token);
        Console.WriteLine();
        Console.WriteLine(string.Create(inv,
            $"Test accuracy: {result.Accuracy:F4} ({result.Correct}/{result.Count}), loss {result.Loss:F4}, {result.ImagesPerSecond:F0} images/s"));

        string path = Path.GetFullPath(o.OutputPath);
        model.SaveStateDict(path);
        Console.WriteLine(string.Create(inv, $"Saved the model to {path} ({new FileInfo(path).Length:N0} bytes)"));

        using var reloaded = Architectures.Create(o.Arch);
        reloaded.LoadStateDict(path);
        var again = Trainer.Evaluate(reloaded, test, cancellationToken: token);
        int differing = result.Predictions.Zip(again.Predictions).Count(p => p.First != p.Second);
        bool sameScores = result.Scores.AsSpan().SequenceEqual(again.Scores);
        if (differing == 0 && sameScores)
        {
            Console.WriteLine(string.Create(inv, $"Reloaded model: predictions on all {again.Count} test images identical (scores bit for bit)."));
        }
        else
        {
            Console.WriteLine(string.Create(inv,
                $"Reloaded model differs: {differing} of {again.Count} predictions differ; scores {(sameScores ? "identical" : "differ")}."));
            return 1;
        }

        if (o.MinAccuracy is double min && result.Accuracy < min)
        {
            Console.WriteLine(string.Create(inv, $"Test accuracy {result.Accuracy:F4} is below the required {min:F4}."));
            return 3;
        }
        return 0;
    }
}
