using System.Collections;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Pipelines;

[TestClass]
public sealed class ModelFileTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ModelManifest SampleManifest() => new()
    {
        CreatedUtc = new DateTime(2024, 5, 17, 8, 30, 15, DateTimeKind.Utc),
        Pipeline =
        [
            new PipelineStep { Kind = "ResizeImages", Settings = new JsonObject { ["Width"] = 32, ["Height"] = 28 } },
            new PipelineStep { Kind = "ExtractPixels", Settings = new JsonObject { ["Scale"] = 1.0 / 255, ["Channels"] = new JsonArray("R", "G", "B") } },
        ],
        ClassNames = ["cat", "dog", "bird"],
        InputShape = [3, 28, 32],
        Preprocessing = new JsonObject { ["Mean"] = new JsonArray(0.485, 0.456, 0.406) },
        Architecture = new ModelArchitecture { Name = "resnet18", Options = new JsonObject { ["NumClasses"] = 3, ["SmallInput"] = true } },
        Metadata = new Dictionary<string, string> { ["Author"] = "test", ["Accuracy"] = "0.93" },
    };

    // Values whose bits must survive: NaN with a payload, −0, subnormal, extremes, infinities.
    private static readonly float[] OddValues =
    [
        BitConverter.Int32BitsToSingle(0x7FC0_1234), -0f, float.Epsilon, float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity, 1f / 3,
    ];

    private static Dictionary<string, TensorData> SampleTensors() => new()
    {
        ["conv1.weight"] = new TensorData(new Shape(2, 1, 2, 2), OddValues),
        ["fc.bias"] = new TensorData(new Shape(3), [0.1f, -2.5f, 1e-30f]),
        ["bn.num_batches_tracked"] = new TensorData(new Shape(), [7f]),
    };

    private static byte[] WriteToBytes(ModelManifest manifest, IReadOnlyDictionary<string, TensorData> tensors)
    {
        using var ms = new MemoryStream();
        ModelFile.Write(ms, manifest, tensors);
        return ms.ToArray();
    }

    private string TempDir()
    {
        string dir = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), "modelfile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void AssertBitExact(IReadOnlyDictionary<string, TensorData> expected, IReadOnlyDictionary<string, TensorData> actual)
    {
        CollectionAssert.AreEqual(expected.Keys.ToArray(), actual.Keys.ToArray(), "names and order");
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.AreEqual(e.Shape, a.Shape, name);
            CollectionAssert.AreEqual(
                e.Values.Select(BitConverter.SingleToInt32Bits).ToArray(),
                a.Values.Select(BitConverter.SingleToInt32Bits).ToArray(), name);
        }
    }

    [TestMethod]
    public void RoundTripKeepsManifestAndTensorBits()
    {
        var tensors = SampleTensors();
        var bytes = WriteToBytes(SampleManifest(), tensors);
        var read = ModelFile.Read(new MemoryStream(bytes));

        var m = read.Manifest;
        Assert.AreEqual(ModelFile.CurrentFormatVersion, m.FormatVersion);
        Assert.AreEqual(ModelFile.LibraryVersion, m.LibraryVersion);
        Assert.AreEqual(new DateTime(2024, 5, 17, 8, 30, 15, DateTimeKind.Utc), m.CreatedUtc);
        Assert.AreEqual(DateTimeKind.Utc, m.CreatedUtc.Kind);
        Assert.HasCount(2, m.Pipeline);
        Assert.AreEqual("ResizeImages", m.Pipeline[0].Kind);
        Assert.AreEqual(32, (int)m.Pipeline[0].Settings["Width"]!);
        Assert.AreEqual(28, (int)m.Pipeline[0].Settings["Height"]!);
        Assert.AreEqual("ExtractPixels", m.Pipeline[1].Kind);
        Assert.AreEqual(1.0 / 255, (double)m.Pipeline[1].Settings["Scale"]!);
        Assert.AreEqual("G", (string)m.Pipeline[1].Settings["Channels"]![1]!);
        CollectionAssert.AreEqual(new[] { "cat", "dog", "bird" }, m.ClassNames.ToArray());
        CollectionAssert.AreEqual(new[] { 3, 28, 32 }, m.InputShape!.ToArray());
        Assert.AreEqual(0.456, (double)m.Preprocessing["Mean"]![1]!);
        Assert.AreEqual("resnet18", m.Architecture!.Name);
        Assert.AreEqual(3, (int)m.Architecture.Options["NumClasses"]!);
        Assert.IsTrue((bool)m.Architecture.Options["SmallInput"]!);
        Assert.AreEqual("0.93", m.Metadata["Accuracy"]);
        Assert.AreEqual("test", m.Metadata["Author"]);

        AssertBitExact(tensors, read.Tensors);
    }

    [TestMethod]
    public void ZipHoldsTheDocumentedEntries()
    {
        var bytes = WriteToBytes(SampleManifest(), SampleTensors());
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        CollectionAssert.AreEquivalent(new[] { "manifest.json", "tensors.bin" }, zip.Entries.Select(e => e.FullName).ToArray());
        using var reader = new StreamReader(zip.GetEntry("manifest.json")!.Open());
        var json = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
        Assert.AreEqual(1, (int)json["FormatVersion"]!);
        Assert.AreEqual("resnet18", (string)json["Architecture"]!["Name"]!);
        // tensors.bin is the state-dictionary format.
        using var t = zip.GetEntry("tensors.bin")!.Open();
        var (values, shapes) = StateDictFile.Read(new MemoryStream(ReadAll(t)), "tensors.bin");
        Assert.AreEqual(new Shape(3), shapes["fc.bias"]);
        Assert.AreEqual(-2.5f, values["fc.bias"][1]);
    }

    [TestMethod]
    public void TensorsAndModulesRoundTripThroughAFile()
    {
        string dir = TempDir();
        string path = Path.Combine(dir, "model.zip");
        using var source = new Linear(4, 3, random: new Random(3));
        ModelFile.WriteAtomic(path, SampleManifest(), source.StateDict());
        using var target = new Linear(4, 3, random: new Random(99));
        var read = ModelFile.Read(path);
        read.LoadInto(target);
        foreach (var (name, t) in source.StateDict())
        {
            CollectionAssert.AreEqual(t.ToArray(), target.StateDict()[name].ToArray(), name);
        }
        Assert.IsEmpty(Directory.GetFiles(dir, "*.tmp"));
    }

    [TestMethod]
    public void WriteAlwaysStampsTheCurrentFormatVersion()
    {
        var manifest = SampleManifest();
        manifest.FormatVersion = 9;
        var read = ModelFile.Read(new MemoryStream(WriteToBytes(manifest, SampleTensors())));
        Assert.AreEqual(ModelFile.CurrentFormatVersion, read.Manifest.FormatVersion);
        Assert.AreEqual(9, manifest.FormatVersion, "the caller's manifest is not changed");
    }

    [TestMethod]
    public void NewerFormatVersionIsRefused()
    {
        var bytes = RewriteManifest(WriteToBytes(SampleManifest(), SampleTensors()), json =>
        {
            var obj = JsonNode.Parse(json)!.AsObject();
            obj["FormatVersion"] = 2;
            return obj.ToJsonString();
        });
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes), "future.zip"));
        StringAssert.Contains(e.Message, "future.zip");
        StringAssert.Contains(e.Message, "written by a newer version: format 2, this library reads up to 1");
    }

    [TestMethod]
    public void TruncatedFileIsRefused()
    {
        string dir = TempDir();
        string path = Path.Combine(dir, "cut.zip");
        ModelFile.WriteAtomic(path, SampleManifest(), SampleTensors());
        var bytes = File.ReadAllBytes(path);
        foreach (int keep in new[] { bytes.Length - 10, bytes.Length / 2, 10, 0 })
        {
            File.WriteAllBytes(path, bytes.AsSpan(0, keep).ToArray());
            var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Read(path), $"kept {keep} of {bytes.Length} bytes");
            StringAssert.Contains(e.Message, path);
        }
    }

    [TestMethod]
    public void MissingTensorEntryIsRefused()
    {
        var bytes = RewriteZip(WriteToBytes(SampleManifest(), SampleTensors()), keep: name => name != "tensors.bin");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes), "no-tensors.zip"));
        StringAssert.Contains(e.Message, "no-tensors.zip has no tensors.bin entry");
    }

    [TestMethod]
    public void MissingManifestIsRefused()
    {
        var bytes = RewriteZip(WriteToBytes(SampleManifest(), SampleTensors()), keep: name => name != "manifest.json");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes), "bare.zip"));
        StringAssert.Contains(e.Message, "bare.zip has no manifest.json entry");
    }

    [TestMethod]
    public void MalformedManifestIsRefused()
    {
        var original = WriteToBytes(SampleManifest(), SampleTensors());
        var e = Assert.ThrowsExactly<InvalidDataException>(
            () => ModelFile.Read(new MemoryStream(RewriteManifest(original, _ => "{ \"FormatVersion\": 1, ")), "broken.zip"));
        StringAssert.Contains(e.Message, "broken.zip: manifest.json is not valid JSON");

        e = Assert.ThrowsExactly<InvalidDataException>(
            () => ModelFile.Read(new MemoryStream(RewriteManifest(original, _ => "{ \"ClassNames\": [] }")), "old.zip"));
        StringAssert.Contains(e.Message, "old.zip: manifest.json has no FormatVersion");

        e = Assert.ThrowsExactly<InvalidDataException>(
            () => ModelFile.Read(new MemoryStream(RewriteManifest(original, _ => "{ \"FormatVersion\": 1, \"ClassNames\": 5 }")), "typed.zip"));
        StringAssert.Contains(e.Message, "typed.zip: manifest.json does not fit the manifest layout");

        e = Assert.ThrowsExactly<InvalidDataException>(
            () => ModelFile.Read(new MemoryStream(RewriteManifest(original, _ => "{ \"FormatVersion\": \"one\" }")), "text.zip"));
        StringAssert.Contains(e.Message, "FormatVersion that is not an integer");
    }

    [TestMethod]
    public void DamagedTensorEntryIsRefused()
    {
        var bytes = RewriteZip(WriteToBytes(SampleManifest(), SampleTensors()), keep: _ => true,
            replace: (name, data) => name == "tensors.bin" ? data.AsSpan(0, data.Length - 7).ToArray() : data);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes), "short.zip"));
        StringAssert.Contains(e.Message, "short.zip (tensors.bin) is truncated");
    }

    [TestMethod]
    public void ReadsFromANonSeekableStream()
    {
        var tensors = SampleTensors();
        var bytes = WriteToBytes(SampleManifest(), tensors);
        var read = ModelFile.Read(new ForwardOnlyStream(bytes));
        AssertBitExact(tensors, read.Tensors);
    }

    [TestMethod]
    public void FailedAtomicWriteKeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        string dir = TempDir();
        string path = Path.Combine(dir, "model.zip");
        ModelFile.WriteAtomic(path, SampleManifest(), SampleTensors());
        var before = File.ReadAllBytes(path);

        using var a = Tensor.FromArray([1f, 2f], 2);
        using var b = Tensor.FromArray([3f], 1);
        var failing = new ThrowingTensors(new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, throwAfter: 1);
        var e = Assert.ThrowsExactly<IOException>(() => ModelFile.WriteAtomic(path, SampleManifest(), failing));
        Assert.AreEqual("tensor source failed", e.Message);
        Assert.AreEqual(1, failing.Yielded, "the writer failed midway, after one tensor");

        CollectionAssert.AreEqual(before, File.ReadAllBytes(path), "the old file is intact");
        Assert.AreEqual("resnet18", ModelFile.Read(path).Manifest.Architecture!.Name);
        CollectionAssert.AreEqual(new[] { "model.zip" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no *.tmp left behind");

        // A failed first write leaves no file at all.
        string fresh = Path.Combine(dir, "fresh.zip");
        Assert.ThrowsExactly<IOException>(() => ModelFile.WriteAtomic(fresh, SampleManifest(), new ThrowingTensors(new Dictionary<string, Tensor> { ["a"] = a }, throwAfter: 0)));
        Assert.IsFalse(File.Exists(fresh));
        Assert.IsEmpty(Directory.GetFiles(dir, "*.tmp"));
    }

    private static byte[] ReadAll(Stream s)
    {
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] RewriteManifest(byte[] zipBytes, Func<string, string> edit)
        => RewriteZip(zipBytes, _ => true, (name, data) => name == "manifest.json" ? Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(data))) : data);

    private static byte[] RewriteZip(byte[] zipBytes, Func<string, bool> keep, Func<string, byte[], byte[]>? replace = null)
    {
        using var input = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries.Where(e => keep(e.FullName)))
            {
                byte[] data;
                using (var s = entry.Open())
                {
                    data = ReadAll(s);
                }
                data = replace?.Invoke(entry.FullName, data) ?? data;
                using var o = zip.CreateEntry(entry.FullName).Open();
                o.Write(data);
            }
        }
        return output.ToArray();
    }

    /// <summary>A tensor dictionary whose enumeration throws after <c>throwAfter</c> items, like a source failing midway.</summary>
    private sealed class ThrowingTensors(Dictionary<string, Tensor> inner, int throwAfter) : IReadOnlyDictionary<string, Tensor>
    {
        public int Yielded { get; private set; }

        public Tensor this[string key] => inner[key];

        public IEnumerable<string> Keys => inner.Keys;

        public IEnumerable<Tensor> Values => inner.Values;

        public int Count => inner.Count;

        public bool ContainsKey(string key) => inner.ContainsKey(key);

        public bool TryGetValue(string key, out Tensor value) => inner.TryGetValue(key, out value!);

        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
        {
            foreach (var pair in inner)
            {
                if (Yielded == throwAfter)
                {
                    throw new IOException("tensor source failed");
                }
                Yielded++;
                yield return pair;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A stream that can only be read forward, returning at most 1000 bytes per read.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 1000), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
