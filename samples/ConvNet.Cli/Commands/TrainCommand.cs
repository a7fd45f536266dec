using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Spectre.Console;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet train --dataset &lt;folder | fashion-mnist&gt; --arch NAME --output model.zip [...]</c>: builds the ML.NET
/// pipeline <c>MapValueToKey → [LoadImages →] ConvNet → MapKeyToValue</c> over rows of image paths (a folder) or of
/// 1×28×28 pixel vectors (Fashion-MNIST), trains it, evaluates it with ML.NET's evaluator on held-out data (a stratified
/// split of an image folder, or Fashion-MNIST's official test set), and saves it with <c>mlContext.Model.Save</c> as an
/// ML.NET zip. With <c>--json</c> the last line of stdout is one JSON object with the metrics and the run's settings.
/// </summary>
internal static class TrainCommand
{
    private const string Name = "train";

    /// <summary>The trainer's defaults, which the options' defaults follow.</summary>
    private static readonly ConvNetTrainer.Options Defaults = new();

    /// <summary>Builds the command.</summary>
    public static System.CommandLine.Command Create()
    {
        var dataset = new Option<string?>("--dataset", "-d") { Description = "An image folder (one sub-folder of images per class) or 'fashion-mnist'." };
        var arch = new Option<string?>("--arch", "-a") { Description = "Architecture name (see 'convnet summary --list'), e.g. lenet5, smallcnn, resnet18." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Passes over the training data.", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Images per training step (the trainer's default, 16).", DefaultValueFactory = _ => Defaults.BatchSize };
        var imageSize = new Option<string?>("--image-size") { Description = "Input size WxH the images are resized to (default 28x28 for lenet5 and smallcnn, 224x224 otherwise; fashion-mnist is 28x28)." };
        var channels = new Option<int?>("--channels") { Description = "1 (grayscale) or 3 (RGB) for image folders (default 3); fashion-mnist is 1." };
        var device = new Option<string>("--device") { Description = "cpu, cuda (or cuda:N) or auto.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the initialisation and the shuffling.", DefaultValueFactory = _ => 1 };
        var learningRate = new Option<float>("--learning-rate", "--lr") { Description = "Adam learning rate, the peak of the one-cycle schedule (the trainer's default, 0.003).", DefaultValueFactory = _ => Defaults.LearningRate };
        var labelSmoothing = new Option<float>("--label-smoothing") { Description = "Label smoothing of the cross-entropy, in [0, 1) (the trainer's default, 0.1).", DefaultValueFactory = _ => Defaults.LabelSmoothing };
        var testFraction = new Option<double?>("--test-fraction") { Description = "Image folders: fraction of each class held out for evaluation (default 0.2)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST files (default: $FASHION_MNIST_DIR, $CONVNET_DATA_DIR, samples/data, /usr/share/datasets)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on at most N images (a quick run)." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Evaluate on at most N images." };
        var output = new Option<string?>("--output", "-o") { Description = "The model file to write (a zip)." };
        var augment = new Option<string>("--augment")
        {
            Description = "Training augmentation: 'none' (the default), 'standard' (a reflect-padded crop by a tenth of the side and a horizontal flip), or steps such as "
                + "flip,crop:4,rotate:10@0.5,mixup:0.2 (see the README for every step).",
            DefaultValueFactory = _ => "none",
        };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: onecycle (the default, peaking at the learning rate), cosine (per step over the run) or constant.", DefaultValueFactory = _ => "onecycle" };
        var json = new Option<bool>("--json") { Description = "End the output with the metrics as one JSON object on the last line." };
        var report = new Option<string?>("--report") { Description = "Write a training report (index.html with PNG charts, filters, feature maps, wrong images, saliency) to this folder; the held-out images are then also evaluated after every epoch." };
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "Leave out image files that cannot be used (missing, undecodable, truncated), listing them, instead of failing." };
        var command = new System.CommandLine.Command(Name, "Train a classifier on an image folder or Fashion-MNIST, evaluate it on held-out images and save it.")
        {
            dataset, arch, epochs, batchSize, imageSize, channels, device, seed, learningRate, labelSmoothing, testFraction, dataDir, trainLimit, testLimit, output, augment, schedule, json, report, skipBad,
        };
        command.SetAction(parse => Run(new Settings
        {
            Dataset = parse.GetValue(dataset),
            Arch = parse.GetValue(arch),
            Epochs = parse.GetValue(epochs),
            BatchSize = parse.GetValue(batchSize),
            ImageSize = parse.GetValue(imageSize),
            Channels = parse.GetValue(channels),
            Device = parse.GetValue(device)!,
            Seed = parse.GetValue(seed),
            LearningRate = parse.GetValue(learningRate),
            LabelSmoothing = parse.GetValue(labelSmoothing),
            TestFraction = parse.GetValue(testFraction),
            DataDir = parse.GetValue(dataDir),
            TrainLimit = parse.GetValue(trainLimit),
            TestLimit = parse.GetValue(testLimit),
            Output = parse.GetValue(output),
            Augment = parse.GetValue(augment)!,
            Schedule = parse.GetValue(schedule)!,
            Json = parse.GetValue(json),
            Report = parse.GetValue(report),
            SkipBadImages = parse.GetValue(skipBad),
        }, CliOutput.Create(parse.InvocationConfiguration.Output, parse.GetValue(json))));
        return command;
    }

    /// <summary>The parsed command line.</summary>
    private sealed class Settings
    {
        public string? Dataset { get; init; }

        public string? Arch { get; init; }

        public int Epochs { get; init; }

        public int BatchSize { get; init; }

        public string? ImageSize { get; init; }

        public int? Channels { get; init; }

        public required string Device { get; init; }

        public int Seed { get; init; }

        public float LearningRate { get; init; }

        public float LabelSmoothing { get; init; }

        public double? TestFraction { get; init; }

        public string? DataDir { get; init; }

        public int? TrainLimit { get; init; }

        public int? TestLimit { get; init; }

        public string? Output { get; init; }

        public required string Augment { get; init; }

        public required string Schedule { get; init; }

        public bool Json { get; init; }

        public string? Report { get; init; }

        public bool SkipBadImages { get; init; }
    }

    private static int Run(Settings s, CliOutput output)
    {
        // Usage checks first: nothing is read before the command line is known to be valid.
        if (string.IsNullOrWhiteSpace(s.Dataset))
        {
            throw new UsageException(Name, $"--dataset is required: an image folder or '{CliData.FashionMnistName}'.");
        }
        if (string.IsNullOrWhiteSpace(s.Output))
        {
            throw new UsageException(Name, "--output is required: the model file to write, e.g. --output artifacts/model.zip.");
        }
        string arch = CheckArchitecture(s.Arch);
        bool fashion = CliData.IsFashionMnist(s.Dataset);
        CheckPositive("--epochs", s.Epochs);
        CheckPositive("--batch-size", s.BatchSize);
        if (!(s.LearningRate > 0) || !float.IsFinite(s.LearningRate))
        {
            throw new UsageException(Name, $"--learning-rate must be a positive number, got {s.LearningRate.ToString(CultureInfo.InvariantCulture)}.");
        }
        if (!(s.LabelSmoothing >= 0 && s.LabelSmoothing < 1))
        {
            throw new UsageException(Name, $"--label-smoothing must be in [0, 1), got {s.LabelSmoothing.ToString(CultureInfo.InvariantCulture)}.");
        }
        if (s.TrainLimit is int tl)
        {
            CheckPositive("--train-limit", tl);
        }
        if (s.TestLimit is int el)
        {
            CheckPositive("--test-limit", el);
        }
        int channels = s.Channels ?? (fashion ? 1 : 3);
        if (channels is not (1 or 3))
        {
            throw new UsageException(Name, $"--channels must be 1 (grayscale) or 3 (RGB), got {channels}.");
        }
        double testFraction = s.TestFraction ?? 0.2;
        if (fashion && s.TestFraction != null)
        {
            throw new UsageException(Name, $"--test-fraction applies to image folders; '{CliData.FashionMnistName}' is evaluated on its official 10 000-image test set (use --test-limit for fewer).");
        }
        if (!fashion && s.DataDir != null)
        {
            throw new UsageException(Name, $"--data-dir applies to '{CliData.FashionMnistName}'; for an image folder, pass the folder as --dataset.");
        }
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new UsageException(Name, $"--test-fraction must be between 0 and 1 (exclusive), got {testFraction.ToString(CultureInfo.InvariantCulture)}.");
        }
        if (fashion && s.ImageSize != null && ImageSize.Parse(Name, s.ImageSize) != (FashionMnist.ImageSize, FashionMnist.ImageSize))
        {
            throw new UsageException(Name, $"--image-size {s.ImageSize}: '{CliData.FashionMnistName}' images are 28x28 pixel vectors; leave --image-size out.");
        }
        if (fashion && channels != 1)
        {
            throw new UsageException(Name, $"--channels {channels}: '{CliData.FashionMnistName}' images are gray (one channel).");
        }
        var augmentation = ParseAugmentation(s.Augment);
        var schedule = ParseSchedule(s.Schedule);
        var device = CliDevice.Resolve(Name, s.Device);
        var (width, height) = s.ImageSize != null
            ? ImageSize.Parse(Name, s.ImageSize)
            : fashion || arch is "lenet5" or "smallcnn" ? (FashionMnist.ImageSize, FashionMnist.ImageSize) : (224, 224);
        int[] inputShape = [channels, height, width];
        bool smallInput = ChooseStem(arch, inputShape);
        string modelPath = Path.GetFullPath(s.Output);
        if (Directory.Exists(modelPath))
        {
            throw new UsageException(Name, $"--output '{modelPath}' is a folder; give the path of the model file to write, e.g. {Path.Combine(s.Output, "model.zip")}.");
        }
        // The output is checked before any data is read or trained on: a run never fails only when it saves.
        try
        {
            AtomicFile.CheckWritable(modelPath);
        }
        catch (IOException e)
        {
            throw new CliFailureException($"--output {e.Message}", ConvNetCli.MissingFile);
        }

        string? reportFolder = s.Report == null ? null : Path.GetFullPath(s.Report);
        if (reportFolder != null && File.Exists(reportFolder))
        {
            throw new UsageException(Name, $"--report '{reportFolder}' is a file; give the folder to write the report to.");
        }

        // The data: rows of pixels (Fashion-MNIST) or of image paths (a folder), each with its class name as text.
        var ml = new MLContext(seed: s.Seed);
        IDataView train, test;
        IReadOnlyList<string> classNames;
        string featureColumn;
        IEstimator<ITransformer> loading;
        string[]? files = null;
        List<string> skippedImages = [];
        if (fashion)
        {
            var (trainRows, names) = CliData.FashionMnistRows(s.DataDir, DatasetSplit.Train, s.TrainLimit);
            var (testRows, _) = CliData.FashionMnistRows(s.DataDir, DatasetSplit.Test, s.TestLimit);
            train = ml.Data.LoadFromEnumerable(trainRows);
            test = ml.Data.LoadFromEnumerable(testRows);
            classNames = names;
            featureColumn = CliData.PixelsColumn;
            loading = new EstimatorChain<ITransformer>();
        }
        else
        {
            var rows = CliData.ImageFolder(s.Dataset);
            classNames = [.. rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            if (classNames.Count < 2)
            {
                throw new CliFailureException(
                    $"--dataset folder '{Path.GetFullPath(s.Dataset)}' has {classNames.Count} class; a classifier needs at least two sub-folders of images, one per class.");
            }
            var bad = CliImages.CheckAll([.. rows.Select(r => r.ImagePath)], s.SkipBadImages, output);
            skippedImages = bad.Select(b => b.Problem).ToList();
            var badFiles = bad.Select(b => b.Path).ToHashSet(StringComparer.Ordinal);
            rows = [.. rows.Where(r => !badFiles.Contains(r.ImagePath))];
            files = [.. rows.Select(r => r.ImagePath)];
            var (trainRows, testRows) = CliData.StratifiedSplit(rows, testFraction, s.Seed);
            trainRows = CliData.Subset(trainRows, s.TrainLimit, s.Seed);
            testRows = CliData.Subset(testRows, s.TestLimit, s.Seed);
            if (trainRows.Length == 0 || testRows.Length == 0)
            {
                throw new CliFailureException(
                    $"--dataset folder '{Path.GetFullPath(s.Dataset)}' holds {rows.Length} images: too few to split into training and test images with --test-fraction {testFraction.ToString(CultureInfo.InvariantCulture)}.");
            }
            train = ml.Data.LoadFromEnumerable(trainRows);
            test = ml.Data.LoadFromEnumerable(testRows);
            featureColumn = CliData.ImageColumn;
            loading = ml.Transforms.LoadImages(CliData.ImageColumn, "", CliData.PathColumn);
        }
        long trainCount = train.GetRowCount() ?? 0, testCount = test.GetRowCount() ?? 0;
        string source = fashion ? CliData.FashionMnistName : Path.GetFullPath(s.Dataset);
        output.Line(string.Create(CultureInfo.InvariantCulture,
            $"{source}: {trainCount} training and {testCount} test images, {classNames.Count} classes; {arch} on {channels}x{height}x{width}{(smallInput ? " (small-input stem)" : "")}, device {device}"));

        var trainerOptions = new ConvNetTrainer.Options
        {
            Architecture = arch,
            SmallInput = smallInput,
            FeatureColumnName = featureColumn,
            LabelColumnName = CliData.LabelKeyColumn,
            Channels = channels,
            ImageHeight = height,
            ImageWidth = width,
            Epochs = s.Epochs,
            BatchSize = s.BatchSize,
            LearningRate = s.LearningRate,
            LearningRateSchedule = schedule,
            LabelSmoothing = s.LabelSmoothing,
            Augmentation = augmentation.Augmentation,
            Mixing = augmentation.Mixing,
            Device = device,
            Seed = s.Seed,
            SkipUnreadableImages = s.SkipBadImages,
        };
        output.Line($"augmentation {augmentation}; schedule {s.Schedule.ToLowerInvariant()}");
        // MapValueToKey with the class names as key data: keys in Fashion-MNIST's order, or sorted folder names.
        var keying = ml.Transforms.Conversion.MapValueToKey(CliData.LabelKeyColumn, CliData.LabelColumn, keyData: CliData.KeyData(ml, classNames));
        if (reportFolder != null)
        {
            // The report's validation curves and pictures come from the held-out images, prepared as the trainer sees them.
            trainerOptions.ValidationSet = keying.Append(loading).Fit(train).Transform(test);
            trainerOptions.ReportFolder = reportFolder;
        }
        var pipeline = keying
            .Append(loading)
            .Append(ml.MulticlassClassification.Trainers.ConvNet(trainerOptions))
            .Append(ml.Transforms.Conversion.MapKeyToValue(CliData.PredictedNameColumn, "PredictedLabel"));

        var clock = Stopwatch.StartNew();
        TransformerChain<KeyToValueMappingTransformer> model;
        try
        {
            model = Fit(pipeline, trainerOptions, train, output, s.Epochs);
        }
        catch (InvalidDataException e) when (files != null && !files.Any(e.Message.Contains) && CliImages.FirstUnreadable(files) is { } bad)
        {
            throw new CliFailureException($"{e.Message.TrimEnd()} {bad.Problem}", ConvNetCli.InvalidFile);
        }
        try
        {
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var network = model.OfType<ConvNetTransformer>().Single();
            MulticlassClassificationMetrics metrics;
            try
            {
                metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), CliData.LabelKeyColumn);
            }
            catch (Exception e) when (files != null && e is InvalidDataException or InvalidOperationException && !files.Any(e.Message.Contains)
                && CliImages.FirstUnreadable(files) is { } bad)
            {
                throw new CliFailureException($"{e.Message.TrimEnd()} {bad.Problem}", ConvNetCli.InvalidFile);
            }

            // The ML.NET zip: written next to its final place and renamed, so a failure leaves no partial model.
            AtomicFile.Write(modelPath, stream => ml.Model.Save(model, train.Schema, stream));

            output.PrintMetrics(metrics, network.ClassNames,
                $"Evaluation on {testCount} held-out images ({(fashion ? "the Fashion-MNIST test set" : $"{testFraction.ToString(CultureInfo.InvariantCulture)} of each class")}):");
            output.Line($"model saved to {modelPath}");
            if (reportFolder != null)
            {
                output.Line($"report written to {Path.Combine(reportFolder, Vision.TrainingReport.PageFileName)}");
            }
            if (s.Json)
            {
                var json = CliOutput.MetricsJson(metrics, network.ClassNames);
                json["model"] = modelPath;
                json["dataset"] = source;
                json["arch"] = arch;
                json["trainRows"] = trainCount;
                json["testRows"] = testCount;
                json["epochs"] = network.TrainingHistory?.Epochs.Count ?? s.Epochs;
                json["batchSize"] = s.BatchSize;
                json["learningRate"] = s.LearningRate;
                json["labelSmoothing"] = s.LabelSmoothing;
                json["augmentation"] = augmentation.ToString();
                json["schedule"] = s.Schedule.ToLowerInvariant();
                json["imageSize"] = string.Create(CultureInfo.InvariantCulture, $"{width}x{height}");
                json["channels"] = channels;
                json["classes"] = new JsonArray([.. network.ClassNames.Select(n => (JsonNode?)n)]);
                json["device"] = device.ToString();
                json["seed"] = s.Seed;
                json["trainSeconds"] = Math.Round(trainSeconds, 3);
                if (reportFolder != null)
                {
                    json["report"] = Path.Combine(reportFolder, Vision.TrainingReport.PageFileName);
                }
                json["skippedImages"] = new JsonArray([.. skippedImages.Concat(network.SkippedImages).Select(n => (JsonNode?)n)]);
                output.WriteJson(json);
            }
        }
        finally
        {
            foreach (var step in model)
            {
                (step as IDisposable)?.Dispose();
            }
        }
        return 0;
    }

    /// <summary>Fits <paramref name="pipeline"/>, showing progress: a bar per epoch on a terminal, one line per epoch otherwise.</summary>
    private static TransformerChain<TLast> Fit<TLast>(EstimatorChain<TLast> pipeline, ConvNetTrainer.Options options, IDataView data, CliOutput output, int epochs)
        where TLast : class, ITransformer
    {
        if (output.Console is not { } console)
        {
            options.MetricsCallback = r => output.Line(r.ToString());
            return pipeline.Fit(data);
        }
        TransformerChain<TLast>? model = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var tasks = Enumerable.Range(1, epochs).Select(e => progress.AddTask($"epoch {e}/{epochs}", autoStart: false)).ToArray();
                options.BatchCallback = b =>
                {
                    var task = tasks[b.Epoch - 1];
                    if (!task.IsStarted)
                    {
                        task.StartTask();
                    }
                    task.MaxValue = b.BatchCount;
                    task.Value = b.Batch + 1;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"epoch {b.Epoch}/{epochs}  loss {b.EpochLoss:F3}  acc {b.EpochAccuracy:F3}  {b.ImagesPerSecond:F0} img/s");
                };
                options.MetricsCallback = m =>
                {
                    var r = m.Epoch;
                    var task = tasks[r.Epoch - 1];
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"epoch {r.Epoch}/{epochs}  loss {r.TrainLoss:F3}  acc {r.TrainAccuracy:F3}  {r.ImagesPerSecond:F0} img/s  {r.TrainTime.TotalSeconds:F1} s{(m.SkippedRows > 0 ? $"  {m.SkippedRows} rows skipped" : "")}");
                    task.Value = task.MaxValue;
                    task.StopTask();
                };
                model = pipeline.Fit(data);
            });
        return model!;
    }

    /// <summary>The zoo name of <paramref name="arch"/> (case-insensitive), or a usage error naming the closest names.</summary>
    private static string CheckArchitecture(string? arch)
    {
        if (string.IsNullOrWhiteSpace(arch))
        {
            throw new UsageException(Name, "--arch is required, e.g. --arch lenet5 (all names: 'convnet summary --list').");
        }
        string? known = ModelZoo.Names.FirstOrDefault(n => string.Equals(n, arch, StringComparison.OrdinalIgnoreCase));
        if (known != null)
        {
            return known;
        }
        var closest = ModelZoo.Names.OrderBy(n => Distance(n, arch.ToLowerInvariant())).ThenBy(n => n, StringComparer.Ordinal).Take(5);
        throw new UsageException(Name, $"unknown architecture '{arch}'. Closest: {string.Join(", ", closest)} (all names: 'convnet summary --list').");
    }

    /// <summary>
    /// Whether to use the zoo's small-input stem: preferred for inputs of at most 32 pixels, else the standard stem;
    /// the other is taken when the preferred one cannot run on <paramref name="shape"/>. A usage error when neither can.
    /// </summary>
    private static bool ChooseStem(string arch, int[] shape)
    {
        bool preferred = shape[1] <= 32 && shape[2] <= 32;
        string? problem = null;
        foreach (bool small in new[] { preferred, !preferred })
        {
            using var net = ModelZoo.Create(arch, new ModelOptions(10, shape[0], small));
            try
            {
                net.Summary(shape);
                return small;
            }
            catch (Exception e) when (e is ShapeMismatchException or ArgumentException)
            {
                problem ??= e.Message;
            }
        }
        throw new UsageException(Name, $"{arch} cannot run on a {string.Join("x", shape)} input (channels x height x width): {problem} Choose another --image-size{(arch is "lenet5" or "smallcnn" ? " (28x28 works)" : "")}.");
    }

    /// <summary>The --augment value: 'none', 'standard' or a step list (a usage error names the bad step).</summary>
    private static AugmentationSpec ParseAugmentation(string text)
    {
        if (text.Trim().Equals("standard", StringComparison.OrdinalIgnoreCase))
        {
            return new AugmentationSpec(ConvNetTrainer.Options.StandardAugmentation, null);
        }
        try
        {
            return AugmentationSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException(Name, $"--augment: {e.Message}");
        }
    }

    /// <summary>The --schedule value as the trainer's schedule factory (null: constant).</summary>
    private static Func<Optimizers.Optimizer, LearningRateScheduler>? ParseSchedule(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cosine" => ConvNetTrainer.Options.CosineSchedule,
        "onecycle" => ConvNetTrainer.Options.OneCycleSchedule,
        "constant" => null,
        _ => throw new UsageException(Name, $"--schedule: unknown schedule '{text}'; use cosine, onecycle or constant."),
    };

    private static void CheckPositive(string option, int value)
    {
        if (value <= 0)
        {
            throw new UsageException(Name, $"{option} must be positive, got {value}.");
        }
    }

    /// <summary>The Levenshtein distance, to suggest architecture names.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int previous = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}
