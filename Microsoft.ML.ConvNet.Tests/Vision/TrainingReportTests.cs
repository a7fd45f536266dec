using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.ConvNet.Vision;
using SkiaSharp;

namespace Microsoft.ML.ConvNet.Tests.Vision;

/// <summary>A LeNet-5 trained for two epochs on a Fashion-MNIST subset, and the report written of it.</summary>
[TestClass]
public sealed class TrainingReportTests
{
    private static string _folder = null!;
    private static Sequential _model = null!;
    private static ImageDataset _test = null!;
    private static TrainingHistory _history = null!;
    private static TrainingReportFiles _files = null!;

    [ClassInitialize]
    public static void TrainAndWriteReport(TestContext context)
    {
        _folder = Path.Combine(Path.GetTempPath(), $"convnet-report-{Guid.NewGuid():N}");
        var options = new FashionMnistOptions { VerifyChecksums = false };
        var train = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Train, options).Take(1500);
        _test = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Test, options).Take(300);
        RandomSource.ManualSeed(1);
        _model = LeNet5.Create();
        using var optimizer = new Adam(_model.Parameters(), 2e-3f);
        _history = Trainer.Fit(_model, optimizer, train, _test, new TrainingOptions
        {
            Epochs = 2, BatchSize = 64, Seed = 1, Scheduler = new StepLR(optimizer, 1, 0.5f),
        });
        _files = new TrainingReport(_model, _test, _history) { Title = "LeNet-5 <test>", DataDescription = "300 test images" }.Write(Path.Combine(_folder, "report"));
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        _model?.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [TestMethod]
    public void EveryPictureDecodesAtItsSizeAndIsNotBlank()
    {
        string[] expected = ["loss.png", "accuracy.png", "learning-rate.png", "confusion-matrix.png", "precision-recall.png", "filters.png",
            "feature-maps-0.png", "feature-maps-1.png", "feature-maps-2.png", "wrong.png", "saliency.png"];
        CollectionAssert.AreEquivalent(expected, _files.Images.Select(Path.GetFileName).ToArray());
        var onDisk = Directory.GetFiles(Path.GetDirectoryName(_files.Page)!).Select(Path.GetFileName).Order().ToArray();
        CollectionAssert.AreEquivalent(expected.Append(TrainingReport.PageFileName).ToArray(), onDisk, "no temporary files are left");
        foreach (string file in _files.Images)
        {
            using var bitmap = SKBitmap.Decode(file);
            Assert.IsNotNull(bitmap, $"{file} decodes as an image");
            Assert.IsGreaterThanOrEqualTo(200, bitmap.Width, $"{file} width");
            Assert.IsGreaterThanOrEqualTo(100, bitmap.Height, $"{file} height");
            var colours = new HashSet<uint>();
            for (int y = 0; y < bitmap.Height; y += 2)
            {
                for (int x = 0; x < bitmap.Width; x += 2)
                {
                    colours.Add((uint)bitmap.GetPixel(x, y));
                }
            }
            Assert.IsGreaterThan(20, colours.Count, $"{file} is not blank: {colours.Count} distinct colours");
        }
        using (var chart = SKBitmap.Decode(Path.Combine(Path.GetDirectoryName(_files.Page)!, "loss.png")))
        {
            Assert.AreEqual(640, chart.Width);
            Assert.AreEqual(400, chart.Height);
        }
    }

    [TestMethod]
    public void PageLinksEveryPictureRelativelyAndShowsTheMetrics()
    {
        string html = File.ReadAllText(_files.Page);
        foreach (string file in _files.Images)
        {
            StringAssert.Contains(html, $"src=\"{Path.GetFileName(file)}\"", "the page shows " + file);
        }
        StringAssert.Contains(html, "LeNet-5 &lt;test&gt;", "the title is HTML-encoded");
        var eval = Trainer.Evaluate(_model, _test);
        StringAssert.Contains(html, $"<b>{eval.Accuracy.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}</b> ({eval.Correct} of 300)");
        var (precision, recall) = TrainingReport.PrecisionRecall(eval.ConfusionCounts);
        string row = $"<tr><td>{FashionMnist.ClassNames[0]}</td><td>{precision[0].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}</td><td>{recall[0].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}</td>";
        StringAssert.Contains(html, row, "per-class precision and recall");
        StringAssert.Contains(html, "<td>0.001</td>", "epoch 2's learning rate after StepLR halved it");
        Assert.IsTrue(_model.IsTraining, "the report leaves the model in the mode it had");
        Assert.IsTrue(_model.Parameters().All(p => p.RequiresGrad), "saliency restores the parameters' gradient flags");
    }

    [TestMethod]
    public void PrecisionAndRecallComeFromTheConfusionCounts()
    {
        var (precision, recall) = TrainingReport.PrecisionRecall(new[,] { { 3, 1, 0 }, { 2, 4, 0 }, { 0, 0, 0 } });
        Assert.AreEqual(3.0 / 5, precision[0], 1e-12);
        Assert.AreEqual(4.0 / 5, precision[1], 1e-12);
        Assert.AreEqual(3.0 / 4, recall[0], 1e-12);
        Assert.AreEqual(4.0 / 6, recall[1], 1e-12);
        Assert.IsTrue(double.IsNaN(precision[2]) && double.IsNaN(recall[2]), "an empty class has no precision or recall");
    }

    [TestMethod]
    public void SaliencyIsTheInputGradientOfThePredictedScore()
    {
        // A linear model's saliency is |the weight row of the class|.
        RandomSource.ManualSeed(2);
        using var model = new Sequential(new Flatten(), new Linear(16, 2));
        var images = new float[2 * 16];
        images[5] = 1f;
        images[16 + 9] = 1f;
        var data = new ImageDataset(images, new Shape(1, 4, 4), [0, 1], ["a", "b"]);
        var weights = ((Linear)model.NamedModules().First(m => m.Value is Linear).Value).Weight;
        var w = new float[32];
        w[3] = 5f;      // class 0 looks at pixel 3
        w[16 + 12] = -7f; // class 1 looks at pixel 12
        w[5] = 1f;
        w[16 + 9] = 1f;
        weights.CopyFrom(w);
        var report = new TrainingReport(model, data) { SaliencyImageCount = 2, WrongImageCount = 4 };
        model.Eval();
        CollectionAssert.AreEqual(w[..16].Select(Math.Abs).ToArray(), report.SaliencyMap(0, 0), "class 0 of image 0");
        CollectionAssert.AreEqual(w[16..].Select(Math.Abs).ToArray(), report.SaliencyMap(0, 1), "class 1 of image 0");
        Assert.IsNull(weights.Grad is { } g ? (g.ToArray().Any(v => v != 0) ? "gradient" : null) : null, "the weights get no gradient");
        string dir = Path.Combine(_folder, "linear");
        var files = report.Write(dir);
        Assert.IsTrue(files.Images.Any(f => f.EndsWith("saliency.png", StringComparison.Ordinal)));
        Assert.IsFalse(files.Images.Any(f => f.EndsWith("loss.png", StringComparison.Ordinal)), "no history, no curves");
        StringAssert.Contains(File.ReadAllText(files.Page), "No training history");
        var e = Assert.ThrowsExactly<ArgumentException>(() => new TrainingReport(model, data) { FeatureMapLayers = ["conv9"] }.Write(dir));
        StringAssert.Contains(e.Message, "conv9");
    }
}
