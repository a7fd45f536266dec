using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.IO;

/// <summary>
/// Safetensors files: bit-identical round trips of zoo models, files written by PyTorch
/// (build/reference/make_safetensors_fixture.py), strict and non-strict mismatch reports, every kind of malformed
/// file, F16/BF16/F64 conversion, and atomic saving.
/// </summary>
[TestClass]
public sealed class SafetensorsTests
{
    private string _dir = null!;

    [TestInitialize]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("convnet-safetensors-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static string FixturePath(string name) => Path.Combine(Fixtures.Folder, "safetensors", name);

    // ---- round trips ------------------------------------------------------------------------------

    [TestMethod]
    public void ResNet18RoundTripIsBitIdenticalUnderTorchvisionNames()
    {
        string path = Path.Combine(_dir, "resnet18.safetensors");
        using var source = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10));
        var random = new Random(5);
        foreach (var (name, t) in source.NamedBuffers())
        {
            var v = new float[t.Size];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? 123 : 0.5f + (float)random.NextDouble();
            }
            t.CopyFrom(v);
        }
        source.StateDict()["fc.bias"].CopyFrom([-0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, 1e-40f, 1, 2, 3, 4, 5]);
        source.SaveSafetensors(path);

        using var target = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10));
        var result = target.LoadSafetensors(path);

        Assert.IsTrue(result.IsExactMatch, result.ToString());
        Assert.AreEqual(source.StateDict().Count, result.LoadedKeys.Count);
        foreach (var (name, t) in source.StateDict())
        {
            var expected = t.ToArray();
            var actual = target.StateDict()[name].ToArray();
            Assert.IsTrue(MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan())), $"{name} differs after the round trip");
        }

        var file = Safetensors.Read(path);
        Assert.AreEqual(new Shape(10, 512), file["fc.weight"].Shape);
        Assert.AreEqual(new Shape(64, 64, 3, 3), file["layer1.0.conv1.weight"].Shape);
        Assert.AreEqual(Safetensors.F32, file["bn1.running_mean"].DType);
        Assert.AreEqual(Safetensors.I64, file["bn1.num_batches_tracked"].DType, "counters are written as PyTorch keeps them");
        Assert.AreEqual(new Shape(), file["bn1.num_batches_tracked"].Shape);
        Assert.AreEqual(123f, file["layer4.1.bn2.num_batches_tracked"].Values[0]);
    }

    [TestMethod]
    public void StreamOverloadsRoundTripAndTheLayoutFollowsTheFormat()
    {
        using var source = LeNet5.Create();
        using var ms = new MemoryStream();
        source.SaveSafetensors(ms);
        byte[] bytes = ms.ToArray();

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0UL, n % 8, "the header is padded to a multiple of 8 bytes");
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        long coveredTo = 0;
        foreach (var p in header.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                Assert.AreEqual(64, p.Value.GetProperty(Safetensors.Sha256Key).GetString()!.Length, "the data's SHA-256 is recorded");
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.AreEqual(coveredTo, offsets[0], p.Name);
            coveredTo = offsets[1];
        }
        Assert.AreEqual(bytes.Length - 8 - (long)n, coveredTo, "the tensors cover the data section");

        using var target = LeNet5.Create();
        var result = target.LoadSafetensors(new MemoryStream(bytes), strict: true, source: "lenet.bin");
        Assert.AreEqual(10, result.LoadedKeys.Count);
        CollectionAssert.AreEqual(source.StateDict()["11.weight"].ToArray(), target.StateDict()["11.weight"].ToArray());

        // The same file through a stream that cannot seek.
        using var again = LeNet5.Create();
        again.LoadSafetensors(new ForwardOnlyStream(bytes));
        CollectionAssert.AreEqual(source.StateDict()["0.weight"].ToArray(), again.StateDict()["0.weight"].ToArray());
    }

    [TestMethod]
    public void MetadataAndElementTypesRoundTrip()
    {
        string path = Path.Combine(_dir, "entries.safetensors");
        var entries = new Dictionary<string, SafetensorsTensor>
        {
            ["a"] = new(new Shape(2, 2), [1, 2, 3, 4]),
            ["h"] = new(new Shape(3), [0.5f, -2f, 65504f], Safetensors.F16),
            ["b"] = new(new Shape(2), [1f, -3.140625f], Safetensors.BF16),
            ["d"] = new(new Shape(1), [0.1f], Safetensors.F64),
            ["bn.num_batches_tracked"] = new(new Shape(), [42], Safetensors.I64),
            ["empty"] = new(new Shape(0, 3), []),
        };
        Safetensors.Write(path, entries, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é" });

        var read = Safetensors.Read(path);
        CollectionAssert.AreEquivalent(entries.Keys.ToArray(), read.Keys.ToArray());
        foreach (var (name, e) in entries)
        {
            Assert.AreEqual(e.DType, read[name].DType, name);
            Assert.AreEqual(e.Shape, read[name].Shape, name);
            CollectionAssert.AreEqual(e.Values, read[name].Values, name);
        }
        var metadata = Safetensors.ReadMetadata(path);
        Assert.AreEqual("pt", metadata["format"]);
        Assert.AreEqual("é", metadata["note"]);
    }

    // ---- files written by PyTorch -----------------------------------------------------------------

    [TestMethod]
    public void LeNet5WrittenByPyTorchGivesPyTorchsOutput()
    {
        using var model = LeNet5.Create(numClasses: 10, inputChannels: 1, padInputTo32: true);
        var result = model.LoadSafetensors(FixturePath("lenet5.safetensors"));
        Assert.IsTrue(result.IsExactMatch, result.ToString());
        Assert.AreEqual(Safetensors.BF16, Safetensors.Read(FixturePath("lenet5.safetensors"))["6.weight"].DType);
        Assert.AreEqual("pt", Safetensors.ReadMetadata(FixturePath("lenet5.safetensors"))["format"]);

        AssertForwardMatches(model, "lenet5.json");
    }

    [TestMethod]
    public void BatchNormNetWrittenByPyTorchLoadsCountersAndHalfAndDoubleTensors()
    {
        using var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2, 2),
            new Flatten(), new Linear(8 * 4 * 4, 5));
        var result = model.LoadSafetensors(FixturePath("bn_net.safetensors"));
        Assert.IsTrue(result.IsExactMatch, result.ToString());
        Assert.AreEqual(7f, model.StateDict()["1.num_batches_tracked"].ToScalar(), "num_batches_tracked (I64 in the file) is loaded");

        var file = Safetensors.Read(FixturePath("bn_net.safetensors"));
        Assert.AreEqual(Safetensors.I64, file["1.num_batches_tracked"].DType);
        Assert.AreEqual(Safetensors.F16, file["5.weight"].DType);
        Assert.AreEqual(Safetensors.F64, file["1.bias"].DType);

        AssertForwardMatches(model, "bn_net.json");
    }

    private static void AssertForwardMatches(Module model, string fixture)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath(fixture)));
        static (Shape Shape, float[] Data) Read(JsonElement e) => (
            new Shape(e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray()),
            e.GetProperty("data").EnumerateArray().Select(d => d.GetSingle()).ToArray());
        var (inShape, input) = Read(doc.RootElement.GetProperty("input"));
        var (outShape, expected) = Read(doc.RootElement.GetProperty("output"));
        model.Eval();
        using var scope = new TensorScope();
        var x = Tensor.FromArray(input, inShape);
        var y = model.Forward(x);
        TensorAssert.AreClose(expected, outShape, y, atol: 1e-5, rtol: 1e-5, fixture);
    }

    // ---- mismatches -------------------------------------------------------------------------------

    [TestMethod]
    public void StrictLoadListsMissingUnexpectedAndShapeMismatchesAtOnceAndChangesNothing()
    {
        string path = Path.Combine(_dir, "a.safetensors");
        using (var written = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new Linear(8, 3)))
        {
            written.SaveSafetensors(path);
        }
        // 0.bias missing (no bias), 1.* unexpected (no batch norm), 2.weight/2.bias shapes differ, 3.* missing.
        using var model = new Sequential(new Conv2d(1, 4, 3, bias: false), new ReLU(), new Linear(8, 5), new Linear(5, 2));
        var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());

        var e = Assert.ThrowsExactly<StateDictMismatchException>(() => model.LoadSafetensors(path));

        CollectionAssert.AreEqual(new[] { "3.weight", "3.bias" }, e.Result.MissingKeys.ToArray());
        CollectionAssert.AreEquivalent(new[] { "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked" },
            e.Result.UnexpectedKeys.ToArray());
        CollectionAssert.AreEqual(new[]
        {
            new StateDictShapeMismatch("2.weight", new Shape(5, 8), new Shape(3, 8)),
            new StateDictShapeMismatch("2.bias", new Shape(5), new Shape(3)),
        }, e.Result.ShapeMismatches.ToArray());
        Assert.AreEqual(0, e.Result.LoadedKeys.Count);
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "Sequential");
        foreach (string part in new[] { "3.weight", "3.bias", "1.running_mean", "0.bias", "2.weight: model [5, 8], file [3, 8]", "2.bias: model [5], file [3]" })
        {
            StringAssert.Contains(e.Message, part);
        }
        foreach (var (name, t) in model.StateDict())
        {
            CollectionAssert.AreEqual(before[name], t.ToArray(), $"{name} changed although the strict load failed");
        }
    }

    [TestMethod]
    public void NonStrictLoadOfA1000ClassCheckpointIntoA10ClassModelSkipsAndReportsTheClassifier()
    {
        string path = Path.Combine(_dir, "imagenet.safetensors");
        using (var imagenet = LeNet5.Create(numClasses: 1000))
        {
            imagenet.StateDict()["0.weight"].CopyFrom(Enumerable.Repeat(0.25f, 150).ToArray());
            imagenet.SaveSafetensors(path);
        }
        using var model = LeNet5.Create(numClasses: 10);
        var classifier = model.StateDict()["11.weight"].ToArray();

        var strict = Assert.ThrowsExactly<StateDictMismatchException>(() => model.LoadSafetensors(path));
        StringAssert.Contains(strict.Message, "11.weight: model [10, 84], file [1000, 84]");

        var result = model.LoadSafetensors(path, strict: false);
        Assert.IsFalse(result.IsExactMatch);
        CollectionAssert.AreEqual(new[] { "11.weight", "11.bias" }, result.ShapeMismatches.Select(m => m.Name).ToArray());
        Assert.AreEqual(new StateDictShapeMismatch("11.weight", new Shape(10, 84), new Shape(1000, 84)), result.ShapeMismatches[0]);
        Assert.AreEqual(0, result.MissingKeys.Count);
        Assert.AreEqual(0, result.UnexpectedKeys.Count);
        Assert.AreEqual(8, result.LoadedKeys.Count);
        Assert.AreEqual(0.25f, model.StateDict()["0.weight"].ToArray()[149], "matching entries are loaded");
        CollectionAssert.AreEqual(classifier, model.StateDict()["11.weight"].ToArray(), "the skipped classifier keeps its values");
    }

    [TestMethod]
    public void NonStrictLoadReportsMissingAndUnexpectedAndNeverConvertsUnexpectedEntries()
    {
        string path = Path.Combine(_dir, "extra.safetensors");
        var header = """{"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"ids":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}}""";
        File.WriteAllBytes(path, Build(header, new byte[32]));
        using var model = new Sequential(new Linear(3, 2));

        var result = model.LoadSafetensors(path, strict: false);

        CollectionAssert.AreEqual(new[] { "0.weight" }, result.LoadedKeys.ToArray());
        CollectionAssert.AreEqual(new[] { "0.bias" }, result.MissingKeys.ToArray());
        CollectionAssert.AreEqual(new[] { "ids" }, result.UnexpectedKeys.ToArray());
        CollectionAssert.AreEqual(new float[6], model.StateDict()["0.weight"].ToArray());
    }

    // ---- element types ----------------------------------------------------------------------------

    [TestMethod]
    public void EveryHalfAndBFloat16BitPatternConvertsExactly()
    {
        var h = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2 * i), (ushort)i);
        }
        var header = """{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]},"b":{"dtype":"BF16","shape":[65536],"data_offsets":[131072,262144]}}""";
        var read = Safetensors.Read(new MemoryStream(Build(header, [.. h, .. h])), "patterns");

        for (int i = 0; i < 65536; i++)
        {
            AssertSame(HalfOracle(i), read["h"].Values[i], $"F16 0x{i:X4}");
            AssertSame(BFloat16Oracle(i), read["b"].Values[i], $"BF16 0x{i:X4}");
        }
        Assert.AreEqual(65504f, read["h"].Values[0x7BFF]);
        Assert.AreEqual(MathF.ScaleB(1, -24), read["h"].Values[0x0001]);
        Assert.AreEqual(3.140625f, read["b"].Values[0x4049]);
        Assert.AreEqual(float.PositiveInfinity, read["b"].Values[0x7F80]);
    }

    [TestMethod]
    public void WritingF16AndBF16RoundsToNearestEvenAndF64IsExact()
    {
        float one = 1f, ulpB = MathF.ScaleB(1, -7), ulpH = MathF.ScaleB(1, -10);
        float[] values = [one + ulpB / 2, one + 3 * ulpB / 2, one + ulpB / 2 + MathF.ScaleB(1, -20), -0f, float.NaN, 1e-45f];
        var bf = WriteAndRead(values, Safetensors.BF16);
        Assert.AreEqual(one, bf[0], "a tie rounds to the even neighbour (1)");
        Assert.AreEqual(one + 2 * ulpB, bf[1], "a tie rounds to the even neighbour (1 + 2 ulp)");
        Assert.AreEqual(one + ulpB, bf[2], "above the tie rounds up");
        Assert.IsTrue(float.IsNegative(bf[3]) && bf[3] == 0, "-0 stays -0");
        Assert.IsTrue(float.IsNaN(bf[4]), "NaN stays NaN");

        float[] halves = [one + ulpH / 2, one + 3 * ulpH / 2, 65520f, 70000f, MathF.ScaleB(1, -25) * 1.5f];
        var f16 = WriteAndRead(halves, Safetensors.F16);
        Assert.AreEqual(one, f16[0]);
        Assert.AreEqual(one + 2 * ulpH, f16[1]);
        Assert.AreEqual(float.PositiveInfinity, f16[2], "65520 is the tie between 65504 and infinity");
        Assert.AreEqual(float.PositiveInfinity, f16[3]);
        Assert.AreEqual(MathF.ScaleB(1, -24), f16[4], "subnormals round too");

        // F64 in a file (written by hand) is rounded once, to nearest float32.
        var d = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(d, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(d.AsSpan(8), 1 + Math.ScaleB(1, -24) + Math.ScaleB(1, -40));
        var read = Safetensors.Read(new MemoryStream(Build("""{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}""", d)));
        Assert.AreEqual(0.1f, read["d"].Values[0]);
        Assert.AreEqual(1 + MathF.ScaleB(1, -23), read["d"].Values[1]);
    }

    private static float[] WriteAndRead(float[] values, string dtype)
    {
        using var ms = new MemoryStream();
        Safetensors.Write(ms, new Dictionary<string, SafetensorsTensor> { ["x"] = new(new Shape(values.Length), values, dtype) });
        ms.Position = 0;
        var read = Safetensors.Read(ms)["x"];
        Assert.AreEqual(dtype, read.DType);
        return read.Values;
    }

    private static float HalfOracle(int bits)
    {
        int sign = bits >> 15, exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
        double magnitude = exponent == 0x1F ? (mantissa == 0 ? double.PositiveInfinity : double.NaN)
            : exponent == 0 ? Math.ScaleB(mantissa, -24)
            : Math.ScaleB(1024 + mantissa, exponent - 25);
        return (float)(sign == 1 ? -magnitude : magnitude);
    }

    private static float BFloat16Oracle(int bits)
    {
        int sign = bits >> 15, exponent = (bits >> 7) & 0xFF, mantissa = bits & 0x7F;
        double magnitude = exponent == 0xFF ? (mantissa == 0 ? double.PositiveInfinity : double.NaN)
            : exponent == 0 ? Math.ScaleB(mantissa, -133)
            : Math.ScaleB(128 + mantissa, exponent - 134);
        return (float)(sign == 1 ? -magnitude : magnitude);
    }

    private static void AssertSame(float expected, float actual, string what)
    {
        if (float.IsNaN(expected))
        {
            Assert.IsTrue(float.IsNaN(actual), what);
            return;
        }
        Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual), $"{what}: expected {expected}, got {actual}");
    }

    [TestMethod]
    public void UnsupportedElementTypesAreRefusedNamingTheTensor()
    {
        using var model = new Sequential(new Linear(2, 1));
        string path = Path.Combine(_dir, "ints.safetensors");
        File.WriteAllBytes(path, Build("""{"0.weight":{"dtype":"I32","shape":[1,2],"data_offsets":[0,8]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", new byte[12]));
        var e = Assert.ThrowsExactly<InvalidFileException>(() => model.LoadSafetensors(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "'0.weight'");
        StringAssert.Contains(e.Message, "I32");

        File.WriteAllBytes(path, Build("""{"0.weight":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}""", new byte[20]));
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(path));
        StringAssert.Contains(e.Message, "'0.weight' has element type I64");
        StringAssert.Contains(e.Message, "num_batches_tracked");

        File.WriteAllBytes(path, Build("""{"x":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}""", new byte[1]));
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(path));
        StringAssert.Contains(e.Message, "'x' has the unknown element type 'Q4'");
    }

    // ---- malformed files --------------------------------------------------------------------------

    [TestMethod]
    [DataRow("hugeHeaderLength", "header length 9223372036854775808 is larger than the rest of the file")]
    [DataRow("headerLongerThanFile", "header length 1000 is larger than the rest of the file (60 bytes)")]
    [DataRow("shorterThanPrefix", "fewer than the 8-byte header length")]
    [DataRow("notJson", "the header is not valid JSON")]
    [DataRow("notUtf8", "the header is not valid UTF-8")]
    [DataRow("jsonArray", "the header is a JSON Array, not an object")]
    [DataRow("offsetsOutOfRange", "it is truncated: the tensors need 32 bytes of data but the file has 16")]
    [DataRow("overlap", "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a' (data_offsets [0, 8])")]
    [DataRow("gap", "bytes 8 to 12 of the data section belong to no tensor")]
    [DataRow("notStartingAtZero", "bytes 0 to 4 of the data section belong to no tensor")]
    [DataRow("trailingBytes", "the tensors cover 8 bytes but the data section has 12")]
    [DataRow("truncatedData", "it is truncated: the tensors need 8 bytes of data but the file has 5")]
    [DataRow("sizeDisagreesWithShape", "tensor 'a' has data_offsets [0, 8] (8 bytes), but shape [3] of F32 takes 12 bytes")]
    [DataRow("endBeforeBegin", "tensor 'a' has data_offsets [8, 0] that end before they begin")]
    [DataRow("negativeDimension", "tensor 'a' has the invalid dimension -2 in its shape")]
    [DataRow("hugeShape", "more elements than one tensor can hold")]
    [DataRow("duplicateName", "the header names 'a' twice")]
    [DataRow("missingOffsets", "tensor 'a' has no \"data_offsets\" array of two numbers")]
    [DataRow("badMetadata", "__metadata__ entry 'n' is a JSON Number, not a string")]
    public void MalformedFilesRaiseInvalidDataExceptionNamingTheFile(string kind, string expected)
    {
        string path = Path.Combine(_dir, kind + ".safetensors");
        File.WriteAllBytes(path, Malformed(kind));

        var e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "is not a valid safetensors file");
        StringAssert.Contains(e.Message, expected);

        using var model = new Sequential(new Linear(2, 1));
        Assert.ThrowsExactly<InvalidFileException>(() => model.LoadSafetensors(path, strict: false), "loading checks the file too");
    }

    private static byte[] Malformed(string kind)
    {
        const string Two = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        switch (kind)
        {
            case "hugeHeaderLength":
                var huge = new byte[64];
                BinaryPrimitives.WriteUInt64LittleEndian(huge, 1UL << 63);
                return huge;
            case "headerLongerThanFile":
                var longer = new byte[68];
                BinaryPrimitives.WriteUInt64LittleEndian(longer, 1000);
                return longer;
            case "shorterThanPrefix":
                return [1, 2, 3];
            case "notJson":
                return Build("{\"a\": {\"dtype\": \"F32\", ", new byte[8]);
            case "notUtf8":
                return Build(Encoding.UTF8.GetBytes("{\"a\":1}").Concat(new byte[] { 0xFF, 0xFE }).ToArray(), []);
            case "jsonArray":
                return Build("[1, 2]", []);
            case "offsetsOutOfRange":
                return Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[6],"data_offsets":[8,32]}}""", new byte[16]);
            case "overlap":
                return Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]);
            case "gap":
                return Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", new byte[16]);
            case "notStartingAtZero":
                return Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]);
            case "trailingBytes":
                return Build(Two, new byte[12]);
            case "truncatedData":
                return Build(Two, new byte[5]);
            case "sizeDisagreesWithShape":
                return Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]);
            case "endBeforeBegin":
                return Build("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", new byte[8]);
            case "negativeDimension":
                return Build("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", new byte[8]);
            case "hugeShape":
                return Build("""{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}""", new byte[8]);
            case "duplicateName":
                return Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
            case "missingOffsets":
                return Build("""{"a":{"dtype":"F32","shape":[2]}}""", new byte[8]);
            case "badMetadata":
                return Build("""{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
            default:
                throw new ArgumentException(kind);
        }
    }

    [TestMethod]
    public void StreamsOfUnknownLengthAreCheckedWithoutTrustingTheHeader()
    {
        // A header length of 2^63 on a stream that cannot tell its length: refused before any allocation.
        var prefix = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, 1UL << 63);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(new ForwardOnlyStream(prefix), "net.bin"));
        StringAssert.Contains(e.Message, "net.bin");
        StringAssert.Contains(e.Message, "exceeds the limit");

        // A header that claims 1 GB of data over a stream holding 8 bytes: fails on the missing bytes.
        var claims = Build("""{"a":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}}""", new byte[8]);
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(new ForwardOnlyStream(claims), "net.bin"));
        StringAssert.Contains(e.Message, "it is truncated: the data section needs 1073741824 bytes but only 8 follow");

        // More than one array can hold.
        var larger = Build("""{"a":{"dtype":"F64","shape":[1073741824],"data_offsets":[0,8589934592]}}""", new byte[8]);
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(new ForwardOnlyStream(larger), "net.bin"));
        StringAssert.Contains(e.Message, "too large to read from a stream of unknown length");

        // Bytes after the last tensor.
        e = Assert.ThrowsExactly<InvalidFileException>(() => Safetensors.Read(new ForwardOnlyStream(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[5])), "net.bin"));
        StringAssert.Contains(e.Message, "belong to no tensor");
    }

    // ---- atomic saving ----------------------------------------------------------------------------

    [TestMethod]
    public void SavingIsAtomicLeavingNoTemporaryFileAndKeepingTheOldFileOnFailure()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        using var model = new Sequential(new Linear(3, 2), new BatchNorm2d(2));
        model.SaveSafetensors(path);
        CollectionAssert.AreEqual(new[] { "model.safetensors" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
        byte[] good = File.ReadAllBytes(path);

        model.StateDict()["0.bias"].Dispose(); // fails in the middle of writing the data
        Assert.ThrowsExactly<ObjectDisposedException>(() => model.SaveSafetensors(path));

        CollectionAssert.AreEqual(good, File.ReadAllBytes(path), "the existing file is intact");
        CollectionAssert.AreEqual(new[] { "model.safetensors" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray(), "no temporary file is left");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static byte[] Build(string header, byte[] data) => Build(Encoding.UTF8.GetBytes(header), data);

    private static byte[] Build(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>A stream that can only be read forwards and does not know its length (a network or zip stream).</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 3));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
