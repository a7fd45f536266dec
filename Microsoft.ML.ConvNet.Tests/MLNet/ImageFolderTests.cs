using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>Image files through ML.NET's LoadImages and LoadRawImageBytes into the trainer, and unreadable images.</summary>
[TestClass]
public sealed class ImageFolderTests
{
    public sealed class FileRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    private static string s_root = null!;
    private static List<FileRow> s_rows = null!;

    [ClassInitialize]
    public static void WriteImages(TestContext context)
    {
        s_root = Path.Combine(Path.GetTempPath(), $"convnet-images-{Guid.NewGuid():N}");
        Directory.CreateDirectory(s_root);
        s_rows = [];
        var random = new Random(1);
        for (int i = 0; i < 24; i++)
        {
            // Two learnable classes: bright red squares or dark blue ones, of varying sizes (the trainer resizes).
            bool red = i % 2 == 0;
            int size = 20 + (i % 3) * 6;
            var pixels = new byte[size * size * 4];
            for (int p = 0; p < size * size; p++)
            {
                int noise = random.Next(40);
                pixels[4 * p] = (byte)(red ? 30 + noise : 200 - noise);      // blue (BGRA)
                pixels[4 * p + 1] = (byte)(60 + noise);
                pixels[4 * p + 2] = (byte)(red ? 220 - noise : 20 + noise);  // red
                pixels[4 * p + 3] = 255;
            }
            string name = $"img{i}.png";
            using (var image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Bgra32, pixels))
            {
                image.Save(Path.Combine(s_root, name));
            }
            s_rows.Add(new FileRow { ImagePath = name, Label = red ? "red" : "blue" });
        }
    }

    [ClassCleanup]
    public static void Remove() => Directory.Delete(s_root, recursive: true);

    private static ConvNetTrainer.Options Options(string features) => new()
    {
        LabelColumnName = "LabelKey", FeatureColumnName = features, Architecture = "smallcnn", ImageHeight = 28, ImageWidth = 28,
        Epochs = 3, BatchSize = 8, LearningRate = 3e-3f, Device = Device.Cpu, Seed = 1,
    };

    [TestMethod]
    public void ImagesFromLoadImagesTrainSaveAndReload()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(s_rows);
        var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.Transforms.LoadImages("Image", s_root, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.ConvNet(Options("Image")))
            .Fit(data);
        var scored = model.Transform(data);
        var metrics = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "LabelKey");
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy);

        var loaded = SavedModels.RoundTrip(ml, model, data.Schema);
        var a = Scores(ml, scored);
        var b = Scores(ml, loaded.Transform(data));
        Assert.IsLessThan(1e-5, a.Zip(b, (x, y) => Math.Abs(x - y)).Max());
    }

    private static float[] Scores(MLContext ml, IDataView scored)
        => ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false).SelectMany(r => r.Score).ToArray();

    public sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }

    [TestMethod]
    public void RawBytesAreDecodedAndResizedByTheTrainer()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(s_rows);
        var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.Transforms.LoadRawImageBytes("Bytes", s_root, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.ConvNet(Options("Bytes")))
            .Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), labelColumnName: "LabelKey");
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.Save(model, data.Schema, new MemoryStream()));
        StringAssert.Contains(e.Message, "raw image bytes");
    }

    [TestMethod]
    public void AnUndecodableFileIsNamedOrSkipped()
    {
        string bad = Path.Combine(s_root, "garbage.jpg");
        File.WriteAllText(bad, "this is not an image");
        var rows = s_rows.Take(7).Append(new FileRow { ImagePath = "garbage.jpg", Label = "red" }).Concat(s_rows.Skip(7)).ToList();
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(rows);
        IEstimator<ITransformer> Pipeline(bool skip)
        {
            var o = Options("Image");
            o.Epochs = 1;
            o.SkipUnreadableImages = skip;
            int skipped = -1;
            o.MetricsCallback = m => skipped = m.SkippedRows;
            return ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
                .Append(ml.Transforms.LoadImages("Image", s_root, "ImagePath"))
                .Append(ml.MulticlassClassification.Trainers.ConvNet(o));
        }

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Pipeline(skip: false).Fit(data));
        StringAssert.Contains(e.Message, "row 7");
        StringAssert.Contains(e.Message, "garbage.jpg");

        var model = Pipeline(skip: true).Fit(data);
        var convnet = ((TransformerChain<ConvNetTransformer>)model).LastTransformer;
        Assert.AreEqual(1, convnet.SkippedRows);
        StringAssert.Contains(convnet.SkippedImages.Single(), "garbage.jpg");

        var scoring = Assert.ThrowsExactly<InvalidDataException>(() => model.Transform(data).Preview(20));
        StringAssert.Contains(scoring.Message, "row 7");
        StringAssert.Contains(scoring.Message, "garbage.jpg");
    }

    [TestMethod]
    public void ATruncatedImageInRawBytesIsNamedOrSkippedNotTrainedOnHalfGrey()
    {
        string cut = Path.Combine(s_root, "cut.png");
        var png = File.ReadAllBytes(Path.Combine(s_root, s_rows[0].ImagePath));
        File.WriteAllBytes(cut, png[..(png.Length * 2 / 3)]);
        var rows = s_rows.Take(5).Append(new FileRow { ImagePath = "cut.png", Label = "red" }).Concat(s_rows.Skip(5)).ToList();
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(rows);
        IEstimator<ITransformer> Pipeline(bool skip)
        {
            var o = Options("Bytes");
            o.Epochs = 1;
            o.SkipUnreadableImages = skip;
            return ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
                .Append(ml.Transforms.LoadRawImageBytes("Bytes", s_root, "ImagePath"))
                .Append(ml.MulticlassClassification.Trainers.ConvNet(o));
        }

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Pipeline(skip: false).Fit(data));
        StringAssert.Contains(e.Message, "row 5");
        StringAssert.Contains(e.Message, "cut.png");
        StringAssert.Contains(e.Message, "truncated");

        var model = (TransformerChain<ConvNetTransformer>)Pipeline(skip: true).Fit(data);
        Assert.AreEqual(1, model.LastTransformer.SkippedRows);
        Assert.HasCount(1, model.LastTransformer.SkippedImages);
        StringAssert.Contains(model.LastTransformer.SkippedImages[0], "cut.png");
        StringAssert.Contains(model.LastTransformer.SkippedImages[0], "truncated");
    }

    [TestMethod]
    public void AnEmptyPathIsNamedNotSilentlyZero()
    {
        var rows = s_rows.Take(3).Append(new FileRow { ImagePath = "", Label = "red" }).ToList();
        var ml = new MLContext(1);
        var o = Options("Image");
        o.Epochs = 1;
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.Transforms.LoadImages("Image", s_root, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.ConvNet(o))
            .Fit(ml.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(e.Message, "row 3");
        StringAssert.Contains(e.Message, "no image");
    }
}
