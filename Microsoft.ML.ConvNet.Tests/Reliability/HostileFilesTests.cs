using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.ConvNet.Tests.Reliability;

/// <summary>
/// Every reader refuses what is not a regular file without blocking, checks sizes before allocating, verifies the
/// checksums its format carries, and reports every problem as an <see cref="InvalidFileException"/> naming the file.
/// </summary>
[TestClass]
public sealed partial class HostileFilesTests
{
    private string _dir = null!;

    [TestInitialize]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("convnet-hostile-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every reader of the library, by the name of the file it reads.</summary>
    private static readonly (string Name, Action<string> Read)[] Readers =
    [
        ("image", p => ImageFile.Check(p)),
        ("idx", p => IdxReader.Read(p)),
        ("safetensors", p => Safetensors.Read(p)),
        ("state dict", p => StateDictFile.Read(p)),
        ("onnx", p => OnnxModel.Load(p)),
        ("model zip", p => ModelFile.Verify(p)),
    ];

    [TestMethod]
    public void FoldersDevicesAndPipesAreRefusedWithoutBlocking()
    {
        var targets = new List<(string Path, string Kind)> { (_dir, "folder") };
        if (OperatingSystem.IsLinux())
        {
            string zero = Path.Combine(_dir, "zero.jpg");
            File.CreateSymbolicLink(zero, "/dev/zero");
            targets.Add((zero, "character device"));
            string fifo = Path.Combine(_dir, "pipe.png");
            Assert.AreEqual(0, MakeFifo(fifo, Convert.ToUInt32("644", 8)), "mkfifo");
            targets.Add((fifo, "named pipe"));
        }
        foreach (var (path, kind) in targets)
        {
            foreach (var (name, read) in Readers)
            {
                var clock = Stopwatch.StartNew();
                var task = Task.Run(() => read(path));
                Assert.IsTrue(((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)), $"{name} reader blocked on a {kind}");
                var e = task.Exception?.InnerException;
                Assert.IsInstanceOfType<InvalidFileException>(e, $"{name} reader on a {kind}: {e}");
                Assert.AreEqual(path, ((InvalidFileException)e).FilePath);
                StringAssert.Contains(e.Message, path);
                StringAssert.Contains(e.Message, kind);
                Assert.IsLessThan(5, clock.Elapsed.TotalSeconds);
            }
        }
    }

    [TestMethod]
    public void AMissingFileIsStillFileNotFound()
    {
        string missing = Path.Combine(_dir, "nothing.bin");
        foreach (var (name, read) in Readers)
        {
            var e = Assert.ThrowsExactly<FileNotFoundException>(() => read(missing), name);
            StringAssert.Contains(e.Message, missing);
        }
    }

    [TestMethod]
    public void IdxDimensionsThatOverflowOrExceedTheDataAreRefusedBeforeAllocating()
    {
        // Rank 8, every dimension int.MaxValue: the product overflows a long.
        var header = new byte[4 + 8 * 4];
        header[2] = 0x08;
        header[3] = 8;
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), int.MaxValue);
        }
        string path = Path.Combine(_dir, "huge.idx");
        File.WriteAllBytes(path, header);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(path));
        StringAssert.Contains(e.Message, "limit");

        // A small gzip file that claims a billion bytes: truncated, found without allocating them.
        string gz = Path.Combine(_dir, "claims.idx.gz");
        using (var fs = File.Create(gz))
        using (var z = new GZipStream(fs, CompressionLevel.Optimal))
        {
            var h = new byte[8];
            h[2] = 0x08;
            h[3] = 1;
            BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4), 1_000_000_000);
            z.Write(h);
            z.Write(new byte[100]);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        e = Assert.ThrowsExactly<InvalidFileException>(() => IdxReader.Read(gz));
        StringAssert.Contains(e.Message, "truncated");
        Assert.IsLessThan(64L << 20, GC.GetAllocatedBytesForCurrentThread() - before, "memory grows only with the data that is there");
    }

    [TestMethod]
    public void SafetensorsRecordTheSha256OfTheirDataAndABitFlipIsCaught()
    {
        using var model = LeNet5.Create();
        string path = Path.Combine(_dir, "lenet.safetensors");
        model.SaveSafetensors(path);
        Assert.AreEqual(64, Safetensors.ReadMetadata(path)[Safetensors.Sha256Key].Length);
        var bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => LeNet5.Create().LoadSafetensors(path));
        StringAssert.Contains(e.Message, "SHA-256");
        StringAssert.Contains(e.Message, path);
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(new MemoryStream(bytes), "net.safetensors"));
        StringAssert.Contains(e.Message, "net.safetensors");
    }

    [TestMethod]
    public void StateDictionariesEndWithASha256AndOldFilesStillLoad()
    {
        using var model = LeNet5.Create();
        string path = Path.Combine(_dir, "lenet.bin");
        model.SaveStateDict(path);
        var bytes = File.ReadAllBytes(path);
        Assert.AreEqual(2, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)), "format version 2");

        var flipped = (byte[])bytes.Clone();
        flipped[flipped.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, flipped);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => LeNet5.Create().LoadStateDict(path));
        StringAssert.Contains(e.Message, "SHA-256");

        // Version 1: the same layout without the digest.
        var v1 = bytes[..^32];
        BinaryPrimitives.WriteInt32LittleEndian(v1.AsSpan(4), 1);
        File.WriteAllBytes(path, v1);
        using var loaded = LeNet5.Create();
        loaded.LoadStateDict(path);
        CollectionAssert.AreEqual(model.StateDict()["0.weight"].ToArray(), loaded.StateDict()["0.weight"].ToArray());

        // A tensor that claims 2^31 × 2^31 values is refused before anything is allocated.
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(0x4453_4E43);
        w.Write(2);
        w.Write(1);
        w.Write(1);
        w.Write((byte)'w');
        w.Write(2);
        w.Write(int.MaxValue);
        w.Write(int.MaxValue);
        e = Assert.ThrowsExactly<InvalidFileException>(() => StateDictFile.Read(new MemoryStream(ms.ToArray()), "big.bin"));
        StringAssert.Contains(e.Message, "big.bin");
        StringAssert.Contains(e.Message, "more values than one tensor can hold");
    }

    [TestMethod]
    public void ATruncatedPngIsReportedThoughSkiaSharpWouldDecodeItHalfGrey()
    {
        string path = Path.Combine(_dir, "cut.png");
        var png = Png(64, 64, seed: 3);
        File.WriteAllBytes(path, png[..(png.Length * 2 / 3)]);
        using (var image = MLImage.CreateFromFile(path))
        {
            Assert.AreEqual(64, image.Width, "ML.NET's decoder accepts the truncated file");
        }
        var e = Assert.ThrowsExactly<InvalidFileException>(() => ImageFile.Check(path));
        StringAssert.Contains(e.Message, "truncated");
        StringAssert.Contains(e.Message, path);

        File.WriteAllBytes(path, png);
        Assert.AreEqual(new ImageFileInfo(64, 64, "Png"), ImageFile.Check(path));
    }

    [TestMethod]
    public void AnImageThatDeclaresTooManyPixelsIsRefusedBeforeDecoding()
    {
        // A BMP header claiming 2147483647 × 2147483647 pixels.
        var bmp = new byte[54 + 16];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 30000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 30000);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        string path = Path.Combine(_dir, "huge.bmp");
        File.WriteAllBytes(path, bmp);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => ImageFile.Check(path));
        StringAssert.Contains(e.Message, "30000×30000");
    }

    [TestMethod]
    public void ModelZipCrcIsVerifiedBeforeMLNetLoadsTheModel()
    {
        string path = Path.Combine(_dir, "model.zip");
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 8).Select(i => new Row { X = i, Y = 2 * i }));
        var model = ml.Transforms.CopyColumns("Z", "X").Fit(data);
        ml.Model.Save(model, data.Schema, path);
        ModelFile.Verify(path);
        Assert.IsNotNull(ModelFile.Load(ml, path, out _));

        // Flip a bit inside a stored entry's data: the zip's structure stays valid, its CRC-32 does not match.
        var bytes = File.ReadAllBytes(path);
        var (offset, entryName) = FirstStoredData(bytes);
        bytes[offset] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => ModelFile.Load(ml, path, out _));
        StringAssert.Contains(e.Message, "CRC-32");
        StringAssert.Contains(e.Message, entryName);
        StringAssert.Contains(e.Message, path);
    }

    public sealed class Row
    {
        public float X { get; set; }

        public float Y { get; set; }
    }

    /// <summary>The offset of the first data byte of the first non-empty entry of a zip, and its name.</summary>
    internal static (int Offset, string Name) FirstStoredData(byte[] zip)
    {
        for (int at = 0; at + 30 <= zip.Length;)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at)) != 0x04034B50)
            {
                break;
            }
            int compressed = BinaryPrimitives.ReadInt32LittleEndian(zip.AsSpan(at + 18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 26));
            int extra = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            string name = System.Text.Encoding.UTF8.GetString(zip, at + 30, nameLength);
            int data = at + 30 + nameLength + extra;
            if (compressed > 0)
            {
                return (data + compressed / 2, name);
            }
            at = data + compressed;
        }
        throw new InvalidOperationException("no entry with data");
    }

    /// <summary>A PNG of noise, written by SkiaSharp.</summary>
    internal static byte[] Png(int width, int height, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        random.NextBytes(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);
}
