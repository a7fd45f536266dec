using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Data.Images.Interop;

namespace Microsoft.ML.ConvNet.Tests.Data.Images;

[TestClass]
public sealed class ImageCodecTests
{
    // ---- PNG (libspng) ----

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(4)]
    public void PngRoundTripIsExact(int channels)
    {
        TestImages.RequirePng();
        var image = TestImages.Random(37, 23, channels, seed: channels);
        var png = ImageCodec.Encode(image, ImageFormat.Png);
        Assert.AreEqual(ImageFormat.Png, ImageCodec.DetectFormat(png));
        TestImages.AreEqual(image, ImageCodec.Decode(png, "roundtrip.png"));
    }

    [TestMethod]
    public void PngPaletteDecodesToRgbOrRgbaWithTransparency()
    {
        TestImages.RequirePng();
        byte[] plte = [255, 0, 0, 0, 255, 0, 0, 0, 255];
        byte[] indices = [0, 1, 2, 2, 1, 0];
        var rgb = ImageCodec.Decode(TestImages.Png(3, 2, 3, 8, indices, plte), "palette.png");
        Assert.AreEqual(3, rgb.Channels);
        CollectionAssert.AreEqual(new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0 }, rgb.Pixels.ToArray());

        var rgba = ImageCodec.Decode(TestImages.Png(3, 2, 3, 8, indices, plte, trns: [10, 20]), "palette-trns.png");
        Assert.AreEqual(4, rgba.Channels);
        Assert.AreEqual(10, rgba[0, 0, 3]);
        Assert.AreEqual(20, rgba[1, 0, 3]);
        Assert.AreEqual(255, rgba[2, 0, 3], "entries past the tRNS table are opaque");
        Assert.AreEqual(255, rgba[2, 0, 2]);
    }

    [TestMethod]
    public void PngGrayAlphaDecodesToRgba()
    {
        TestImages.RequirePng();
        byte[] raw = [10, 200, 90, 7];
        var image = ImageCodec.Decode(TestImages.Png(2, 1, 4, 8, raw), "ga.png");
        Assert.AreEqual(4, image.Channels);
        CollectionAssert.AreEqual(new byte[] { 10, 10, 10, 200, 90, 90, 90, 7 }, image.Pixels.ToArray());
    }

    [TestMethod]
    public void PngSixteenBitGrayDecodesToEightBitGray()
    {
        TestImages.RequirePng();
        byte[] raw = [0x00, 0x00, 0x80, 0x00, 0xFF, 0xFF];
        var image = ImageCodec.Decode(TestImages.Png(3, 1, 0, 16, raw), "g16.png");
        Assert.AreEqual(1, image.Channels);
        Assert.AreEqual(0, image[0, 0, 0]);
        Assert.IsTrue(Math.Abs(image[1, 0, 0] - 128) <= 1, $"0x8000 → {image[1, 0, 0]}");
        Assert.AreEqual(255, image[2, 0, 0]);
    }

    [TestMethod]
    public void TruncatedPngNamesTheFile()
    {
        TestImages.RequirePng();
        var png = ImageCodec.Encode(TestImages.Random(40, 30, 3, 1), ImageFormat.Png);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(png.AsSpan(0, png.Length / 2), "cut.png"));
        StringAssert.Contains(ex.Message, "cut.png");
        StringAssert.Contains(ex.Message, "PNG");
    }

    [TestMethod]
    public void PngCutAfterTheHeaderReportsTheEndOfData()
    {
        TestImages.RequirePng();
        var png = ImageCodec.Encode(TestImages.Random(40, 30, 3, 1), ImageFormat.Png);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(png.AsSpan(0, 40), "short.png"));
        StringAssert.Contains(ex.Message, "short.png");
        StringAssert.Contains(ex.Message, "end of stream");
    }

    [TestMethod]
    public void CorruptPngCrcNamesTheFile()
    {
        TestImages.RequirePng();
        var png = ImageCodec.Encode(TestImages.Random(16, 16, 3, 2), ImageFormat.Png);
        png[20] ^= 0xFF; // inside IHDR: its CRC no longer matches
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(png, "bad-crc.png"));
        StringAssert.Contains(ex.Message, "bad-crc.png");
    }

    // ---- JPEG (TurboJPEG) ----

    [TestMethod]
    [DataRow(3)]
    [DataRow(1)]
    public void JpegRoundTripIsClose(int channels)
    {
        TestImages.RequireJpeg();
        var image = TestImages.Smooth(64, 48, channels);
        var jpeg = ImageCodec.Encode(image, ImageFormat.Jpeg, jpegQuality: 95);
        Assert.AreEqual(ImageFormat.Jpeg, ImageCodec.DetectFormat(jpeg));
        var decoded = ImageCodec.Decode(jpeg, "smooth.jpg");
        double mae = TestImages.MeanAbsoluteError(image, decoded);
        Assert.IsTrue(mae < 3, $"mean absolute error {mae:F3} at quality 95");
    }

    [TestMethod]
    public unsafe void CmykJpegDecodesToRgb()
    {
        TestImages.RequireJpeg();
        // Adobe-style (inverted) CMYK, as libjpeg stores it: R = C·K/255, G = M·K/255, B = Y·K/255.
        var cmyk = new byte[16 * 8 * 4];
        for (int i = 0; i < cmyk.Length; i += 4)
        {
            cmyk[i] = 255;
            cmyk[i + 1] = 128;
            cmyk[i + 2] = 0;
            cmyk[i + 3] = 200;
        }
        using var handle = TurboJpegNative.InitCompress();
        byte* jpeg = null;
        var size = default(System.Runtime.InteropServices.CULong);
        byte[] bytes;
        try
        {
            fixed (byte* src = cmyk)
            {
                int rc = TurboJpegNative.Compress2(handle, src, 16, 0, 8, TurboJpegNative.PixelFormatCmyk, &jpeg, &size,
                    TurboJpegNative.Subsampling444, 95, 0);
                Assert.AreEqual(0, rc, TurboJpegNative.LastError(handle));
            }
            bytes = new ReadOnlySpan<byte>(jpeg, (int)size.Value).ToArray();
        }
        finally
        {
            TurboJpegNative.Free(jpeg);
        }
        var image = ImageCodec.Decode(bytes, "cmyk.jpg");
        Assert.AreEqual(3, image.Channels);
        Assert.IsTrue(Math.Abs(image[5, 5, 0] - 200) <= 3, $"R {image[5, 5, 0]}");
        Assert.IsTrue(Math.Abs(image[5, 5, 1] - 100) <= 3, $"G {image[5, 5, 1]}");
        Assert.IsTrue(image[5, 5, 2] <= 3, $"B {image[5, 5, 2]}");
    }

    [TestMethod]
    public void JpegRejectsAlpha()
    {
        Assert.ThrowsExactly<ArgumentException>(() => ImageCodec.Encode(new ImageBuffer(2, 2, 4), ImageFormat.Jpeg));
    }

    private static byte[] MarkedJpeg()
    {
        // 32×16, the top-left 8×8 block red, the rest gray.
        var image = new ImageBuffer(32, 16, 3);
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                bool mark = x < 8 && y < 8;
                image[x, y, 0] = mark ? (byte)255 : (byte)128;
                image[x, y, 1] = mark ? (byte)0 : (byte)128;
                image[x, y, 2] = mark ? (byte)0 : (byte)128;
            }
        }
        return ImageCodec.Encode(image, ImageFormat.Jpeg, 95);
    }

    private static bool IsRed(ImageBuffer image, int x, int y) =>
        image[x, y, 0] > 200 && image[x, y, 1] < 60 && image[x, y, 2] < 60;

    [TestMethod]
    [DataRow(1, 32, 16, 2, 2, false)]
    [DataRow(6, 16, 32, 13, 2, false)]   // rotate 90° clockwise: the mark goes to the top-right
    [DataRow(3, 32, 16, 29, 13, false)]  // rotate 180°: bottom-right
    [DataRow(8, 16, 32, 2, 29, false)]   // rotate 90° counter-clockwise: bottom-left
    [DataRow(6, 16, 32, 13, 2, true)]    // big-endian TIFF header
    public void JpegExifOrientationIsApplied(int orientation, int width, int height, int markX, int markY, bool bigEndian)
    {
        TestImages.RequireJpeg();
        var jpeg = TestImages.WithExifOrientation(MarkedJpeg(), orientation, bigEndian);
        var image = ImageCodec.Decode(jpeg, "exif.jpg");
        Assert.AreEqual(width, image.Width, "width");
        Assert.AreEqual(height, image.Height, "height");
        Assert.IsTrue(IsRed(image, markX, markY), $"the marked corner should be at ({markX}, {markY}) for orientation {orientation}");
        Assert.IsFalse(IsRed(image, width - 1 - markX, height - 1 - markY), "the opposite corner is not marked");
    }

    [TestMethod]
    public void ExifOrientationParser()
    {
        TestImages.RequireJpeg();
        var jpeg = MarkedJpeg();
        Assert.AreEqual(1, Microsoft.ML.ConvNet.Data.Images.Exif.ReadJpegOrientation(jpeg));
        for (int o = 1; o <= 8; o++)
        {
            Assert.AreEqual(o, Microsoft.ML.ConvNet.Data.Images.Exif.ReadJpegOrientation(TestImages.WithExifOrientation(jpeg, o)));
        }
    }

    [TestMethod]
    public void TruncatedJpegNamesTheFile()
    {
        TestImages.RequireJpeg();
        var jpeg = ImageCodec.Encode(TestImages.Smooth(64, 64, 3), ImageFormat.Jpeg, 90);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(jpeg.AsSpan(0, jpeg.Length * 2 / 3), "photos/cut.jpg"));
        StringAssert.Contains(ex.Message, "photos/cut.jpg");
        StringAssert.Contains(ex.Message, "JPEG");
    }

    [TestMethod]
    public void JpegWithBrokenHeaderNamesTheFile()
    {
        TestImages.RequireJpeg();
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xC0, 0x00, 0x03, 0x01];
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(jpeg, "header.jpg"));
        StringAssert.Contains(ex.Message, "header.jpg");
    }

    // ---- BMP ----

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(4)]
    public void BmpRoundTripIsExact(int channels)
    {
        var image = TestImages.Random(13, 7, channels, seed: 10 + channels); // odd width: row padding
        var bmp = ImageCodec.Encode(image, ImageFormat.Bmp);
        Assert.AreEqual(ImageFormat.Bmp, ImageCodec.DetectFormat(bmp));
        TestImages.AreEqual(image, ImageCodec.Decode(bmp, "roundtrip.bmp"));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(4)]
    public void BmpTopDownMatchesBottomUp(int channels)
    {
        var image = TestImages.Random(5, 4, channels, seed: 20 + channels);
        var bmp = ImageCodec.Encode(image, ImageFormat.Bmp);
        int offset = BinaryPrimitives.ReadInt32LittleEndian(bmp.AsSpan(10));
        int rowBytes = (bmp.Length - offset) / image.Height;
        var topDown = (byte[])bmp.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(topDown.AsSpan(14 + 8), -image.Height);
        for (int y = 0; y < image.Height; y++)
        {
            Array.Copy(bmp, offset + (rowBytes * y), topDown, offset + (rowBytes * (image.Height - 1 - y)), rowBytes);
        }
        TestImages.AreEqual(image, ImageCodec.Decode(topDown, "topdown.bmp"));
    }

    private static byte[] Bmp40(int width, int height, int bitCount, byte[] palette, byte[] rows)
    {
        int offset = 14 + 40 + palette.Length;
        var bmp = new byte[offset + rows.Length];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(28), (ushort)bitCount);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(46), palette.Length / 4);
        palette.CopyTo(bmp, 54);
        rows.CopyTo(bmp, offset);
        return bmp;
    }

    [TestMethod]
    public void Bmp32BitWithoutMasksIsRgbAndColourPaletteIsRgb()
    {
        // 2×2 top-down BGRX: red, green / blue, white.
        byte[] rows = [0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0];
        var image = ImageCodec.Decode(Bmp40(2, -2, 32, [], rows), "bgrx.bmp");
        Assert.AreEqual(3, image.Channels);
        CollectionAssert.AreEqual(new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 }, image.Pixels.ToArray());

        // 3×1 bottom-up, palette blue, yellow; rows padded to 4 bytes.
        byte[] palette = [255, 0, 0, 0, 0, 255, 255, 0];
        var pal = ImageCodec.Decode(Bmp40(3, 1, 8, palette, [1, 0, 1, 0]), "pal.bmp");
        Assert.AreEqual(3, pal.Channels);
        CollectionAssert.AreEqual(new byte[] { 255, 255, 0, 0, 0, 255, 255, 255, 0 }, pal.Pixels.ToArray());
    }

    [TestMethod]
    public void BmpErrorsNameTheFile()
    {
        var bmp = ImageCodec.Encode(TestImages.Random(10, 10, 3, 3), ImageFormat.Bmp);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(bmp.AsSpan(0, bmp.Length - 7), "cut.bmp"));
        StringAssert.Contains(ex.Message, "cut.bmp");
        StringAssert.Contains(ex.Message, "truncated");

        var rle = (byte[])bmp.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(rle.AsSpan(30), 1); // BI_RLE8
        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(rle, "rle.bmp"));
        StringAssert.Contains(ex.Message, "rle.bmp");
        StringAssert.Contains(ex.Message, "compression");

        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(bmp.AsSpan(0, 20), "short.bmp"));
        StringAssert.Contains(ex.Message, "short.bmp");
    }

    // ---- PGM / PPM ----

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void PnmBinaryRoundTripIsExact(int channels)
    {
        var image = TestImages.Random(9, 5, channels, seed: 30 + channels);
        var pnm = ImageCodec.Encode(image, ImageFormat.Pnm);
        StringAssert.StartsWith(Encoding.ASCII.GetString(pnm, 0, 2), channels == 1 ? "P5" : "P6");
        TestImages.AreEqual(image, ImageCodec.Decode(pnm, "roundtrip.pnm"));
    }

    [TestMethod]
    public void PnmAsciiWithCommentsAndSmallMaxValue()
    {
        var pgm = Encoding.ASCII.GetBytes("P2\n# a comment\n3 2 # trailing comment\n15\n0 15 5\n10 1 14\n");
        var gray = ImageCodec.Decode(pgm, "a.pgm");
        Assert.AreEqual(1, gray.Channels);
        CollectionAssert.AreEqual(new byte[] { 0, 255, 85, 170, 17, 238 }, gray.Pixels.ToArray());

        var ppm = Encoding.ASCII.GetBytes("P3 2 1 255 1 2 3 250 251 252");
        var rgb = ImageCodec.Decode(ppm, "a.ppm");
        Assert.AreEqual(3, rgb.Channels);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 250, 251, 252 }, rgb.Pixels.ToArray());
    }

    [TestMethod]
    public void PnmErrorsNameTheFile()
    {
        var ppm = ImageCodec.Encode(TestImages.Random(4, 4, 3, 4), ImageFormat.Pnm);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(ppm.AsSpan(0, ppm.Length - 1), "cut.ppm"));
        StringAssert.Contains(ex.Message, "cut.ppm");
        StringAssert.Contains(ex.Message, "truncated");

        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(Encoding.ASCII.GetBytes("P5 2 2 65535\n"), "deep.pgm"));
        StringAssert.Contains(ex.Message, "deep.pgm");
        StringAssert.Contains(ex.Message, "65535");

        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(Encoding.ASCII.GetBytes("P2 2 1 10 3 11"), "over.pgm"));
        StringAssert.Contains(ex.Message, "over.pgm");

        Assert.ThrowsExactly<ArgumentException>(() => ImageCodec.Encode(new ImageBuffer(1, 1, 4), ImageFormat.Pnm));
    }

    // ---- Format detection, errors, files ----

    [TestMethod]
    public void UnknownFormatNamesTheFileAndTheFirstBytes()
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode("GIF89a..."u8, "anim.gif"));
        StringAssert.Contains(ex.Message, "anim.gif");
        StringAssert.Contains(ex.Message, "47 49 46 38 39 61");
        StringAssert.Contains(ex.Message, "GIF89a");

        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode([], "empty.png"));
        StringAssert.Contains(ex.Message, "empty.png");
        StringAssert.Contains(ex.Message, "empty");
    }

    [TestMethod]
    public void MissingLibraryMessageNamesLibraryAndPackage()
    {
        string? problem = NativeCodecs.Probe("libconvnet-missing-codec.so.0", "libconvnet-missing0", "JPEG");
        Assert.IsNotNull(problem);
        StringAssert.Contains(problem, "libconvnet-missing-codec.so.0");
        StringAssert.Contains(problem, "libconvnet-missing0");
        var ex = new NativeCodecNotFoundException(problem, "libconvnet-missing-codec.so.0", "libconvnet-missing0");
        Assert.IsInstanceOfType<DllNotFoundException>(ex);
        Assert.AreEqual("libconvnet-missing0", ex.PackageName);
    }

    [TestMethod]
    public void AvailabilityReportsReasonConsistently()
    {
        bool available = NativeCodecs.IsAvailable(out string reason);
        Assert.AreEqual(available, reason.Length == 0, reason);
        if (!available)
        {
            StringAssert.Contains(reason, "apt-get install");
        }
    }

    [TestMethod]
    public void SaveAndLoadFilesByExtension()
    {
        string dir = Path.Combine(Path.GetTempPath(), "convnet-codec-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var image = TestImages.Random(6, 5, 3, seed: 40);
            foreach (string name in new[] { "a.bmp", "a.ppm" })
            {
                string path = Path.Combine(dir, name);
                ImageCodec.Save(image, path);
                TestImages.AreEqual(image, ImageCodec.Load(path));
            }
            Assert.ThrowsExactly<ArgumentException>(() => ImageCodec.Save(image, Path.Combine(dir, "a.tiff")));
            string bad = Path.Combine(dir, "broken.bmp");
            File.WriteAllBytes(bad, "BM"u8.ToArray());
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Load(bad));
            StringAssert.Contains(ex.Message, bad);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
