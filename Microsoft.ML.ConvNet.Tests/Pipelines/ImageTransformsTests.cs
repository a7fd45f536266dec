namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Pipelines;

[TestClass]
public sealed class ImageTransformsTests
{
    private string _tmp = null!;

    [TestInitialize]
    public void Init()
    {
        _tmp = Path.Combine(Path.GetTempPath(), "convnet-imgtx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tmp);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_tmp, recursive: true);

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class NumberRow
    {
        public float ImagePath { get; set; }
    }

    /// <summary>All values of column <paramref name="name"/>, read through one cursor.</summary>
    internal static List<T> Column<T>(IDataView data, string name)
    {
        var col = data.Schema[name];
        using var cursor = data.GetRowCursor([col]);
        var getter = cursor.GetGetter<T>(col);
        var list = new List<T>();
        while (cursor.MoveNext())
        {
            T v = default!;
            getter(ref v);
            list.Add(v);
        }
        return list;
    }

    private static ImageBuffer Solid(int w, int h, byte r, byte g, byte b)
    {
        var img = new ImageBuffer(w, h, 3);
        for (int i = 0; i < w * h; i++)
        {
            img.Pixels[3 * i] = r;
            img.Pixels[(3 * i) + 1] = g;
            img.Pixels[(3 * i) + 2] = b;
        }
        return img;
    }

    /// <summary>2×2 RGB: pixel (x, y) is (10 + 10x + 20y, 100 + x, 200 - y).</summary>
    private static ImageBuffer Gradient()
    {
        var img = new ImageBuffer(2, 2, 3);
        for (int y = 0; y < 2; y++)
        {
            for (int x = 0; x < 2; x++)
            {
                img[x, y, 0] = (byte)(10 + (10 * x) + (20 * y));
                img[x, y, 1] = (byte)(100 + x);
                img[x, y, 2] = (byte)(200 - y);
            }
        }
        return img;
    }

    private string Save(ImageBuffer image, string relative)
    {
        string p = Path.Combine(_tmp, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        ImageCodec.Save(image, p);
        return p;
    }

    private IDataView Paths(ConvNetContext ml, params string[] paths) =>
        ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));

    private static void AssertFloats(float[] expected, float[] actual, float tolerance = 1e-6f, string message = "")
    {
        Assert.HasCount(expected.Length, actual, message);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{message} index {i}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    [TestMethod]
    public void BmpFolderPipelineGivesShapesAndHandComputedPixels()
    {
        Save(Solid(4, 3, 10, 20, 30), "solid/a.bmp");
        Save(Gradient(), "ramp/b.bmp");
        var ml = new ConvNetContext(seed: 1);
        var data = ml.Data.LoadFromImageFolder(_tmp);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", _tmp, "ImagePath"))
            .Append(ml.Transforms.ResizeImages("Image", 2, 2, resizing: ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", scaleImage: 1f / 255));
        var schema = pipeline.GetOutputSchema(data.Schema);
        Assert.AreEqual("Image<2, 2>", schema["Image"].Type.ToString());
        Assert.AreEqual("Vector<Single, 3, 2, 2>", schema["Pixels"].Type.ToString());

        var output = pipeline.Fit(data).Transform(data);
        Assert.AreEqual("Key<UInt32, 0-1>", output.Schema["Label"].Type.ToString());
        Assert.AreEqual("Vector<Single, 3, 2, 2>", output.Schema["Pixels"].Type.ToString());
        Assert.AreEqual(2L, output.GetRowCount());
        var pixels = Column<float[]>(output, "Pixels");
        var labels = Column<uint>(output, "Label");
        CollectionAssert.AreEqual(new uint[] { 1, 2 }, labels);
        // ramp/b.bmp sorts first: planar R, G, B planes of the 2×2 gradient, row-major.
        AssertFloats(new[] { 10f, 20, 30, 40, 100, 101, 100, 101, 200, 200, 199, 199 }.Select(v => v / 255).ToArray(), pixels[0], 1e-6f, "gradient");
        // A solid image stays solid when stretched from 4×3 to 2×2.
        AssertFloats(new[] { 10f, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30 }.Select(v => v / 255).ToArray(), pixels[1], 1e-6f, "solid");
    }

    [TestMethod]
    public void ChannelOrderInterleaveAlphaAndOffset()
    {
        var img = new ImageBuffer(2, 1, 3);
        img[0, 0, 0] = 10; img[0, 0, 1] = 20; img[0, 0, 2] = 30;
        img[1, 0, 0] = 40; img[1, 0, 1] = 50; img[1, 0, 2] = 60;
        Save(img, "x.bmp");
        var ml = new ConvNetContext();
        var data = Paths(ml, "x.bmp");
        float[] Run(ColorBits bits, ColorsOrder order, bool interleave, float offset = 0, float scale = 1, string expectedType = "")
        {
            var p = ml.Transforms.LoadImages("Image", _tmp, "ImagePath")
                .Append(ml.Transforms.ResizeImages("Image", 2, 1))
                .Append(ml.Transforms.ExtractPixels("Pixels", "Image", bits, order, interleave, offset, scale));
            var o = p.Fit(data).Transform(data);
            if (expectedType.Length > 0)
            {
                Assert.AreEqual(expectedType, o.Schema["Pixels"].Type.ToString());
            }
            return Column<float[]>(o, "Pixels").Single();
        }
        AssertFloats([10, 40, 20, 50, 30, 60], Run(ColorBits.Rgb, ColorsOrder.ARGB, false, expectedType: "Vector<Single, 3, 1, 2>"), 0, "RGB planar");
        AssertFloats([30, 60, 20, 50, 10, 40], Run(ColorBits.Rgb, ColorsOrder.ABGR, false), 0, "BGR planar");
        AssertFloats([30, 20, 10, 60, 50, 40], Run(ColorBits.Rgb, ColorsOrder.ABGR, true, expectedType: "Vector<Single, 1, 2, 3>"), 0, "BGR interleaved");
        AssertFloats([255, 255, 10, 40, 20, 50, 30, 60], Run(ColorBits.All, ColorsOrder.ARGB, false, expectedType: "Vector<Single, 4, 1, 2>"), 0, "ARGB planar");
        AssertFloats([20, 50], Run(ColorBits.Green, ColorsOrder.ARGB, false, expectedType: "Vector<Single, 1, 1, 2>"), 0, "green only");
        AssertFloats([(10 - 10) * 0.5f, (40 - 10) * 0.5f, 5, 20, 10, 25], Run(ColorBits.Rgb, ColorsOrder.ARGB, false, offset: 10, scale: 0.5f), 1e-6f, "offset then scale");

        var bytes = ml.Transforms.LoadImages("Image", _tmp, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 2, 1))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", interleavePixelColors: true, outputAsFloatArray: false));
        var bo = bytes.Fit(data).Transform(data);
        Assert.AreEqual("Vector<Byte, 1, 2, 3>", bo.Schema["Pixels"].Type.ToString());
        CollectionAssert.AreEqual(new byte[] { 10, 20, 30, 40, 50, 60 }, Column<byte[]>(bo, "Pixels").Single());
        Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.ExtractPixels("P", "Image", scaleImage: 2, outputAsFloatArray: false));
    }

    [TestMethod]
    public void ResizeDefaultsToIsoCropAndKeepsChannels()
    {
        // 4×2: left half black, right half white; IsoCrop to 2×2 keeps the centre 2×2 window of the (unscaled) image.
        var img = new ImageBuffer(4, 2, 1);
        for (int y = 0; y < 2; y++)
        {
            img[2, y, 0] = 255;
            img[3, y, 0] = 255;
        }
        Save(img, "g.bmp");
        var ml = new ConvNetContext();
        var data = Paths(ml, "g.bmp");
        var t = ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Append(ml.Transforms.ResizeImages("Small", 2, 2, "Image")).Fit(data);
        var o = t.Transform(data);
        var resized = Column<ImageBuffer>(o, "Small").Single();
        Assert.AreEqual(2, resized.Width);
        Assert.AreEqual(2, resized.Height);
        Assert.AreEqual(1, resized.Channels);
        CollectionAssert.AreEqual(new byte[] { 0, 255, 0, 255 }, resized.Pixels.ToArray());
        var original = Column<ImageBuffer>(o, "Image").Single();
        Assert.AreEqual(4, original.Width, "the input image column is kept");
        var resizer = t.LastTransformer!;
        Assert.AreEqual(ResizingKind.IsoCrop, resizer.Resizing);
        Assert.AreEqual(Anchor.Center, resizer.CropAnchor);
    }

    [TestMethod]
    public void GrayscaleUsesBt601AndKeepsTheImageType()
    {
        Save(Solid(3, 2, 100, 150, 200), "c.bmp");
        var ml = new ConvNetContext();
        var data = Paths(ml, "c.bmp");
        var p = ml.Transforms.LoadImages("Image", _tmp, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 3, 2))
            .Append(ml.Transforms.ConvertToGrayscale("Gray", "Image"))
            .Append(ml.Transforms.ExtractPixels("Rgb", "Gray"))
            .Append(ml.Transforms.ExtractPixels("One", "Gray", ColorBits.Red));
        var o = p.Fit(data).Transform(data);
        Assert.AreEqual("Image<2, 3>", o.Schema["Gray"].Type.ToString());
        Assert.AreEqual("Vector<Single, 1, 2, 3>", o.Schema["One"].Type.ToString());
        // (299·100 + 587·150 + 114·200 + 500) / 1000 = 141 (integer division).
        Assert.AreEqual(1, Column<ImageBuffer>(o, "Gray").Single().Channels);
        AssertFloats(Enumerable.Repeat(141f, 6).ToArray(), Column<float[]>(o, "One").Single(), 0, "gray");
        AssertFloats(Enumerable.Repeat(141f, 18).ToArray(), Column<float[]>(o, "Rgb").Single(), 0, "gray as RGB");
    }

    [TestMethod]
    public void NormalizeMeanStdPerChannel()
    {
        Save(Solid(2, 2, 51, 102, 204), "n.bmp");
        var ml = new ConvNetContext();
        var data = Paths(ml, "n.bmp");
        float[] mean = [0.1f, 0.2f, 0.3f], std = [0.5f, 0.25f, 2f];
        var p = ml.Transforms.LoadImages("Image", _tmp, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 2, 2))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", scaleImage: 1f / 255))
            .Append(ml.Transforms.NormalizeMeanStd("Norm", "Pixels", mean, std));
        var o = p.Fit(data).Transform(data);
        Assert.AreEqual("Vector<Single, 3, 2, 2>", o.Schema["Norm"].Type.ToString());
        float r = ((51f / 255) - 0.1f) / 0.5f, g = ((102f / 255) - 0.2f) / 0.25f, b = ((204f / 255) - 0.3f) / 2f;
        AssertFloats([r, r, r, r, g, g, g, g, b, b, b, b], Column<float[]>(o, "Norm").Single(), 1e-6f, "normalised");
        AssertFloats(Enumerable.Repeat(51f / 255, 4).ToArray(), Column<float[]>(o, "Pixels").Single().Take(4).ToArray(), 1e-6f, "input untouched");
        var n = p.LastEstimator!.Fit(p.Fit(data).Transform(data));
        CollectionAssert.AreEqual(mean, n.Mean.ToArray());
        CollectionAssert.AreEqual(std, n.Std.ToArray());

        var wrong = ml.Transforms.LoadImages("Image", _tmp, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 2, 2))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", interleavePixelColors: true))
            .Append(ml.Transforms.NormalizeMeanStd("Norm", "Pixels", mean, std));
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => wrong.GetOutputSchema(data.Schema));
        StringAssert.Contains(e.Message, "'Pixels'");
        StringAssert.Contains(e.Message, "Vector<Single, 2, 2, 3>");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NormalizeMeanStd("N", "P", [0f], [0f]));
        Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.NormalizeMeanStd("N", "P", [0f, 0f], [1f]));
    }

    [TestMethod]
    public void RawBytesEqualTheFile()
    {
        string a = Save(Gradient(), "r/a.bmp");
        File.WriteAllBytes(Path.Combine(_tmp, "r", "junk.png"), [1, 2, 3]);
        var ml = new ConvNetContext();
        var data = Paths(ml, "r/a.bmp", Path.Combine(_tmp, "r", "junk.png"));
        var t = ml.Transforms.LoadRawImageBytes("Bytes", _tmp, "ImagePath").Fit(data);
        Assert.AreEqual("Vector<Byte>", t.GetOutputSchema(data.Schema)["Bytes"].Type.ToString());
        var bytes = Column<byte[]>(t.Transform(data), "Bytes");
        CollectionAssert.AreEqual(File.ReadAllBytes(a), bytes[0]);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, bytes[1], "absolute path, bytes not decoded");

        var missing = t.Transform(Paths(ml, "r/none.bmp"));
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => Column<byte[]>(missing, "Bytes"));
        StringAssert.Contains(e.Message, Path.Combine(_tmp, "r", "none.bmp"));
    }

    private (IDataView Data, string[] Bad) FolderWithBadFiles(ConvNetContext ml)
    {
        Save(Solid(2, 2, 1, 2, 3), "a/good1.bmp");
        Save(Solid(2, 2, 4, 5, 6), "b/good2.bmp");
        byte[] full = ImageCodec.Encode(Solid(8, 8, 7, 8, 9), ImageFormat.Bmp);
        string truncated = Path.Combine(_tmp, "a", "truncated.bmp");
        File.WriteAllBytes(truncated, full[..(full.Length / 2)]);
        string notImage = Path.Combine(_tmp, "b", "text.png");
        File.WriteAllText(notImage, "this is not a PNG file");
        return (ml.Data.LoadFromImageFolder(_tmp), [truncated, notImage]);
    }

    [TestMethod]
    public void CorruptFileThrowsNamingIt()
    {
        var ml = new ConvNetContext();
        var (data, bad) = FolderWithBadFiles(ml);
        var t = ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Fit(data);
        var view = t.Transform(data);
        Assert.AreEqual(4L, view.GetRowCount());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Column<ImageBuffer>(view, "Image"));
        StringAssert.Contains(e.Message, bad[0], "the first bad file in path order is a/truncated.bmp");

        var single = t.Transform(Paths(ml, "b/text.png"));
        e = Assert.ThrowsExactly<InvalidDataException>(() => Column<ImageBuffer>(single, "Image"));
        StringAssert.Contains(e.Message, bad[1]);

        var missing = t.Transform(Paths(ml, "b/missing.jpg"));
        var f = Assert.ThrowsExactly<FileNotFoundException>(() => Column<ImageBuffer>(missing, "Image"));
        StringAssert.Contains(f.Message, Path.Combine(_tmp, "b", "missing.jpg"));
        Assert.AreEqual(Path.Combine(_tmp, "b", "missing.jpg"), f.FileName);

        // Columns other than the image do not touch the files.
        CollectionAssert.AreEqual(new[] { "a", "a", "b", "b" }, Column<string>(view, "Label"));
    }

    [TestMethod]
    public void SkipBadImagesDropsRowsCountsAndReports()
    {
        var ml = new ConvNetContext();
        var (data, bad) = FolderWithBadFiles(ml);
        var messages = new List<string>();
        var estimator = ml.Transforms.LoadImages("Image", _tmp, "ImagePath", skipBadImages: true, onSkipped: messages.Add);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(estimator)
            .Append(ml.Transforms.ResizeImages("Image", 2, 2))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"));
        var model = pipeline.Fit(data);
        var output = model.Transform(data);
        var pixels = Column<float[]>(output, "Pixels");
        Assert.HasCount(2, pixels, "two good images of four");
        AssertFloats([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], pixels[0], 0, "good1");
        AssertFloats([4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6], pixels[1], 0, "good2");
        var loader = model.OfType<ImageLoadingTransformer>().Single();
        Assert.AreSame(estimator.LoadingTransformer, loader);
        Assert.AreEqual(bad.Length, loader.SkippedCount);
        CollectionAssert.AreEqual(bad.Order(StringComparer.Ordinal).ToArray(), loader.SkippedFiles.Select(p => p.Key).ToArray());
        Assert.HasCount(2, messages);
        StringAssert.Contains(messages[0], bad[0]);
        StringAssert.Contains(messages[1], bad[1]);
        Assert.IsNull(output.GetRowCount(), "the count is unknown until read");
        Assert.IsFalse(loader.IsRowToRowMapper);

        // Reading again (another cursor) reports again but counts each file once; labels stay aligned with images.
        CollectionAssert.AreEqual(new uint[] { 1, 2 }, Column<uint>(output, "Label"));
        Assert.AreEqual(2, loader.SkippedCount);
        Assert.HasCount(4, messages);

        // A missing file is skipped as well.
        var withMissing = loader.Transform(Paths(ml, "a/good1.bmp", "nowhere/x.png"));
        Assert.HasCount(1, Column<ImageBuffer>(withMissing, "Image"));
        Assert.AreEqual(3, loader.SkippedCount);
        StringAssert.Contains(messages[^1], Path.Combine(_tmp, "nowhere", "x.png"));
    }

    [TestMethod]
    public void SchemaErrorsComeBeforeAnyWork()
    {
        var ml = new ConvNetContext();
        // The files do not exist: a schema error must be raised without reading them.
        var data = Paths(ml, "missing/1.png", "missing/2.png");

        var resizeText = ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Append(ml.Transforms.ResizeImages("Small", 8, 8, "ImagePath"));
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => resizeText.Fit(data));
        Assert.AreEqual("ImagePath", e.ColumnName);
        StringAssert.Contains(e.Message, "'ImagePath'");
        StringAssert.Contains(e.Message, "expected Image");
        StringAssert.Contains(e.Message, "got String");

        var unsized = ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Append(ml.Transforms.ExtractPixels("Pixels", "Image"));
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => unsized.Fit(data));
        Assert.AreEqual("Image", e.ColumnName);
        StringAssert.Contains(e.Message, "known size");
        StringAssert.Contains(e.Message, "ResizeImages");

        e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.Transforms.ConvertToGrayscale("G", "Nope").GetOutputSchema(data.Schema));
        StringAssert.Contains(e.Message, "'Nope'");

        var numbers = ml.Data.LoadFromEnumerable([new NumberRow { ImagePath = 1 }]);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Fit(numbers));
        StringAssert.Contains(e.Message, "got Single");
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.Transforms.LoadRawImageBytes("B", _tmp, "ImagePath").Fit(numbers));
        StringAssert.Contains(e.Message, "got Single");

        // A valid pipeline on missing files fits and transforms lazily; reading the image is what fails.
        var lazy = ml.Transforms.LoadImages("Image", _tmp, "ImagePath").Append(ml.Transforms.ResizeImages("Image", 4, 4));
        var view = lazy.Fit(data).Transform(data);
        Assert.AreEqual("Image<4, 4>", view.Schema["Image"].Type.ToString());
        Assert.ThrowsExactly<FileNotFoundException>(() => Column<ImageBuffer>(view, "Image"));
    }

    [TestMethod]
    public void TransformsExposeTheirSettings()
    {
        var load = new ImageLoadingTransformer("Image", "imgs", "Path", skipBadImages: true);
        Assert.AreEqual("imgs", load.ImageFolder);
        Assert.AreEqual("Path", load.InputColumnName);
        Assert.IsTrue(load.SkipBadImages);
        var px = new ImagePixelExtractingTransformer("P", "I", ColorBits.All, ColorsOrder.ABGR, true, 1, 2, true);
        Assert.AreEqual(ColorBits.All, px.ColorsToExtract);
        Assert.AreEqual(ColorsOrder.ABGR, px.OrderOfExtraction);
        Assert.IsTrue(px.InterleavePixelColors);
        Assert.AreEqual(1f, px.OffsetImage);
        Assert.AreEqual(2f, px.ScaleImage);
        Assert.AreEqual(4, px.ChannelCount);
        var gray = new ImageGrayscalingTransformer("G");
        Assert.AreEqual("G", gray.InputColumnName);
        var raw = new RawImageBytesLoadingTransformer("B", null, "Path");
        Assert.AreEqual(string.Empty, raw.ImageFolder);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageResizingTransformer("I", 0, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImagePixelExtractingTransformer("P", colorsToExtract: ColorBits.None));
    }

    [TestMethod]
    public void MixedPngJpegBmpFolderThroughThePipeline()
    {
        if (!NativeCodecs.IsAvailable(out string reason))
        {
            Assert.Inconclusive(reason);
        }
        Save(Solid(6, 4, 200, 100, 50), "warm/a.png");
        Save(Solid(5, 5, 20, 120, 220), "cool/b.jpg");
        Save(Gradient(), "mixed/c.bmp");
        var rgba = new ImageBuffer(3, 3, 4);
        for (int i = 0; i < 9; i++)
        {
            rgba.Pixels[4 * i] = 90;
            rgba.Pixels[(4 * i) + 1] = 80;
            rgba.Pixels[(4 * i) + 2] = 70;
            rgba.Pixels[(4 * i) + 3] = 128;
        }
        Save(rgba, "mixed/d.png");
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromImageFolder(_tmp);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", _tmp, "ImagePath"))
            .Append(ml.Transforms.ResizeImages("Image", 3, 2))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", ColorBits.All, scaleImage: 1f / 255));
        var output = pipeline.Fit(data).Transform(data);
        Assert.AreEqual("Vector<Single, 4, 2, 3>", output.Schema["Pixels"].Type.ToString());
        var paths = Column<string>(output, "ImagePath");
        CollectionAssert.AreEqual(new[] { "cool/b.jpg", "mixed/c.bmp", "mixed/d.png", "warm/a.png" }, paths);
        var pixels = Column<float[]>(output, "Pixels");
        static float[] Planes(params float[] perChannel) => perChannel.SelectMany(v => Enumerable.Repeat(v / 255, 6)).ToArray();
        AssertFloats(Planes(255, 20, 120, 220), pixels[0], 3f / 255, "JPEG solid colour (lossy)");
        AssertFloats(Planes(128, 90, 80, 70), pixels[2], 1e-6f, "PNG with alpha");
        AssertFloats(Planes(255, 200, 100, 50), pixels[3], 1e-6f, "PNG solid colour");
        Assert.AreEqual(4, Column<uint>(output, "Label").Count);
    }
}
