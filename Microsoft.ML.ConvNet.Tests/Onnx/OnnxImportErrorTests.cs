using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// Bad input to the importer: unsupported operators name the operator, node and opset; truncated or corrupted files give
/// an <see cref="InvalidDataException"/> naming the source (or load); external data is refused.
/// </summary>
[TestClass]
public sealed class OnnxImportErrorTests
{
    [TestMethod]
    public void OnnxImport_UnsupportedOperator_NamesOperatorNodeAndOpset()
    {
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxModel.Load(OnnxImportOperatorTests.FixturePath("unsupported_lstm")));
        StringAssert.Contains(e.Message, "LSTM");
        StringAssert.Contains(e.Message, "'rnn1'");
        StringAssert.Contains(e.Message, "opset 13");
        StringAssert.Contains(e.Message, "unsupported_lstm.onnx");
    }

    [TestMethod]
    public void OnnxImport_UnsupportedOperatorInExportedGraph_FailsAtLoad()
    {
        using var conv = new Conv2d(3, 4, 3);
        var graph = OnnxGraph.Trace(conv, "input", [1, 3, 8, 8]);
        string y = graph.AddNode("NonMaxSuppression", [graph.TracedOutput]);
        graph.AddOutput(y, "output", OnnxElementType.Float, -1);
        using var stream = new MemoryStream(graph.ToArray());
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxModel.Load(stream, "nms.onnx"));
        StringAssert.Contains(e.Message, "NonMaxSuppression");
        StringAssert.Contains(e.Message, "opset 17");
        StringAssert.Contains(e.Message, "nms.onnx");
    }

    [TestMethod]
    public void OnnxImport_UnsupportedAttribute_IsRefused()
    {
        using var conv = new Conv2d(3, 4, 3);
        var graph = OnnxGraph.Trace(conv, "input", [1, 3, 8, 8]);
        string y = graph.AddNode("Relu", [graph.TracedOutput], OnnxAttribute.Int("fancy", 1));
        graph.AddOutput(y, "output", OnnxElementType.Float, -1);
        using var stream = new MemoryStream(graph.ToArray());
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxModel.Load(stream, "attr.onnx"));
        StringAssert.Contains(e.Message, "'fancy'");
        StringAssert.Contains(e.Message, "Relu");
    }

    [TestMethod]
    public void OnnxImport_ExternalData_IsRefused()
    {
        var e = Assert.ThrowsExactly<InvalidFileException>(() => OnnxModel.Load(OnnxImportOperatorTests.FixturePath("external_data")));
        StringAssert.Contains(e.Message, "external");
        StringAssert.Contains(e.Message, "external_data.onnx");
    }

    [TestMethod]
    public void OnnxImport_NotOnnx_IsInvalidData()
    {
        foreach (var bytes in new[] { Array.Empty<byte>(), "hello, world"u8.ToArray(), new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F } })
        {
            using var stream = new MemoryStream(bytes);
            var e = Assert.ThrowsExactly<InvalidFileException>(() => OnnxModel.Load(stream, "junk.onnx"));
            StringAssert.Contains(e.Message, "junk.onnx");
        }
    }

    [TestMethod]
    public void OnnxImport_TruncatedResNet18_IsInvalidData()
    {
        var bytes = File.ReadAllBytes(OnnxImportResNet18Tests.ModelPath);
        foreach (int cut in new[] { 1, 7, 100, 1000, 50_000, bytes.Length / 3, bytes.Length / 2, bytes.Length - 100, bytes.Length - 1 })
        {
            using var stream = new MemoryStream(bytes, 0, cut);
            var e = Assert.ThrowsExactly<InvalidFileException>(() => OnnxModel.Load(stream, "cut.onnx"), $"cut at {cut} of {bytes.Length}");
            StringAssert.Contains(e.Message, "cut.onnx");
        }
    }

    [TestMethod]
    public void OnnxImport_BitFlips_GiveInvalidDataOrLoad()
    {
        using var model = ModelZoo.Create("lenet5", new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        using var exported = new MemoryStream();
        model.ExportOnnx(exported, 1, 3, 28, 28);
        var original = exported.ToArray();
        var random = new Random(17);
        int loaded = 0, invalid = 0, unsupported = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            // Most flips land in the weights (harmless); aim half of them at the graph structure in the first bytes.
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++)
            {
                int at = trial % 2 == 0 ? random.Next(Math.Min(bytes.Length, 4096)) : random.Next(bytes.Length);
                bytes[at] ^= (byte)(1 << random.Next(8));
            }
            try
            {
                using var m = OnnxModel.Load(new MemoryStream(bytes), "flipped.onnx");
                loaded++;
            }
            catch (InvalidFileException e)
            {
                StringAssert.Contains(e.Message, "flipped.onnx");
                invalid++;
            }
            catch (NotSupportedException e)
            {
                // A flipped operator or attribute name reads as one the importer does not support.
                StringAssert.Contains(e.Message, "flipped.onnx");
                unsupported++;
            }
        }
        Console.WriteLine($"Bit flips: {loaded} loaded, {invalid} invalid data, {unsupported} unsupported");
    }
}
