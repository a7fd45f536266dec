using System.Globalization;
using System.Text.Json;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Tests.Vision;

[TestClass]
public sealed class ImageFiltersTests
{
    /// <summary>One OpenCV result of build/reference/make_filter_fixtures.py.</summary>
    private sealed record OpenCvCase(string Image, int[] Shape, float[] Pixels, string Filter, BorderMode Border, float[] Output);

    private static readonly Lazy<OpenCvCase[]> Cases = new(LoadCases);

    private static OpenCvCase[] LoadCases()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "filters", "opencv_filters.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = new List<OpenCvCase>();
        foreach (var image in doc.RootElement.GetProperty("images").EnumerateArray())
        {
            int[] shape = [.. image.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
            var pixels = Floats(image.GetProperty("pixels").GetString()!);
            foreach (var c in image.GetProperty("cases").EnumerateArray())
            {
                var border = c.GetProperty("border").GetString() switch
                {
                    "reflect101" => BorderMode.Reflect101,
                    "constant" => BorderMode.Constant,
                    "replicate" => BorderMode.Replicate,
                    var other => throw new InvalidDataException($"{path}: unknown border '{other}'."),
                };
                cases.Add(new OpenCvCase(image.GetProperty("name").GetString()!, shape, pixels, c.GetProperty("filter").GetString()!, border,
                    Floats(c.GetProperty("output").GetString()!)));
            }
        }
        return [.. cases];
    }

    private static float[] Floats(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    [TestMethod]
    public void EveryNamedFilterMatchesOpenCvOnRealImagesWithinOneInTenThousand()
    {
        var cases = Cases.Value;
        Assert.IsGreaterThanOrEqualTo(50, cases.Length, "the fixture holds the OpenCV cases");
        CollectionAssert.IsSubsetOf(ImageFilters.Names.ToArray(), cases.Select(c => c.Filter).Distinct().ToArray(), "every filter name has an OpenCV case");
        CollectionAssert.AreEquivalent(Enum.GetValues<BorderMode>(), cases.Select(c => c.Border).Distinct().ToArray(), "every border mode has an OpenCV case");
        Assert.IsTrue(cases.Any(c => c.Shape[0] == 3), "an RGB image is among the cases");
        using var scope = new TensorScope();
        var failures = new List<string>();
        double worst = 0;
        foreach (var c in cases)
        {
            var image = Tensor.FromArray(c.Pixels, new Shape(c.Shape));
            var actual = ImageFilters.Apply(image, c.Filter, c.Border).ToArray();
            double max = 0;
            int at = -1;
            for (int i = 0; i < actual.Length; i++)
            {
                double d = Math.Abs(actual[i] - c.Output[i]);
                if (!(d <= max))
                {
                    max = d;
                    at = i;
                }
            }
            worst = Math.Max(worst, max);
            if (!(max <= 1e-4) || actual.Length != c.Output.Length)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Image} {c.Filter} {c.Border}: max |diff| {max:G3} at {at} (OpenCV {c.Output[at]}, ours {actual[at]})"));
            }
        }
        Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures));
        Assert.IsGreaterThan(0.0, cases.Max(c => c.Output.Max(v => Math.Abs(v))), "the outputs are not all zero");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cases.Length} OpenCV cases, max |diff| {worst:G3}"));
    }

    [TestMethod]
    public void BorderModesPadAsOpenCvsCopyMakeBorderDocumentsThem()
    {
        // OpenCV's documentation of cv::BorderTypes, row "abcdefgh" padded by 6 on the left and 7 on the right (i = 0).
        var row = Tensor.FromArray("abcdefgh".Select(ch => (float)ch).ToArray(), new Shape(1, 1, 1, 8));
        string Padded(BorderMode mode) => new([.. ImageFilters.Pad(row, 0, 0, 6, 7, mode, 'i').ToArray().Select(v => (char)v)]);
        Assert.AreEqual("gfedcbabcdefghgfedcba", Padded(BorderMode.Reflect101));
        Assert.AreEqual("aaaaaaabcdefghhhhhhhh", Padded(BorderMode.Replicate));
        Assert.AreEqual("iiiiiiabcdefghiiiiiii", Padded(BorderMode.Constant));
        var one = Tensor.FromArray([5f], new Shape(1, 1, 1, 1));
        CollectionAssert.AreEqual(new[] { 5f, 5f, 5f, 5f, 5f }, ImageFilters.Pad(one, 0, 0, 2, 2, BorderMode.Reflect101).ToArray(), "a one-pixel row reflects to itself");
        var rows = Tensor.FromArray([1f, 2f, 3f], new Shape(1, 1, 3, 1));
        CollectionAssert.AreEqual(new[] { 3f, 2f, 1f, 2f, 3f, 2f, 1f }, ImageFilters.Pad(rows, 2, 2, 0, 0).ToArray(), "rows reflect as columns do");
    }

    [TestMethod]
    public void InitialisedConvolutionGivesTheKernelsFilterWithAZeroBorder()
    {
        using var scope = new TensorScope();
        var c = Cases.Value.First(x => x.Image.StartsWith("fashion", StringComparison.Ordinal));
        var image = Tensor.FromArray(c.Pixels, new Shape(1, 1, c.Shape[1], c.Shape[2]));
        using var conv = new Conv2d(1, 3, 5, padding: 2);
        ImageFilters.Initialize(conv, "sobel-x", "gaussian-blur-5", "laplacian");
        Assert.AreEqual(0f, conv.Bias!.ToArray().Max(Math.Abs), "the bias is zeroed");
        var y = conv.Forward(image);
        string[] names = ["sobel-x", "gaussian-blur-5", "laplacian"];
        int plane = c.Shape[1] * c.Shape[2];
        for (int o = 0; o < 3; o++)
        {
            var expected = ImageFilters.Apply(image, names[o], BorderMode.Constant).ToArray();
            TensorAssert.AreClose(expected, y.ToArray().AsSpan(o * plane, plane), 1e-5, 1e-5, $"filter {o} ({names[o]}, centred in 5x5)");
        }

        // Three input channels: the kernel sees their mean.
        using var rgb = new Conv2d(3, 2, 3, padding: 1);
        ImageFilters.Initialize(rgb, ImageFilters.SobelY);
        var w = rgb.Weight.ToArray();
        Assert.AreEqual(-2f / 3, w[1], 1e-7f, "filter 0, channel 0, row 0, column 1");
        Assert.AreEqual(2f / 3, w[(1 * 3 + 2) * 9 + 7], 1e-7f, "filter 1 (the kernels repeat), channel 2, row 2, column 1");
    }

    [TestMethod]
    public void FixedDepthwiseLayerIsFrozenAndFiltersEachChannel()
    {
        using var scope = new TensorScope();
        var c = Cases.Value.First(x => x.Shape[0] == 3 && x.Filter == "sharpen" && x.Border == BorderMode.Reflect101);
        var image = Tensor.FromArray(c.Pixels, new Shape([1, .. c.Shape]));
        using var layer = ImageFilters.CreateConv2d(ImageFilters.Kernel("sharpen"), 3);
        Assert.AreEqual(3, layer.Groups, "depthwise");
        Assert.IsFalse(layer.Weight.RequiresGrad, "the weights are fixed");
        Assert.IsNull(layer.Bias);
        TensorAssert.AreClose(ImageFilters.Apply(image, "sharpen", BorderMode.Constant), layer.Forward(image), 1e-5, 1e-5, "layer = Apply with a zero border");
        var threeD = ImageFilters.Apply(Tensor.FromArray(c.Pixels, new Shape(c.Shape)), "sharpen");
        Assert.AreEqual(new Shape(c.Shape), threeD.Shape, "a [C, H, W] image keeps its shape");
        TensorAssert.AreClose(c.Output, new Shape(c.Shape), threeD, 1e-4, 0, "sharpen on [C, H, W]");
    }

    [TestMethod]
    public void UnknownNamesAndBadKernelsAreRefusedWithTheReason()
    {
        using var scope = new TensorScope();
        var image = Tensor.Zeros(new Shape(1, 1, 4, 4));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageFilters.Apply(image, "sobel-z"));
        StringAssert.Contains(e.Message, "sobel-z");
        StringAssert.Contains(e.Message, "sobel-magnitude");
        Assert.ThrowsExactly<ArgumentException>(() => ImageFilters.Kernel("blur"));
        e = Assert.ThrowsExactly<ArgumentException>(() => new ImageKernel("even", 2, 2, [1f, 2f, 3f, 4f]));
        StringAssert.Contains(e.Message, "odd");
        e = Assert.ThrowsExactly<ArgumentException>(() => ImageKernel.Custom(new float[,] { { 0, float.NaN, 0 } }));
        StringAssert.Contains(e.Message, "column 1");
        using var small = new Conv2d(1, 1, 3);
        e = Assert.ThrowsExactly<ArgumentException>(() => ImageFilters.Initialize(small, "gaussian-blur-5"));
        StringAssert.Contains(e.Message, "gaussian-blur-5");
        Assert.ThrowsExactly<ArgumentException>(() => ImageFilters.Apply(Tensor.Zeros(new Shape(4, 4)), "identity"));
        Assert.AreEqual(1f, ImageFilters.GaussianBlur5.Sum(), 1e-6f);
        Assert.AreEqual(1f, ImageFilters.Kernel("unsharp-mask-5").Sum(), 1e-6f);
        Assert.AreEqual(0f, ImageFilters.Kernel("edge-8").Sum());
    }

    [TestMethod]
    public void CustomKernelMatchesAPlainLoop()
    {
        using var scope = new TensorScope();
        var random = new Random(3);
        var k = ImageKernel.Custom(new float[,] { { 1, 2, 0, -1, 0.5f }, { 0, 3, 1, 1, -2 }, { 0.25f, 0, 0, 0, 1 } }, "mine");
        int c = 2, h = 6, w = 7;
        var pixels = new float[c * h * w];
        Tensor.FillUniform(pixels, random, -1, 1);
        foreach (var border in Enum.GetValues<BorderMode>())
        {
            var actual = ImageFilters.Apply(Tensor.FromArray(pixels, new Shape(c, h, w)), k, border, 0.5f);
            var expected = new float[pixels.Length];
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        double s = 0;
                        for (int i = 0; i < k.Height; i++)
                        {
                            for (int j = 0; j < k.Width; j++)
                            {
                                int sy = ImageFilters.BorderIndex(y + i - 1, h, border), sx = ImageFilters.BorderIndex(x + j - 2, w, border);
                                s += k[i, j] * (sy < 0 || sx < 0 ? 0.5f : pixels[(ch * h + sy) * w + sx]);
                            }
                        }
                        expected[(ch * h + y) * w + x] = (float)s;
                    }
                }
            }
            TensorAssert.AreClose(expected, new Shape(c, h, w), actual, 1e-5, 1e-5, $"3x5 kernel, {border}");
        }
    }
}
