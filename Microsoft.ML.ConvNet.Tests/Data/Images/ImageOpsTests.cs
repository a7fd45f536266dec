using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Tests.Data.Images;

[TestClass]
public sealed class ImageOpsTests
{
    // 4×2 gray: 0 10 20 30 / 40 50 60 70
    private static ImageBuffer FourByTwo() => TestImages.Gray(4, 2, 0, 10, 20, 30, 40, 50, 60, 70);

    [TestMethod]
    [DataRow(Anchor.Center, new byte[] { 10, 20, 50, 60 })]
    [DataRow(Anchor.Left, new byte[] { 0, 10, 40, 50 })]
    [DataRow(Anchor.Right, new byte[] { 20, 30, 60, 70 })]
    [DataRow(Anchor.TopLeft, new byte[] { 0, 10, 40, 50 })]
    [DataRow(Anchor.BottomRight, new byte[] { 20, 30, 60, 70 })]
    [DataRow(Anchor.Top, new byte[] { 10, 20, 50, 60 })]
    public void IsoCropKeepsTheAnchoredWindow(Anchor anchor, byte[] expected)
    {
        var result = ImageOps.Resize(FourByTwo(), 2, 2, ResizingKind.IsoCrop, anchor);
        CollectionAssert.AreEqual(expected, result.Pixels.ToArray(), anchor.ToString());
    }

    [TestMethod]
    public void IsoCropVerticalAnchors()
    {
        // 2×4 (transposed case): rows 0..3 of values 0,10 / 20,30 / 40,50 / 60,70 → 2×2.
        var tall = TestImages.Gray(2, 4, 0, 10, 20, 30, 40, 50, 60, 70);
        CollectionAssert.AreEqual(new byte[] { 0, 10, 20, 30 }, ImageOps.Resize(tall, 2, 2, ResizingKind.IsoCrop, Anchor.Top).Pixels.ToArray());
        CollectionAssert.AreEqual(new byte[] { 20, 30, 40, 50 }, ImageOps.Resize(tall, 2, 2, ResizingKind.IsoCrop, Anchor.Center).Pixels.ToArray());
        CollectionAssert.AreEqual(new byte[] { 40, 50, 60, 70 }, ImageOps.Resize(tall, 2, 2, ResizingKind.IsoCrop, Anchor.Bottom).Pixels.ToArray());
    }

    [TestMethod]
    [DataRow(Anchor.Center, 1)]
    [DataRow(Anchor.Top, 0)]
    [DataRow(Anchor.Bottom, 2)]
    [DataRow(Anchor.Left, 1)]
    [DataRow(Anchor.BottomLeft, 2)]
    public void IsoPadPlacesTheImageAtTheAnchor(Anchor anchor, int firstRow)
    {
        // 4×2 → 4×4: scale 1, two rows of zeros around the copied image.
        var result = ImageOps.Resize(FourByTwo(), 4, 4, ResizingKind.IsoPad, anchor);
        var expected = new byte[16];
        byte[] source = [0, 10, 20, 30, 40, 50, 60, 70];
        source.CopyTo(expected, firstRow * 4);
        CollectionAssert.AreEqual(expected, result.Pixels.ToArray(), anchor.ToString());
    }

    [TestMethod]
    public void IsoPadHorizontalAnchorsAndDownscaledContent()
    {
        // 2×4 tall → 4×4: content 2×4 at the left, centre or right.
        var tall = TestImages.Gray(2, 4, 1, 2, 3, 4, 5, 6, 7, 8);
        var left = ImageOps.Resize(tall, 4, 4, ResizingKind.IsoPad, Anchor.Left);
        var right = ImageOps.Resize(tall, 4, 4, ResizingKind.IsoPad, Anchor.Right);
        var center = ImageOps.Resize(tall, 4, 4, ResizingKind.IsoPad, Anchor.Center);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0 }, left.Pixels.ToArray());
        CollectionAssert.AreEqual(new byte[] { 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8 }, right.Pixels.ToArray());
        CollectionAssert.AreEqual(new byte[] { 0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8, 0 }, center.Pixels.ToArray());

        // 4×2 → 2×2: content 2×1 = 2×2 box averages (25, 45) in the top row (centre floors the 1-row margin), zeros below.
        var pad = ImageOps.Resize(FourByTwo(), 2, 2, ResizingKind.IsoPad, Anchor.Center);
        CollectionAssert.AreEqual(new byte[] { 25, 45, 0, 0 }, pad.Pixels.ToArray());
        pad = ImageOps.Resize(FourByTwo(), 2, 2, ResizingKind.IsoPad, Anchor.Bottom);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 25, 45 }, pad.Pixels.ToArray());
    }

    [TestMethod]
    public void IsoPadZeroesAlphaToo()
    {
        var rgba = new ImageBuffer(2, 1, 4, [1, 2, 3, 255, 4, 5, 6, 255]);
        var result = ImageOps.Resize(rgba, 2, 2, ResizingKind.IsoPad, Anchor.Top);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 255, 4, 5, 6, 255, 0, 0, 0, 0, 0, 0, 0, 0 }, result.Pixels.ToArray());
    }

    [TestMethod]
    public void FillBilinearUsesHalfPixelCentres()
    {
        // Upscale 2 → 4: positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        var up = ImageOps.Resize(TestImages.Gray(2, 1, 0, 100), 4, 1, ResizingKind.Fill, Anchor.Center);
        CollectionAssert.AreEqual(new byte[] { 0, 25, 75, 100 }, up.Pixels.ToArray());

        // Downscale 4 → 2: positions 0.5 and 2.5.
        var down = ImageOps.Resize(TestImages.Gray(4, 1, 0, 10, 20, 30), 2, 1, ResizingKind.Fill, Anchor.Center);
        CollectionAssert.AreEqual(new byte[] { 5, 25 }, down.Pixels.ToArray());

        // 2-D: f(x, y) = 100 x + 100 y is reproduced exactly by bilinear interpolation.
        var plane = ImageOps.Resize(TestImages.Gray(2, 2, 0, 100, 100, 200), 4, 4, ResizingKind.Fill, Anchor.Center);
        int[] w = [0, 25, 75, 100];
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                Assert.AreEqual(w[x] + w[y], plane[x, y, 0], $"({x}, {y})");
            }
        }
    }

    [TestMethod]
    public void FillMatchesPyTorchBilinear()
    {
        // torch.randint(0, 256, (1, 3, 5, 7), generator=manual_seed(0)), HWC; F.interpolate(size=(4, 3), mode="bilinear",
        // align_corners=False) in float64, rounded half up (two values are exact .5 ties, where float32 could go either way).
        byte[] source =
        [
            172, 197, 53, 47, 254, 133, 117, 79, 38, 192, 175, 232, 67, 192, 244, 251, 82, 17, 195, 99, 79, 103, 216, 132, 9, 177, 105,
            211, 243, 42, 21, 29, 186, 242, 147, 31, 36, 147, 120, 87, 142, 1, 70, 167, 65, 216, 32, 231, 88, 193, 169, 140, 9, 57, 58,
            185, 35, 193, 127, 102, 230, 32, 119, 39, 31, 11, 87, 202, 174, 174, 244, 82, 88, 151, 91, 81, 163, 128, 165, 254, 142, 25,
            203, 99, 77, 114, 53, 72, 183, 140, 9, 28, 121, 148, 34, 170, 115, 128, 84, 208, 128, 203, 243, 164, 68,
        ];
        byte[] expected =
        [
            83, 229, 107, 171, 157, 226, 210, 95, 43, 88, 148, 137, 66, 22, 138, 110, 127, 91, 107, 120, 141, 108, 98, 78, 151, 184, 120,
            73, 158, 112, 141, 49, 160, 207, 152, 154,
        ];
        var result = ImageOps.Resize(new ImageBuffer(7, 5, 3, source), 3, 4, ResizingKind.Fill);
        CollectionAssert.AreEqual(expected, result.Pixels.ToArray());
    }

    [TestMethod]
    public void ResizeToTheSameSizeIsACopy()
    {
        var image = TestImages.Random(9, 6, 3, seed: 5);
        foreach (ResizingKind kind in Enum.GetValues<ResizingKind>())
        {
            TestImages.AreEqual(image, ImageOps.Resize(image, 9, 6, kind));
        }
    }

    [TestMethod]
    public void ResizeValidatesArguments()
    {
        var image = FourByTwo();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageOps.Resize(image, 0, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageOps.Resize(image, 2, 2, (ResizingKind)9));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageOps.Resize(image, 2, 2, ResizingKind.IsoCrop, (Anchor)42));
    }

    [TestMethod]
    public void GrayscaleUsesBt601Luma()
    {
        var rgb = new ImageBuffer(5, 1, 3, [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 255, 255, 255]);
        CollectionAssert.AreEqual(new byte[] { 76, 150, 29, 18, 255 }, ImageOps.ToGrayscale(rgb).Pixels.ToArray());

        var rgba = new ImageBuffer(1, 1, 4, [10, 20, 30, 0]);
        var gray = ImageOps.ToGrayscale(rgba);
        Assert.AreEqual(1, gray.Channels);
        Assert.AreEqual(18, gray[0, 0, 0]);

        var g = TestImages.Gray(1, 1, 77);
        var copy = ImageOps.ToGrayscale(g);
        Assert.AreNotSame(g, copy);
        Assert.AreEqual(77, copy[0, 0, 0]);
    }

    [TestMethod]
    public void ToRgbExpandsGrayAndDropsAlpha()
    {
        CollectionAssert.AreEqual(new byte[] { 7, 7, 7, 9, 9, 9 }, ImageOps.ToRgb(TestImages.Gray(2, 1, 7, 9)).Pixels.ToArray());
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, ImageOps.ToRgb(new ImageBuffer(1, 1, 4, [1, 2, 3, 4])).Pixels.ToArray());
    }

    [TestMethod]
    public void ExifOrientationTransformsAllEight()
    {
        // 3×2: 0 1 2 / 3 4 5
        var image = TestImages.Gray(3, 2, 0, 1, 2, 3, 4, 5);
        (int W, int H, byte[] P)[] expected =
        [
            (3, 2, [0, 1, 2, 3, 4, 5]),
            (3, 2, [2, 1, 0, 5, 4, 3]),
            (3, 2, [5, 4, 3, 2, 1, 0]),
            (3, 2, [3, 4, 5, 0, 1, 2]),
            (2, 3, [0, 3, 1, 4, 2, 5]),
            (2, 3, [3, 0, 4, 1, 5, 2]),
            (2, 3, [5, 2, 4, 1, 3, 0]),
            (2, 3, [2, 5, 1, 4, 0, 3]),
        ];
        for (int o = 1; o <= 8; o++)
        {
            var r = ImageOps.ApplyExifOrientation(image, o);
            Assert.AreEqual(expected[o - 1].W, r.Width, $"orientation {o} width");
            Assert.AreEqual(expected[o - 1].H, r.Height, $"orientation {o} height");
            CollectionAssert.AreEqual(expected[o - 1].P, r.Pixels.ToArray(), $"orientation {o}");
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageOps.ApplyExifOrientation(image, 9));
    }

    // 2×1 RGBA: (1, 2, 3, 4), (5, 6, 7, 8)
    private static ImageBuffer Rgba() => new(2, 1, 4, [1, 2, 3, 4, 5, 6, 7, 8]);

    [TestMethod]
    public void ExtractPixelsPlanarAndInterleaved()
    {
        CollectionAssert.AreEqual(new float[] { 1, 5, 2, 6, 3, 7 }, ImageOps.ExtractPixels(Rgba()));
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 5, 6, 7 }, ImageOps.ExtractPixels(Rgba(), interleave: true));
        CollectionAssert.AreEqual(new float[] { 4, 1, 2, 3, 8, 5, 6, 7 }, ImageOps.ExtractPixels(Rgba(), ColorBits.All, interleave: true));
        CollectionAssert.AreEqual(new float[] { 4, 8, 1, 5, 2, 6, 3, 7 }, ImageOps.ExtractPixels(Rgba(), ColorBits.All));
    }

    [TestMethod]
    [DataRow(ColorsOrder.ARGB, new float[] { 4, 1, 2, 3 })]
    [DataRow(ColorsOrder.ARBG, new float[] { 4, 1, 3, 2 })]
    [DataRow(ColorsOrder.ABRG, new float[] { 4, 3, 1, 2 })]
    [DataRow(ColorsOrder.ABGR, new float[] { 4, 3, 2, 1 })]
    [DataRow(ColorsOrder.AGRB, new float[] { 4, 2, 1, 3 })]
    [DataRow(ColorsOrder.AGBR, new float[] { 4, 2, 3, 1 })]
    public void ExtractPixelsChannelOrders(ColorsOrder order, float[] firstPixel)
    {
        var values = ImageOps.ExtractPixels(Rgba(), ColorBits.All, order, interleave: true);
        CollectionAssert.AreEqual(firstPixel, values[..4], order.ToString());
        // Without alpha the order keeps its relative positions: ABGR + Rgb = BGR.
        var rgbOnly = ImageOps.ExtractPixels(Rgba(), ColorBits.Rgb, order, interleave: true);
        CollectionAssert.AreEqual(firstPixel[1..], rgbOnly[..3], order + " without alpha");
    }

    [TestMethod]
    public void ExtractPixelsSubsetsOffsetAndScale()
    {
        // (value - offset) * scale, as ML.NET's offsetImage / scaleImage.
        CollectionAssert.AreEqual(new float[] { 0, 2, 0.5f, 2.5f }, ImageOps.ExtractPixels(Rgba(), ColorBits.Red | ColorBits.Green, offset: 1, scale: 0.5f));
        CollectionAssert.AreEqual(new float[] { 3, 7 }, ImageOps.ExtractPixels(Rgba(), ColorBits.Blue));

        var values = ImageOps.ExtractPixels(Rgba(), scale: 1f / 255);
        Assert.AreEqual(1f / 255, values[0], 1e-7f);
    }

    [TestMethod]
    public void ExtractPixelsFromGrayAndRgbFillsMissingChannels()
    {
        var gray = TestImages.Gray(2, 1, 10, 20);
        CollectionAssert.AreEqual(new float[] { 255, 10, 10, 10, 255, 20, 20, 20 }, ImageOps.ExtractPixels(gray, ColorBits.All, interleave: true));
        var rgb = new ImageBuffer(1, 1, 3, [1, 2, 3]);
        CollectionAssert.AreEqual(new float[] { 127, 0, 0.5f, 1 }, ImageOps.ExtractPixels(rgb, ColorBits.All, offset: 1, scale: 0.5f));
    }

    [TestMethod]
    public void ExtractPixelsChecksTheDestination()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => ImageOps.ExtractPixels(Rgba(), new float[5]));
        StringAssert.Contains(ex.Message, "6");
        Assert.ThrowsExactly<ArgumentException>(() => ImageOps.ExtractPixels(Rgba(), ColorBits.None));
        Assert.AreEqual(3, ImageOps.PlaneCount(ColorBits.Rgb));
        Assert.AreEqual(4, ImageOps.PlaneCount(ColorBits.All));
    }

    [TestMethod]
    public void NormalizePerChannel()
    {
        float[] chw = [1, 3, 10, 20, 0, 1];
        ImageOps.Normalize(chw, 3, [2f, 10f, 0.5f], [1f, 5f, 0.5f]);
        CollectionAssert.AreEqual(new float[] { -1, 1, 0, 2, -1, 1 }, chw);
        Assert.ThrowsExactly<ArgumentException>(() => ImageOps.Normalize(new float[6], 3, [0f, 0f], [1f, 1f, 1f]));
        Assert.ThrowsExactly<ArgumentException>(() => ImageOps.Normalize(new float[5], 3, [0f, 0f, 0f], [1f, 1f, 1f]));
        Assert.ThrowsExactly<ArgumentException>(() => ImageOps.Normalize(new float[6], 3, [0f, 0f, 0f], [1f, 0f, 1f]));
    }

    [TestMethod]
    public void ImageBufferValidates()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageBuffer(2, 2, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageBuffer(0, 2, 3));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new ImageBuffer(2, 2, 3, new byte[11]));
        StringAssert.Contains(ex.Message, "12");
        var image = new ImageBuffer(2, 2, 3);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => image[2, 0, 0]);
        image[1, 1, 2] = 9;
        Assert.AreEqual(9, image.Pixels[11]);
        Assert.AreEqual(9, image.GetRow(1)[5]);
    }
}
