using System.Text.Json;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Tests.Data.Augmentation;

/// <summary>
/// The samplers against plain-loop oracles written independently here (double precision, explicit padding) and against
/// OpenCV fixtures (build/reference/make_augmentation_fixtures.py).
/// </summary>
[TestClass]
public sealed class ImageWarpTests
{
    private static float[] RandomImage(Random rng, int size)
    {
        var x = new float[size];
        for (int i = 0; i < size; i++)
        {
            x[i] = (float)rng.NextDouble();
        }
        return x;
    }

    /// <summary>The pixel at (x, y) with the border spelled out: reflect-101 by walking back and forth.</summary>
    private static double OraclePixel(float[] img, int c, int h, int w, int ch, int y, int x, BorderMode border, float fill)
    {
        int Fold(int i, int n)
        {
            if (border == BorderMode.Replicate)
            {
                return Math.Clamp(i, 0, n - 1);
            }
            if (n == 1)
            {
                return 0;
            }
            while (i < 0 || i >= n)
            {
                i = i < 0 ? -i : 2 * (n - 1) - i;
            }
            return i;
        }
        if (border == BorderMode.Constant && (y < 0 || y >= h || x < 0 || x >= w))
        {
            return fill;
        }
        return img[(ch * h + Fold(y, h)) * w + Fold(x, w)];
    }

    private static float[] OracleWarp(float[] img, int c, int h, int w, AffineMatrix m, BorderMode border, float fill)
    {
        double det = m.M00 * m.M11 - m.M01 * m.M10;
        var result = new float[img.Length];
        for (int ch = 0; ch < c; ch++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    // Solve M·(sx, sy) + t = (x, y).
                    double bx = x - m.M02, by = y - m.M12;
                    double sx = (m.M11 * bx - m.M01 * by) / det, sy = (-m.M10 * bx + m.M00 * by) / det;
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                    double ax = sx - x0, ay = sy - y0;
                    double v = (1 - ay) * ((1 - ax) * OraclePixel(img, c, h, w, ch, y0, x0, border, fill) + ax * OraclePixel(img, c, h, w, ch, y0, x0 + 1, border, fill))
                        + ay * ((1 - ax) * OraclePixel(img, c, h, w, ch, y0 + 1, x0, border, fill) + ax * OraclePixel(img, c, h, w, ch, y0 + 1, x0 + 1, border, fill));
                    result[(ch * h + y) * w + x] = (float)v;
                }
            }
        }
        return result;
    }

    [TestMethod]
    [DataRow(BorderMode.Constant)]
    [DataRow(BorderMode.Reflect101)]
    [DataRow(BorderMode.Replicate)]
    public void WarpAffineMatchesPlainLoops(BorderMode border)
    {
        var rng = new Random(3);
        foreach (var (c, h, w) in new[] { (1, 9, 7), (3, 6, 11), (2, 1, 5), (1, 16, 16) })
        {
            var img = RandomImage(rng, c * h * w);
            foreach (var m in new[]
            {
                AffineMatrix.Rotation((w - 1) / 2.0, (h - 1) / 2.0, 33),
                AffineMatrix.Compose((w - 1) / 2.0, (h - 1) / 2.0, -12, 2, -1, 1.3, 15, -5),
                new AffineMatrix(0.7, -0.2, 3.5, 0.4, 1.6, -4.25),
            })
            {
                var actual = new float[img.Length];
                ImageWarp.WarpAffine(img, actual, c, h, w, m, border, 0.3f);
                TensorAssert.AreClose(OracleWarp(img, c, h, w, m, border, 0.3f), actual, 1e-5, 1e-5, $"{border} {c}x{h}x{w} {m}");
            }
        }
    }

    [TestMethod]
    public void IdentityAndHalfTurnAreExact()
    {
        var rng = new Random(4);
        var img = RandomImage(rng, 2 * 5 * 8);
        var same = new float[img.Length];
        ImageWarp.WarpAffine(img, same, 2, 5, 8, AffineMatrix.Identity, BorderMode.Constant);
        CollectionAssert.AreEqual(img, same);
        // A half turn about the centre maps pixel (x, y) to (W − 1 − x, H − 1 − y): both flips.
        var turned = new float[img.Length];
        ImageWarp.WarpAffine(img, turned, 2, 5, 8, AffineMatrix.Rotation(3.5, 2, 180), BorderMode.Constant);
        var flipped = (float[])img.Clone();
        new RandomHorizontalFlip(1).Apply(flipped, 2, 5, 8, rng);
        new RandomVerticalFlip(1).Apply(flipped, 2, 5, 8, rng);
        TensorAssert.AreClose(flipped, turned, 1e-5, 0);
    }

    [TestMethod]
    public void ResizeRegionMatchesPlainLoops()
    {
        var rng = new Random(5);
        foreach (var (c, h, w, left, top, rw, rh, oh, ow) in new[] { (1, 10, 12, 2, 1, 7, 8, 10, 12), (3, 9, 9, 0, 0, 9, 9, 4, 13), (1, 8, 8, 5, 6, 1, 2, 8, 8) })
        {
            var img = RandomImage(rng, c * h * w);
            var actual = new float[c * oh * ow];
            ImageWarp.ResizeRegion(img, c, h, w, left, top, rw, rh, actual, oh, ow);
            var expected = new float[actual.Length];
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < oh; y++)
                {
                    for (int x = 0; x < ow; x++)
                    {
                        double sx = Math.Clamp((x + 0.5) * rw / ow - 0.5, 0, rw - 1), sy = Math.Clamp((y + 0.5) * rh / oh - 0.5, 0, rh - 1);
                        int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                        int x1 = Math.Min(x0 + 1, rw - 1), y1 = Math.Min(y0 + 1, rh - 1);
                        double ax = sx - x0, ay = sy - y0;
                        double P(int yy, int xx) => img[(ch * h + top + yy) * w + left + xx];
                        expected[(ch * oh + y) * ow + x] = (float)((1 - ay) * ((1 - ax) * P(y0, x0) + ax * P(y0, x1)) + ay * ((1 - ax) * P(y1, x0) + ax * P(y1, x1)));
                    }
                }
            }
            TensorAssert.AreClose(expected, actual, 1e-5, 1e-5, $"{c}x{h}x{w} region {left},{top} {rw}x{rh} to {oh}x{ow}");
        }
    }

    private static IEnumerable<JsonElement> OpenCvCases(string op)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Folder, "augmentation.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Where(e => e.GetProperty("op").GetString() == op).Select(e => e.Clone()).ToList();
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    /// <summary>
    /// OpenCV rounds source coordinates to 1/32 pixel in warpAffine; on the fixtures' smooth images (values in [0, 1]) that
    /// moves a value by at most about 0.004 inside the image and up to about 0.012 where the image meets the constant fill,
    /// so the tolerance is 0.02 for any pixel and 0.002 for the mean difference.
    /// </summary>
    [TestMethod]
    public void WarpAffineMatchesOpenCv()
    {
        var cases = OpenCvCases("warpAffine").ToList();
        Assert.AreEqual(18, cases.Count);
        foreach (var e in cases)
        {
            var shape = Ints(e.GetProperty("shape"));
            var m = e.GetProperty("matrix").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var border = Enum.Parse<BorderMode>(e.GetProperty("border").GetString()!);
            var input = Floats(e.GetProperty("input"));
            var expected = Floats(e.GetProperty("output"));
            var actual = new float[input.Length];
            ImageWarp.WarpAffine(input, actual, shape[0], shape[1], shape[2], new AffineMatrix(m[0], m[1], m[2], m[3], m[4], m[5]), border, e.GetProperty("fill").GetSingle());
            string name = e.GetProperty("name").GetString()!;
            TensorAssert.AreClose(expected, actual, 0.02, 0, name);
            double mean = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Average();
            Assert.IsLessThan(0.002, mean, $"{name}: mean |difference| {mean}");
        }
    }

    /// <summary>cv2.resize of float images computes in float: 1e-5.</summary>
    [TestMethod]
    public void ResizeRegionMatchesOpenCv()
    {
        var cases = OpenCvCases("resize").ToList();
        Assert.AreEqual(3, cases.Count);
        foreach (var e in cases)
        {
            var shape = Ints(e.GetProperty("shape"));
            var region = Ints(e.GetProperty("region"));
            var outShape = Ints(e.GetProperty("outShape"));
            var input = Floats(e.GetProperty("input"));
            var actual = new float[shape[0] * outShape[0] * outShape[1]];
            ImageWarp.ResizeRegion(input, shape[0], shape[1], shape[2], region[0], region[1], region[2], region[3], actual, outShape[0], outShape[1]);
            TensorAssert.AreClose(Floats(e.GetProperty("output")), actual, 1e-5, 1e-5, e.GetProperty("name").GetString()!);
        }
    }

    /// <summary>GaussianBlur with a fixed σ (minimum = maximum) equals cv2.GaussianBlur with BORDER_REFLECT_101 within 1e-5.</summary>
    [TestMethod]
    public void GaussianBlurMatchesOpenCv()
    {
        var cases = OpenCvCases("gaussianBlur").ToList();
        Assert.AreEqual(3, cases.Count);
        foreach (var e in cases)
        {
            var shape = Ints(e.GetProperty("shape"));
            double sigma = e.GetProperty("sigma").GetDouble();
            var image = Floats(e.GetProperty("input"));
            new GaussianBlur(e.GetProperty("kernel").GetInt32(), sigma, sigma).Apply(image, shape[0], shape[1], shape[2], new Random(1));
            TensorAssert.AreClose(Floats(e.GetProperty("output")), image, 1e-5, 1e-5, e.GetProperty("name").GetString()!);
        }
    }

    [TestMethod]
    public void BorderIndexFollowsOpenCvConventions()
    {
        // BORDER_REFLECT_101 of "abcd": dcb|abcd|cba; BORDER_REPLICATE: aaa|abcd|ddd.
        CollectionAssert.AreEqual(new[] { 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1 }, Enumerable.Range(-3, 11).Select(i => ImageWarp.BorderIndex(i, 4, BorderMode.Reflect101)).ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 1, 2, 3, 3, 3 }, Enumerable.Range(-3, 9).Select(i => ImageWarp.BorderIndex(i, 4, BorderMode.Replicate)).ToArray());
        Assert.AreEqual(-1, ImageWarp.BorderIndex(4, 4, BorderMode.Constant));
        Assert.AreEqual(0, ImageWarp.BorderIndex(-5, 1, BorderMode.Reflect101));
    }
}
