using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;

namespace Microsoft.ML.ConvNet.Tests.Pipelines;

/// <summary>Fashion-MNIST images written as an image folder (PNG, JPEG, BMP) and read back through the image pipeline.</summary>
[TestClass]
public sealed class ImageFolderEndToEndTests
{
    private const int Count = 600;
    private string _tmp = null!;

    [TestInitialize]
    public void Init()
    {
        _tmp = Path.Combine(Path.GetTempPath(), "convnet-imgfolder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tmp);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_tmp, recursive: true);

    private static string FolderName(int label) => $"{label}-{FashionMnist.ClassNames[label].Replace('/', '_')}";

    [TestMethod]
    public void FashionMnistImageFolderRoundTripsThroughThePipeline()
    {
        if (!NativeCodecs.IsAvailable(out string reason))
        {
            Assert.Inconclusive(reason);
        }
        var source = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Train,
            new FashionMnistOptions { Limit = Count, VerifyChecksums = false });
        Assert.AreEqual(Count, source.Count);
        string[] extensions = [".png", ".jpg", ".bmp"];
        var expected = new Dictionary<string, (float[] Pixels, int Label)>();
        for (int i = 0; i < Count; i++)
        {
            var values = source.GetImage(i).ToArray();
            var image = new ImageBuffer(28, 28, 1);
            for (int p = 0; p < values.Length; p++)
            {
                image.Pixels[p] = (byte)MathF.Round(values[p] * 255);
            }
            string relative = $"{FolderName(source.Labels[i])}/{i:D4}{extensions[i % 3]}";
            string file = Path.Combine(_tmp, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            ImageCodec.Save(image, file);
            expected[relative] = (values, source.Labels[i]);
        }

        var ml = new ConvNetContext(seed: 1);
        var data = ml.Data.LoadFromImageFolder(_tmp);
        Assert.AreEqual((long)Count, data.GetRowCount());
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: KeyOrdinality.ByValue)
            .Append(ml.Transforms.LoadImages("Image", _tmp, "ImagePath"))
            .Append(ml.Transforms.ConvertToGrayscale("Image"))
            .Append(ml.Transforms.ResizeImages("Image", 28, 28))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", ColorBits.Red, scaleImage: 1f / 255));
        var output = pipeline.Fit(data).Transform(data);
        Assert.AreEqual("Vector<Single, 1, 28, 28>", output.Schema["Pixels"].Type.ToString());
        Assert.AreEqual("Key<UInt32, 0-9>", output.Schema["Label"].Type.ToString());
        string[] keyNames = [];
        output.Schema["Label"].GetKeyValues(ref keyNames);
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(FolderName).ToArray(), keyNames);

        var cols = new[] { output.Schema["ImagePath"], output.Schema["Label"], output.Schema["Pixels"] };
        using var cursor = output.GetRowCursor(cols);
        var pathGetter = cursor.GetGetter<string>(cols[0]);
        var labelGetter = cursor.GetGetter<uint>(cols[1]);
        var pixelGetter = cursor.GetGetter<float[]>(cols[2]);
        string path = "";
        uint key = 0;
        float[] pixels = [];
        int rows = 0, jpegs = 0;
        double jpegSum = 0, jpegMax = 0;
        while (cursor.MoveNext())
        {
            pathGetter(ref path);
            labelGetter(ref key);
            pixelGetter(ref pixels);
            rows++;
            var (want, label) = expected[path];
            Assert.AreEqual((uint)(label + 1), key, path);
            Assert.HasCount(784, pixels, path);
            if (path.EndsWith(".jpg", StringComparison.Ordinal))
            {
                jpegs++;
                double max = 0, sum = 0;
                for (int p = 0; p < 784; p++)
                {
                    double d = Math.Abs(want[p] - pixels[p]);
                    max = Math.Max(max, d);
                    sum += d;
                }
                jpegSum += sum / 784;
                jpegMax = Math.Max(jpegMax, max);
                Assert.IsLessThan(20.0 / 255, max, $"{path}: JPEG max abs diff {max * 255:F1}/255");
            }
            else
            {
                for (int p = 0; p < 784; p++)
                {
                    Assert.AreEqual(want[p], pixels[p], 1e-6f, $"{path}: pixel {p} (lossless)");
                }
            }
        }
        Assert.AreEqual(Count, rows);
        Assert.AreEqual(Count / 3, jpegs);
        double meanError = jpegSum / jpegs;
        Assert.IsLessThan(2.0 / 255, meanError, $"JPEG mean abs diff {meanError * 255:F2}/255 (max {jpegMax * 255:F1}/255)");
    }
}
