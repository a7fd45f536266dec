using System.Diagnostics;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// What augmentation costs: the small CNN trained by <see cref="Trainer.Fit"/> (batch 64, Adam, the batch loader's
/// prefetching) on Fashion-MNIST images without augmentation and with the Fashion-MNIST job's default
/// (<c>flip,crop:1:replicate</c>), alternating the two and keeping each one's best run; and the augmentation alone, applied
/// to every training image on one thread, which is the precise figure on a shared machine.
/// </summary>
internal static class AugmentationBenchmarks
{
    private const int Batch = 64;

    /// <summary>The columns of the picture: the original, then one transform each (always applied).</summary>
    private static readonly (string Name, ImageAugmentation? Transform)[] GridColumns =
    [
        ("original", null),
        ("flip", new RandomHorizontalFlip(1)),
        ("crop:3", new RandomCrop(3)),
        ("resized-crop:0.5", new RandomResizedCrop(0.5)),
        ("rotate:25", new RandomRotation(25)),
        ("affine:10:0.1:0.2:15", new RandomAffine(10, 0.1, 0.8, 1.2, 15)),
        ("elastic:34:4", new ElasticDeformation(34, 4, BorderMode.Constant)),
        ("noise:0.1", new GaussianNoise(0.1)),
        ("blur:5:1.5", new GaussianBlur(5, 1.0, 1.5)),
        ("jitter:0.4:0.4", new ColorJitter(0.4, 0.4)),
        ("erase:1", new RandomErasing(1)),
    ];

    /// <summary>
    /// Writes a PNG grid: eight Fashion-MNIST training images (rows) and each transform of <see cref="GridColumns"/>
    /// (columns), pixels in [0, 1] shown ×3.
    /// </summary>
    public static void WriteGrid(string path)
    {
        var data = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = 8 });
        const int Scale = 3, Cell = 28 * Scale, Gap = 4;
        int width = GridColumns.Length * (Cell + Gap) + Gap, height = data.Count * (Cell + Gap) + Gap;
        var pixels = new byte[width * height * 4];
        Array.Fill(pixels, (byte)255);
        var random = new Random(1);
        for (int row = 0; row < data.Count; row++)
        {
            for (int col = 0; col < GridColumns.Length; col++)
            {
                var image = data.GetImage(row).ToArray();
                GridColumns[col].Transform?.Apply(image, 1, 28, 28, random);
                for (int y = 0; y < Cell; y++)
                {
                    for (int x = 0; x < Cell; x++)
                    {
                        byte v = (byte)Math.Clamp(MathF.Round(255 * (1 - image[y / Scale * 28 + x / Scale])), 0, 255);
                        int o = 4 * ((Gap + row * (Cell + Gap) + y) * width + Gap + col * (Cell + Gap) + x);
                        pixels[o] = pixels[o + 1] = pixels[o + 2] = v;
                        pixels[o + 3] = 255;
                    }
                }
            }
        }
        using var png = Microsoft.ML.Data.MLImage.CreateFromPixels(width, height, Microsoft.ML.Data.MLPixelFormat.Rgba32, pixels);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp.png";
        png.Save(temporary);
        File.Move(temporary, path, overwrite: true);
        Console.Error.WriteLine($"wrote {path}: columns {string.Join(", ", GridColumns.Select(c => c.Name))}");
    }

    public static void Run(BenchOptions o)
    {
        if (o.Selected("augment/grid"))
        {
            WriteGrid(Path.Combine("artifacts", "augmentation-grid.png"));
        }
        var all = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Normalize = true });
        var spec = AugmentationSpec.Parse("flip,crop:1:replicate");
        var augmentation = spec.Augmentation!;
        if (o.Selected("augment/apply"))
        {
            // The augmentation by itself, on copies of all 60 000 images, as the loader's thread runs it.
            var images = (float[])all.Images.Clone();
            var run = augmentation.ToBatchAugmentation();
            int size = all.SampleSize;
            double best = double.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                var watch = Stopwatch.StartNew();
                for (int b = 0; b * Batch < all.Count; b++)
                {
                    int n = Math.Min(Batch, all.Count - b * Batch);
                    run(images.AsSpan(b * Batch * size, n * size), all.Labels.AsSpan(b * Batch, n), new Shape(n, 1, 28, 28), new Random(b));
                }
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            Report.Result("augment/apply", "images/s", all.Count / best, higherIsBetter: true, new()
            {
                ["augmentation"] = spec.ToString(),
                ["images"] = all.Count,
                ["microsecondsPerImage"] = Math.Round(1e6 * best / all.Count, 2),
            });
        }
        if (!o.Selected("augment/train"))
        {
            return;
        }
        int steps = o.StepsOr(300);
        var train = all.Take(Math.Min(all.Count, steps * Batch));
        // Warm up both paths (kernels compiled, buffers pooled) before timing.
        Fit(train.Take(Batch * 20), null);
        Fit(train.Take(Batch * 20), augmentation);
        double plain = double.MaxValue, augmented = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            plain = Math.Min(plain, Fit(train, null));
            augmented = Math.Min(augmented, Fit(train, augmentation));
        }
        Report.Result("augment/train-none", "images/s", train.Count / plain, higherIsBetter: true, new() { ["images"] = train.Count, ["batch"] = Batch });
        Report.Result("augment/train-flip-crop", "images/s", train.Count / augmented, higherIsBetter: true, new()
        {
            ["images"] = train.Count,
            ["batch"] = Batch,
            ["augmentation"] = spec.ToString(),
            ["overheadPercent"] = Math.Round(100 * (augmented / plain - 1), 2),
        });
    }

    /// <summary>Seconds of one epoch of the small CNN over <paramref name="data"/>.</summary>
    private static double Fit(ImageDataset data, ImageAugmentation? augmentation)
    {
        RandomSource.ManualSeed(1);
        using var model = SmallCnn.Create();
        using var adam = new Adam(model.Parameters(), 1e-3f);
        var history = Trainer.Fit(model, adam, data, null, new TrainingOptions
        {
            Epochs = 1,
            BatchSize = Batch,
            Seed = 1,
            Augmentation = augmentation?.ToBatchAugmentation(),
        });
        return history.Epochs[0].TrainTime.TotalSeconds;
    }
}
