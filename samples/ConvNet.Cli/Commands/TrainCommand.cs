using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Microsoft.ML.ConvNet.Cli.Commands;

using System.CommandLine;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

/// <summary>
/// <c>convnet train --dataset &lt;folder | fashion-mnist&gt; --arch NAME --output model.zip [...]</c>: builds the pipeline
/// (images → grayscale when one channel → resize → pixels scaled to [0, 1] → per-channel mean/std normalisation → the
/// ConvNet trainer), trains it, evaluates it on held-out data (a stratified split of an image folder, or Fashion-MNIST's
/// official test set), and saves it as one model file whose first step loads image files, so that <c>predict</c> works
/// on PNG/JPEG files and <c>evaluate</c> on folders or Fashion-MNIST. With <c>--json</c> the last line of stdout is one
/// JSON object with the metrics and the run's settings.
/// </summary>
internal static class TrainCommand
{
    private const string Name = "train";

    /// <summary>The column the model's first step reads: the path of an image file.</summary>
    private const string ImageColumn = "Image";

    private const string PixelsColumn = "Pixels";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset", "-d") { Description = "An image folder (one sub-folder of images per class) or 'fashion-mnist'." };
        var arch = new Option<string?>("--arch", "-a") { Description = "Architecture name (see 'convnet summary --list'), e.g. lenet5, smallcnn, resnet18." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Passes over the training data.", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Images per training step.", DefaultValueFactory = _ => 64 };
        var imageSize = new Option<string?>("--image-size") { Description = "Input size WxH (default 28x28 for fashion-mnist, lenet5 and smallcnn; 224x224 otherwise)." };
        var channels = new Option<int?>("--channels") { Description = "1 (grayscale) or 3 (RGB); default 1 for fashion-mnist, 3 for image folders." };
        var device = new Option<string>("--device") { Description = "cpu, cuda (or cuda:N) or auto.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the initialisation and the shuffling.", DefaultValueFactory = _ => 1 };
        var learningRate = new Option<float>("--learning-rate", "--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3f };
        var testFraction = new Option<double?>("--test-fraction") { Description = "Image folders: fraction of each class held out for evaluation (default 0.2)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST files (default: $FASHION_MNIST_DIR, $CONVNET_DATA_DIR, samples/data, /usr/share/datasets)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on at most N images (a quick run)." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Evaluate on at most N images." };
        var output = new Option<string?>("--output", "-o") { Description = "The model file to write (a zip)." };
        var json = new Option<bool>("--json") { Description = "End the output with the metrics as one JSON object on the last line." };
        var command = new Command(Name, "Train a classifier on an image folder or Fashion-MNIST, evaluate it on held-out images and save it.")
        {
            dataset, arch, epochs, batchSize, imageSize, channels, device, seed, learningRate, testFraction, dataDir, trainLimit, testLimit, output, json,
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
            TestFraction = parse.GetValue(testFraction),
            DataDir = parse.GetValue(dataDir),
            TrainLimit = parse.GetValue(trainLimit),
            TestLimit = parse.GetValue(testLimit),
            Output = parse.GetValue(output),
            Json = parse.GetValue(json),
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

        public double? TestFraction { get; init; }

        public string? DataDir { get; init; }

        public int? TrainLimit { get; init; }

        public int? TestLimit { get; init; }

        public string? Output { get; init; }

        public bool Json { get; init; }
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

        var ctx = new ConvNetContext(seed: s.Seed);
        var trainerOptions = new ConvNetTrainer.Options
        {
            Architecture = arch,
            SmallInput = smallInput,
            FeatureColumnName = PixelsColumn,
            LabelColumnName = CliData.LabelColumn,
            Epochs = s.Epochs,
            BatchSize = s.BatchSize,
            LearningRate = s.LearningRate,
            Device = device,
            Seed = s.Seed,
        };
        var trainer = ctx.MulticlassClassification.Trainers.ConvNet(trainerOptions);

        // The data: image views (a column of decoded images, or of paths to load) with a key label.
        IDataView train, test;
        EstimatorChain<ITransformer> preprocessing;
        IReadOnlyList<ITransformer> savedPrefix;
        if (fashion)
        {
            train = CliData.FashionMnistImages(s.DataDir, DatasetSplit.Train, s.TrainLimit, ImageColumn);
            test = CliData.FashionMnistImages(s.DataDir, DatasetSplit.Test, s.TestLimit, ImageColumn);
            preprocessing = ImageSteps(ctx, channels, width, height, loadFiles: false);
            // The saved model starts by loading image files into the column the IDX images filled.
            savedPrefix = [new ImageLoadingTransformer(ImageColumn, null, CliData.PathColumn)];
        }
        else
        {
            (train, test) = SplitFolder(ctx, s.Dataset, testFraction, s.Seed, s.TrainLimit, s.TestLimit);
            preprocessing = ImageSteps(ctx, channels, width, height, loadFiles: true);
            savedPrefix = [];
        }
        int classCount = (int)((KeyDataViewType)train.Schema[CliData.LabelColumn].Type).Count;
        long trainRows = train.GetRowCount() ?? 0, testRows = test.GetRowCount() ?? 0;
        output.Line(string.Create(CultureInfo.InvariantCulture,
            $"{(fashion ? CliData.FashionMnistName : Path.GetFullPath(s.Dataset))}: {trainRows} training and {testRows} test images, {classCount} classes; {arch} on {channels}x{height}x{width}{(smallInput ? " (small-input stem)" : "")}, device {device}"));

        var clock = Stopwatch.StartNew();
        using var prep = preprocessing.Fit(train);
        var pixels = InMemoryDataView.Materialize(prep.Transform(train), [CliData.LabelColumn, PixelsColumn]);
        var (mean, std) = fashion
            ? (Enumerable.Repeat(FashionMnist.PixelMean, channels).ToArray(), Enumerable.Repeat(FashionMnist.PixelStd, channels).ToArray())
            : ChannelStatistics(pixels, channels);
        var estimator = ctx.Transforms.NormalizeMeanStd(PixelsColumn, PixelsColumn, mean, std).Append(trainer);
        using var model = Fit(estimator, pixels, output, s.Epochs);
        double trainSeconds = clock.Elapsed.TotalSeconds;

        var scoring = new TransformerChain<ITransformer>([.. prep, .. model]);
        var metrics = ctx.MulticlassClassification.Evaluate(scoring.Transform(test));

        var saved = new TransformerChain<ITransformer>([.. savedPrefix, .. prep, .. model]);
        string? folder = Path.GetDirectoryName(modelPath);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
        ctx.Model.Save(saved, DataViewSchema.Create([(CliData.PathColumn, TextDataViewType.Instance, null)]), modelPath);

        output.PrintMetrics(metrics, $"Evaluation on {testRows} held-out images ({(fashion ? "the Fashion-MNIST test set" : $"{testFraction.ToString(CultureInfo.InvariantCulture)} of each class")}):");
        output.Line($"model saved to {modelPath}");
        if (s.Json)
        {
            var json = CliOutput.MetricsJson(metrics);
            json["model"] = modelPath;
            json["dataset"] = fashion ? CliData.FashionMnistName : Path.GetFullPath(s.Dataset);
            json["arch"] = arch;
            json["trainRows"] = trainRows;
            json["testRows"] = testRows;
            json["epochs"] = model.LastTransformer!.TrainingHistory?.Epochs.Count ?? s.Epochs;
            json["batchSize"] = s.BatchSize;
            json["learningRate"] = s.LearningRate;
            json["imageSize"] = string.Create(CultureInfo.InvariantCulture, $"{width}x{height}");
            json["channels"] = channels;
            json["classes"] = new JsonArray([.. model.LastTransformer!.ClassNames.Select(n => (JsonNode?)n)]);
            json["device"] = device.ToString();
            json["seed"] = s.Seed;
            json["trainSeconds"] = Math.Round(trainSeconds, 3);
            output.WriteJson(json);
        }
        return 0;
    }

    /// <summary>
    /// The image steps: [load the file named by ImagePath →] [grayscale →] resize (IsoCrop, centred) → planar pixels
    /// scaled by 1/255. Gray images extracted as RGB repeat their value in the three channels.
    /// </summary>
    private static EstimatorChain<ITransformer> ImageSteps(ConvNetContext ctx, int channels, int width, int height, bool loadFiles)
    {
        var steps = new List<IEstimator<ITransformer>>();
        if (loadFiles)
        {
            steps.Add(ctx.Transforms.LoadImages(ImageColumn, null, CliData.PathColumn));
        }
        if (channels == 1)
        {
            steps.Add(ctx.Transforms.ConvertToGrayscale(ImageColumn));
        }
        steps.Add(ctx.Transforms.ResizeImages(ImageColumn, width, height));
        steps.Add(ctx.Transforms.ExtractPixels(PixelsColumn, ImageColumn, channels == 1 ? ColorBits.Red : ColorBits.Rgb, scaleImage: 1f / 255));
        var chain = new EstimatorChain<ITransformer>();
        foreach (var step in steps)
        {
            chain = chain.Append(step);
        }
        return chain;
    }

    /// <summary>
    /// The image folder's files, labels mapped to keys (classes sorted by name) and split per class with the seed;
    /// the limits take seeded random subsets of each side.
    /// </summary>
    private static (IDataView Train, IDataView Test) SplitFolder(ConvNetContext ctx, string folder, double testFraction, int seed, int? trainLimit, int? testLimit)
    {
        var (paths, labels) = CliData.ImageFolder(ctx, folder);
        var classes = labels.Distinct(StringComparer.Ordinal).Count();
        if (classes < 2)
        {
            throw new CliFailureException(
                $"--dataset folder '{Path.GetFullPath(folder)}' has {classes} class; a classifier needs at least two sub-folders of images, one per class.");
        }
        var all = CliData.PathsAndTextLabels(paths, labels);
        var keyed = ctx.Transforms.Conversion.MapValueToKey(CliData.LabelColumn, keyOrdinality: KeyOrdinality.ByValue).Fit(all).Transform(all);
        var split = ctx.Data.TrainTestSplit(InMemoryDataView.Materialize(keyed), testFraction, seed, stratificationColumnName: CliData.LabelColumn);
        var train = split.TrainSet;
        var test = split.TestSet;
        if (trainLimit is int tl && tl < train.GetRowCount())
        {
            train = ctx.Data.TakeRows(ctx.Data.ShuffleRows(train, seed), tl);
        }
        if (testLimit is int el && el < test.GetRowCount())
        {
            test = ctx.Data.TakeRows(ctx.Data.ShuffleRows(test, seed), el);
        }
        if (train.GetRowCount() == 0 || test.GetRowCount() == 0)
        {
            throw new CliFailureException(
                $"--dataset folder '{Path.GetFullPath(folder)}' holds {paths.Length} images: too few to split into training and test images with --test-fraction {testFraction.ToString(CultureInfo.InvariantCulture)}.");
        }
        return (train, test);
    }

    /// <summary>The mean and standard deviation of each channel of the planar pixel vectors.</summary>
    private static (float[] Mean, float[] Std) ChannelStatistics(IDataView pixels, int channels)
    {
        var column = pixels.Schema[PixelsColumn];
        var sum = new double[channels];
        var squares = new double[channels];
        long perChannel = 0;
        using (var cursor = pixels.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<float[]>(column);
            float[] values = [];
            while (cursor.MoveNext())
            {
                getter(ref values);
                int plane = values.Length / channels;
                for (int c = 0; c < channels; c++)
                {
                    foreach (float v in values.AsSpan(c * plane, plane))
                    {
                        sum[c] += v;
                        squares[c] += (double)v * v;
                    }
                }
                perChannel += plane;
            }
        }
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / Math.Max(1, perChannel);
            double variance = Math.Max(0, squares[c] / Math.Max(1, perChannel) - m * m);
            mean[c] = (float)m;
            // A constant channel (e.g. blank images) keeps a unit deviation rather than dividing by zero.
            std[c] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return (mean, std);
    }

    /// <summary>Fits <paramref name="estimator"/>, showing progress: a bar per epoch on a terminal, one line per epoch otherwise.</summary>
    private static TransformerChain<ConvNetTransformer> Fit(EstimatorChain<ConvNetTransformer> estimator, IDataView data, CliOutput output, int epochs)
    {
        var trainer = (ConvNetTrainer)estimator.LastEstimator!;
        var options = trainer.TrainerOptions;
        if (output.Console is not { } console)
        {
            options.MetricsCallback = r => output.Line(r.ToString());
            return estimator.Fit(data);
        }
        TransformerChain<ConvNetTransformer>? model = null;
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
                options.MetricsCallback = r =>
                {
                    var task = tasks[r.Epoch - 1];
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"epoch {r.Epoch}/{epochs}  loss {r.TrainLoss:F3}  acc {r.TrainAccuracy:F3}  {r.ImagesPerSecond:F0} img/s  {r.TrainTime.TotalSeconds:F1} s");
                    task.Value = task.MaxValue;
                    task.StopTask();
                };
                model = estimator.Fit(data);
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
