using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Vision;
using SkiaSharp;
using static Microsoft.ML.ConvNet.Tests.Cli.CliHarness;

namespace Microsoft.ML.ConvNet.Tests.Vision;

/// <summary><c>convnet filter</c> on the bundled RGB photograph, and <c>convnet train --report</c>.</summary>
[TestClass]
public sealed class FilterCliTests
{
    private static string _tmp = null!;

    [ClassInitialize]
    public static void Setup(TestContext context) => _tmp = TempFolder("filter");

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(_tmp, recursive: true);

    private static string Photo()
    {
        string fashion = FashionMnistTests.BundledFolder();
        return Path.Combine(Path.GetDirectoryName(fashion)!, "images", "chelsea.png");
    }

    [TestMethod]
    public void Filter_SobelX_WritesThePngOfTheLibrarysFilter()
    {
        string output = Path.Combine(_tmp, "out", "sobel.png");
        var (code, stdout, stderr) = Run("filter", "--kernel", "sobel-x", Photo(), output);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "sobel-x");
        StringAssert.Contains(stdout, output);

        // The PNG holds |sobel-x| * 255 of the decoded photograph, per channel (auto scaling: a derivative is signed).
        using var scope = new TensorScope();
        var image = ImageFile.Read(Photo());
        Assert.AreEqual(new Shape(3, 160, 240), image.Shape);
        var expected = ImageFilters.Apply(image, ImageFilters.SobelX).ToArray();
        using var written = SKBitmap.Decode(output);
        Assert.AreEqual(240, written.Width);
        Assert.AreEqual(160, written.Height);
        int plane = 240 * 160, mismatches = 0, bright = 0;
        for (int y = 0; y < 160; y++)
        {
            for (int x = 0; x < 240; x++)
            {
                var px = written.GetPixel(x, y);
                byte[] rgb = [px.Red, px.Green, px.Blue];
                for (int c = 0; c < 3; c++)
                {
                    int want = (int)Math.Clamp(MathF.Round(Math.Abs(expected[c * plane + y * 240 + x]) * 255), 0, 255);
                    mismatches += Math.Abs(want - rgb[c]) > 1 ? 1 : 0;
                    bright += rgb[c] > 128 ? 1 : 0;
                }
            }
        }
        Assert.AreEqual(0, mismatches, "pixels off by more than one level");
        Assert.IsGreaterThan(100, bright, "the edges show");
    }

    [TestMethod]
    public void Filter_GrayBlurWithReplicateBorder_WritesOneChannel()
    {
        string output = Path.Combine(_tmp, "blur.png");
        var (code, _, stderr) = Run("filter", "-k", "Gaussian-Blur-5", "--gray", "--border", "replicate", Photo(), output);
        Assert.AreEqual(0, code, stderr);
        using var scope = new TensorScope();
        var back = ImageFile.Read(output);
        Assert.AreEqual(new Shape(1, 160, 240), back.Shape, "a grey PNG");
        var expected = ImageFilters.Apply(ImageFile.Read(Photo(), channels: 1), "gaussian-blur-5", BorderMode.Replicate).ToArray();
        var actual = back.ToArray();
        Assert.IsLessThanOrEqualTo(0.5 / 255 + 1e-6, expected.Zip(actual, (e, a) => Math.Abs(Math.Clamp(e, 0, 1) - a)).Max(), "8-bit rounding only");
    }

    [TestMethod]
    public void Filter_BadKernelFileOrOptions_FailClearly()
    {
        string output = Path.Combine(_tmp, "x.png");
        var (code, _, stderr) = Run("filter", "--kernel", "sobel-z", Photo(), output);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "unknown kernel 'sobel-z'");
        StringAssert.Contains(stderr, "sobel-x, sobel-y");

        string missing = Path.Combine(_tmp, "missing.png");
        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", missing, output);
        Assert.AreEqual(3, code, "a missing file");
        StringAssert.Contains(stderr, missing);
        StringAssert.Contains(stderr, "does not exist");

        string notImage = Path.Combine(_tmp, "notes.png");
        File.WriteAllText(notImage, "not an image");
        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", notImage, output);
        Assert.AreEqual(4, code, "an invalid input file");
        StringAssert.Contains(stderr, notImage);
        StringAssert.Contains(stderr, "not an image");

        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", "--border", "wrap", Photo(), output);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "--border 'wrap'");
        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", Photo());
        Assert.AreEqual(2, code, "no output file");
        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", Photo(), Path.Combine(_tmp, "x.jpg"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, ".png");

        // A truncated PNG is named as such, not decoded in part.
        string truncated = Path.Combine(_tmp, "truncated.png");
        var bytes = File.ReadAllBytes(Photo());
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        (code, _, stderr) = Run("filter", "--kernel", "sobel-x", truncated, output);
        Assert.AreEqual(4, code, "an invalid input file");
        StringAssert.Contains(stderr, truncated);
        Assert.IsFalse(File.Exists(output), "nothing is written on errors");

        (code, var list, _) = Run("filter", "--list");
        Assert.AreEqual(0, code);
        foreach (string name in ImageFilters.Names)
        {
            StringAssert.Contains(list, name);
        }
        (_, var help, _) = Run("filter", "--help");
        StringAssert.Contains(help, "scharr-magnitude", "the help lists the kernels");
    }

    [TestMethod]
    public void Train_WithReport_WritesThePageAndItsPictures()
    {
        string report = Path.Combine(_tmp, "report");
        var (code, stdout, stderr) = Run("train", "--dataset", "fashion-mnist", "--data-dir", FashionMnistTests.BundledFolder(), "--arch", "lenet5",
            "--epochs", "2", "--train-limit", "600", "--test-limit", "100", "--output", Path.Combine(_tmp, "m.zip"), "--report", report, "--json");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "val_acc", "the held-out images are evaluated after every epoch");
        Assert.AreEqual(Path.Combine(report, "index.html"), LastLineJson(stdout).GetProperty("report").GetString());
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        StringAssert.Contains(html, "the 100 validation images");
        foreach (string png in Directory.GetFiles(report, "*.png"))
        {
            StringAssert.Contains(html, $"src=\"{Path.GetFileName(png)}\"");
            using var bitmap = SKBitmap.Decode(png);
            Assert.IsTrue(bitmap is { Width: > 100, Height: > 50 }, png);
        }
        Assert.AreEqual(11, Directory.GetFiles(report, "*.png").Length, "curves, confusion, precision/recall, filters, 3 feature-map layers, wrong, saliency");

        string file = Path.Combine(_tmp, "a-file");
        File.WriteAllText(file, "");
        (code, _, stderr) = Run("train", "--dataset", "fashion-mnist", "--arch", "lenet5", "--output", Path.Combine(_tmp, "n.zip"), "--report", file);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "--report");
    }
}
