using System.IO.Compression;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Data;

namespace Microsoft.ML.ConvNet.Tests.Data;

[TestClass]
public sealed class IdxReaderTests
{
    private string _dir = null!;

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "convnet-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private static byte[] Pattern(int n)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)(i * 37 + 11);
        }
        return b;
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void RoundTripRawAndGzip(bool gzip)
    {
        string path = Path.Combine(_dir, gzip ? "images.gz" : "images");
        var data = Pattern(5 * 3 * 4);
        IdxWriter.Write(path, [5, 3, 4], data, gzip);

        var bytes = File.ReadAllBytes(path);
        Assert.AreEqual(gzip, bytes[0] == 0x1F && bytes[1] == 0x8B, "gzip signature");
        var a = IdxReader.Read(path);
        CollectionAssert.AreEqual(new[] { 5, 3, 4 }, a.Dimensions.ToArray());
        CollectionAssert.AreEqual(data, a.Data);
        Assert.AreEqual(5, a.Count);
        Assert.AreEqual(12, a.ItemSize);
        Assert.AreEqual(path, a.Source);

        var (type, dims) = IdxReader.ReadHeader(path);
        Assert.AreEqual(IdxDataType.UnsignedByte, type);
        CollectionAssert.AreEqual(new[] { 5, 3, 4 }, dims);
    }

    [TestMethod]
    public void HeaderIsBigEndianAsSpecified()
    {
        string path = Path.Combine(_dir, "labels");
        IdxWriter.Write(path, [258], Pattern(258));
        var bytes = File.ReadAllBytes(path);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0x08, 1, 0, 0, 1, 2 }, bytes[..8]);
        Assert.AreEqual(8 + 258, bytes.Length);
    }

    [TestMethod]
    public void MaxItemsReadsAPrefix()
    {
        string path = Path.Combine(_dir, "images.gz");
        var data = Pattern(10 * 2 * 2);
        IdxWriter.Write(path, [10, 2, 2], data, gzip: true);
        var a = IdxReader.Read(path, maxItems: 3);
        CollectionAssert.AreEqual(new[] { 3, 2, 2 }, a.Dimensions.ToArray());
        CollectionAssert.AreEqual(data[..12], a.Data);
    }

    [TestMethod]
    public void ExpectedDimensionsAreChecked()
    {
        string path = Path.Combine(_dir, "images");
        IdxWriter.Write(path, [2, 3, 4], Pattern(24));
        Assert.AreEqual(2, IdxReader.Read(path, [-1, 3, 4]).Count);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path, [-1, 28, 28]));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "dimensions mismatch");
        StringAssert.Contains(e.Message, "[2, 3, 4]");
        StringAssert.Contains(e.Message, "[*, 28, 28]");
        e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path, [-1]));
        StringAssert.Contains(e.Message, "dimensions mismatch");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void BadMagicNamesTheFile(bool gzip)
    {
        string path = Path.Combine(_dir, "bad.idx");
        byte[] content = [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7];
        WriteBytes(path, content, gzip);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "bad magic number");
    }

    [TestMethod]
    public void UnsupportedTypeAndRankAreReported()
    {
        string path = Path.Combine(_dir, "floats.idx");
        WriteBytes(path, [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], gzip: false);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "Single");

        WriteBytes(path, [0, 0, 0x08, 0], gzip: false);
        e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, "rank 0");
    }

    [TestMethod]
    [DataRow(false, 2)]
    [DataRow(false, 10)]
    [DataRow(false, 30)]
    [DataRow(true, 2)]
    [DataRow(true, 10)]
    [DataRow(true, 30)]
    public void TruncatedFileNamesTheFile(bool gzip, int keep)
    {
        string path = Path.Combine(_dir, "trunc.idx");
        using (var ms = new MemoryStream())
        {
            IdxWriter.Write(ms, [4, 2, 5], Pattern(40));
            WriteBytes(path, ms.ToArray()[..keep], gzip);
        }
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void TruncatedGzipStreamNamesTheFile()
    {
        string path = Path.Combine(_dir, "cut.gz");
        IdxWriter.Write(path, [50, 20], Pattern(1000), gzip: true);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
    }

    [TestMethod]
    public void TrailingDataIsADimensionsMismatch()
    {
        string path = Path.Combine(_dir, "long.idx");
        using (var ms = new MemoryStream())
        {
            IdxWriter.Write(ms, [3], [1, 2, 3]);
            ms.WriteByte(4);
            File.WriteAllBytes(path, ms.ToArray());
        }
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "dimensions mismatch");
    }

    [TestMethod]
    public void MissingFileIsFileNotFound()
    {
        string path = Path.Combine(_dir, "nope.idx");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, path);
    }

    [TestMethod]
    public void WriterRejectsDataOfTheWrongSize()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => IdxWriter.Write(new MemoryStream(), [2, 3], new byte[5]));
        StringAssert.Contains(e.Message, "[2, 3]");
    }

    private static void WriteBytes(string path, byte[] content, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return;
        }
        using var fs = File.Create(path);
        using var z = new GZipStream(fs, CompressionLevel.Fastest);
        z.Write(content);
    }
}
