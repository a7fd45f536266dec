namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Pipelines;

[TestClass]
public sealed class ImagePipelinePersistenceTests
{
    private string _folder = "";

    [TestInitialize]
    public void WriteImages()
    {
        // Two classes of 16×16 BMP images: bright squares on the left or on the right half.
        _folder = Directory.CreateTempSubdirectory("convnet-imgpersist-").FullName;
        var rng = new Random(4);
        foreach (var label in new[] { "left", "right" })
        {
            Directory.CreateDirectory(Path.Combine(_folder, label));
            for (int i = 0; i < 24; i++)
            {
                var img = new ImageBuffer(16, 16, 3);
                for (int y = 0; y < 16; y++)
                {
                    for (int x = 0; x < 16; x++)
                    {
                        bool lit = label == "left" ? x < 8 : x >= 8;
                        byte v = (byte)((lit ? 160 : 40) + rng.Next(60));
                        img.Pixels[3 * (y * 16 + x)] = v;
                        img.Pixels[3 * (y * 16 + x) + 1] = v;
                        img.Pixels[3 * (y * 16 + x) + 2] = v;
                    }
                }
                ImageCodec.Save(img, Path.Combine(_folder, label, $"{i}.bmp"));
            }
        }
    }

    [TestCleanup]
    public void DeleteImages() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public void ImageFolderPipelineTrainsSavesAndReloadsScoringIdentically()
    {
        var ml = new ConvNetContext(seed: 3);
        var data = ml.Data.LoadFromImageFolder(_folder);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", _folder, "ImagePath"))
            .Append(ml.Transforms.ConvertToGrayscale("Image"))
            .Append(ml.Transforms.ResizeImages("Image", 28, 28, resizing: ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", colorsToExtract: ColorBits.Red, scaleImage: 1f / 255))
            .Append(ml.Transforms.NormalizeMeanStd("Pixels", "Pixels", [0.45f], [0.25f]))
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                Architecture = "lenet5", SmallInput = true, Epochs = 4, BatchSize = 8, Seed = 3,
            }));
        using var model = pipeline.Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy, "left/right brightness is easy to learn");

        string path = Path.Combine(_folder, "model.zip");
        ml.Model.Save(model, data.Schema, path);
        var loaded = ml.Model.Load(path, out var schema);
        try
        {
            Assert.AreEqual(data.Schema.ToString(), schema.ToString());
            var expected = Scores(ml, model.Transform(data));
            var actual = Scores(ml, loaded.Transform(data));
            CollectionAssert.AreEqual(expected, actual, "the reloaded pipeline (image transforms included) scores bit for bit the same");
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
        }
    }

    private static float[] Scores(ConvNetContext ml, IDataView scored)
        => [.. ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false, ignoreMissingColumns: true).SelectMany(r => r.Score)];

    public sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
