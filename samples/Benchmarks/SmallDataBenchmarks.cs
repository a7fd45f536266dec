using System.Diagnostics;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// Small data: an image folder of 10 classes × (300 training + 500 held-out) 36×36 RGB PNGs drawn from Fashion-MNIST's
/// test split (each 28×28 image resized bilinearly to 36×36, grey in all three channels). ML.NET's own
/// <c>LbfgsMaximumEntropy</c> on <c>ExtractPixels</c> (3×36×36) is the reference; the ConvNet trainer trains LeNet-5 and the
/// small CNN for 8 epochs (images resized to 28×28, as <c>convnet train</c> does), seeds 1–3, with its defaults (Adam, a
/// one-cycle schedule peaking at 0.003, batch 16, label smoothing 0.1, standardized input, no augmentation), with each
/// of them changed alone, and with the settings it had before.
/// </summary>
internal static class SmallDataBenchmarks
{
    private const int TrainPerClass = 300;
    private const int TestPerClass = 500;
    private const int Side = 36;
    private const int Epochs = 8;

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public static void Run(BenchOptions o)
    {
        string root = Path.Combine(Path.GetTempPath(), "convnet-fashion-folder-36");
        var (train, test) = BuildFolder(root);
        var ml = new MLContext(1);
        var trainView = ml.Data.LoadFromEnumerable(train);
        var testView = ml.Data.LoadFromEnumerable(test);
        var keys = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label");
        var load = ml.Transforms.LoadImages("Image", root, "ImagePath");

        if (o.Selected("smalldata/lbfgs"))
        {
            var watch = Stopwatch.StartNew();
            var model = keys.Append(load)
                .Append(ml.Transforms.ResizeImages("Image", Side, Side)) // the images are 36×36 already; ExtractPixels needs the size known
                .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
                .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
                .Fit(trainView);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testView), "LabelKey");
            Report.Result("smalldata/lbfgs", "held-out micro-accuracy", metrics.MicroAccuracy, higherIsBetter: true,
                new() { ["features"] = "ExtractPixels 3x36x36", ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1), ["train"] = train.Count, ["test"] = test.Count });
        }

        // (name, architecture, changes to the trainer's defaults): the defaults, then each of them undone alone, then all.
        (string Name, string Arch, Action<ConvNetTrainer.Options> Change)[] runs =
        [
            ("lenet5-defaults", "lenet5", _ => { }),
            ("lenet5-no-standardization", "lenet5", t => t.StandardizeInput = false),
            ("lenet5-no-label-smoothing", "lenet5", t => t.LabelSmoothing = 0),
            ("lenet5-constant-rate", "lenet5", t => t.LearningRateSchedule = null),
            ("lenet5-batch64", "lenet5", t => t.BatchSize = 64),
            ("lenet5-standard-augmentation", "lenet5", t => t.Augmentation = ConvNetTrainer.Options.StandardAugmentation),
            ("lenet5-earlier-defaults", "lenet5", EarlierDefaults),
            ("smallcnn-defaults", "smallcnn", _ => { }),
            ("smallcnn-earlier-defaults", "smallcnn", EarlierDefaults),
        ];
        foreach (var (runName, arch, change) in runs)
        {
            string name = "smalldata/" + runName;
            if (!o.Selected(name))
            {
                continue;
            }
            var accuracies = new List<double>();
            var watch = Stopwatch.StartNew();
            string described = "";
            foreach (int seed in new[] { 1, 2, 3 })
            {
                var options = new ConvNetTrainer.Options
                {
                    LabelColumnName = "LabelKey", FeatureColumnName = "Features", Architecture = arch, SmallInput = true,
                    Epochs = Epochs, Seed = seed, Device = Device.Cpu,
                };
                change(options);
                described = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"batch {options.BatchSize}, lr {options.LearningRate}, schedule {(options.LearningRateSchedule == null ? "constant" : options.LearningRateSchedule == ConvNetTrainer.Options.OneCycleSchedule ? "one-cycle" : "other")}, label smoothing {options.LabelSmoothing}, standardized input {options.StandardizeInput}, augmentation {options.Augmentation?.ToString() ?? "none"}");
                var model = keys.Append(load)
                    .Append(ml.Transforms.ResizeImages("Image", 28, 28))
                    .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
                    .Append(ml.MulticlassClassification.Trainers.ConvNet(options))
                    .Fit(trainView);
                accuracies.Add(ml.MulticlassClassification.Evaluate(model.Transform(testView), "LabelKey").MicroAccuracy);
            }
            Report.Result(name, "held-out micro-accuracy", accuracies.Average(), higherIsBetter: true, new()
            {
                ["seeds"] = "1,2,3",
                ["perSeed"] = string.Join(" ", accuracies.Select(a => a.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))),
                ["epochs"] = Epochs,
                ["settings"] = described,
                ["secondsPerRun"] = Math.Round(watch.Elapsed.TotalSeconds / 3, 1),
            });
        }
    }

    /// <summary>The trainer's settings before one-cycle, label smoothing and input standardization became its defaults.</summary>
    private static void EarlierDefaults(ConvNetTrainer.Options t)
    {
        t.LearningRate = 1e-3f;
        t.LearningRateSchedule = null;
        t.LabelSmoothing = 0;
        t.StandardizeInput = false;
    }

    /// <summary>Writes root/&lt;class&gt;/&lt;n&gt;.png (once) and returns the training and held-out rows.</summary>
    private static (List<ImageRow> Train, List<ImageRow> Test) BuildFolder(string root)
    {
        var source = FashionMnist.Load(null, DatasetSplit.Test);
        var train = new List<ImageRow>();
        var test = new List<ImageRow>();
        var resized = new float[Side * Side];
        for (int c = 0; c < source.ClassCount; c++)
        {
            string name = source.ClassNames[c].Replace('/', '_');
            string folder = Path.Combine(root, name);
            Directory.CreateDirectory(folder);
            var indices = Enumerable.Range(0, source.Count).Where(i => source.Labels[i] == c).Take(TrainPerClass + TestPerClass).ToList();
            for (int k = 0; k < indices.Count; k++)
            {
                string relative = Path.Combine(name, $"{k:D4}.png");
                string path = Path.Combine(root, relative);
                if (!File.Exists(path))
                {
                    ImageWarp.ResizeRegion(source.GetImage(indices[k]), 1, 28, 28, 0, 0, 28, 28, resized, Side, Side);
                    var pixels = new byte[Side * Side * 4];
                    for (int p = 0; p < Side * Side; p++)
                    {
                        byte v = (byte)Math.Clamp(MathF.Round(resized[p] * 255), 0, 255);
                        pixels[4 * p] = pixels[4 * p + 1] = pixels[4 * p + 2] = v;
                        pixels[4 * p + 3] = 255;
                    }
                    using var image = MLImage.CreateFromPixels(Side, Side, MLPixelFormat.Rgba32, pixels);
                    image.Save(path);
                }
                (k < TrainPerClass ? train : test).Add(new ImageRow { ImagePath = relative, Label = source.ClassNames[c] });
            }
        }
        return (train, test);
    }
}
