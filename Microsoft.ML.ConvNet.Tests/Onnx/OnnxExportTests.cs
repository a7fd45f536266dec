using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// ONNX export of modules built from the library's layers, the atomic file overload, the error for an operation
/// without an ONNX form, and appending post-processing nodes through <see cref="OnnxGraph"/>.
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    private const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    private void AssertMatches(string what, Module model, params int[] sampleShape)
    {
        var (diff, scale) = OnnxRuntimeRunner.MaxAbsDifference(model, sampleShape);
        TestContext.WriteLine($"{what}: max abs difference {diff:E2} (max |output| {scale:G3})");
        Assert.IsTrue(diff <= Tolerance, $"{what}: ONNX Runtime differs from our output by {diff:E3} (max abs), more than {Tolerance:E0}.");
    }

    [TestMethod]
    public void CustomSequential_OfLibraryLayers_MatchesOnnxRuntime()
    {
        using var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1),
            new BatchNorm2d(8),
            new ReLU(),
            new MaxPool2d(3, 2, padding: 1, ceilMode: true),
            new Conv2d(8, 8, 3, stride: 2, padding: (1, 2), dilation: (1, 2), groups: 4, bias: false),
            new GroupNorm(2, 8),
            new SiLU(),
            new AvgPool2d(3, 2, padding: 1, ceilMode: true, countIncludePad: false),
            new AvgPool2d(2, 1, countIncludePad: true),
            new LocalResponseNorm(3),
            new AdaptiveAvgPool2d(3, 2),
            new Flatten(),
            new Dropout(0.5f),
            new Linear(48, 16),
            new LayerNorm(16),
            new Hardswish(),
            new Linear(16, 5));
        OnnxRuntimeRunner.RandomizeRunningStatistics(model);
        AssertMatches("custom sequential", model, 3, 17, 19);
    }

    [TestMethod]
    public void TransposedAndOneDimensionalConvolutions_MatchOnnxRuntime()
    {
        using var model = new Sequential(
            new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1),
            new BatchNorm2d(4),
            new Flatten(2),
            new Conv1d(4, 6, 3, stride: 2, padding: 1),
            new BatchNorm1d(6),
            new MaxPool1d(2),
            new ELU(0.5f));
        OnnxRuntimeRunner.RandomizeRunningStatistics(model);
        AssertMatches("transposed and 1-d convolutions", model, 3, 5, 6);
    }

    public static IEnumerable<object[]> Activations =>
        new[] { "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh", "SiLU", "Hardswish", "Hardsigmoid", "Softmax", "LogSoftmax" }
            .Select(n => new object[] { n });

    private static Module Activation(string name) => name switch
    {
        "ReLU" => new ReLU(),
        "ReLU6" => new ReLU6(),
        "LeakyReLU" => new LeakyReLU(0.2f),
        "PReLU" => new PReLU(4, 0.3f),
        "ELU" => new ELU(0.7f),
        "SELU" => new SELU(),
        "GELU" => new GELU(),
        "Sigmoid" => new Sigmoid(),
        "Tanh" => new Tanh(),
        "SiLU" => new SiLU(),
        "Hardswish" => new Hardswish(),
        "Hardsigmoid" => new Hardsigmoid(),
        "Softmax" => new Softmax(1),
        "LogSoftmax" => new LogSoftmax(1),
        _ => throw new ArgumentException(name),
    };

    [TestMethod]
    [DynamicData(nameof(Activations))]
    public void Activation_MatchesOnnxRuntime(string name)
    {
        using var model = new Sequential(new Conv2d(2, 4, 1), Activation(name));
        AssertMatches(name, model, 2, 5, 5);
    }

    [TestMethod]
    public void Dropout_InEvaluationMode_RecordsNothing()
    {
        using var dropout = new Dropout(0.5f);
        dropout.Eval();
        using var x = Tensor.Ones(new Shape(2, 3));
        x.RequiresGrad = true;
        var y = dropout.Forward(x);
        Assert.AreSame(x, y, "evaluation-mode dropout passes its input through");
        Assert.IsTrue(y.IsLeaf);

        using var model = new Sequential(new Linear(3, 2), new Dropout(0.3f));
        var graph = OnnxGraph.Trace(model, "input", [1, 3]);
        CollectionAssert.AreEqual(new[] { "Gemm" }, graph.NodeTypes.ToArray());
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias" }, graph.InitializerNames.ToArray());
        Assert.IsTrue(model.IsTraining, "the module's training mode is restored after the trace");
    }

    [TestMethod]
    public void PathOverload_WritesAtomically_AndKeepsTheOldFileOnFailure()
    {
        string dir = Path.Combine(Path.GetTempPath(), "convnet-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            using var model = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3));
            model.ExportOnnx(path, 1, 1, 6, 6);
            using (var session = new InferenceSession(path))
            {
                Assert.AreEqual("input", session.InputNames.Single());
                Assert.AreEqual("output", session.OutputNames.Single());
                Assert.AreEqual(-1, session.InputMetadata["input"].Dimensions[0], "the batch dimension is symbolic");
            }
            CollectionAssert.AreEqual(new[] { "model.onnx" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no temporary file is left");

            File.WriteAllText(path, "old contents");
            using var broken = new Sequential(new Linear(3, 3), new PickFirstColumn());
            Assert.ThrowsExactly<NotSupportedException>(() => broken.ExportOnnx(path, 1, 3));
            Assert.ThrowsExactly<NotSupportedException>(() => AtomicFile.Write(path, s =>
            {
                s.WriteByte(1);
                throw new NotSupportedException("failure while writing");
            }));
            Assert.AreEqual("old contents", File.ReadAllText(path));
            CollectionAssert.AreEqual(new[] { "model.onnx" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no temporary file is left");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void UnexportableOperation_NamesTheOperationAndTheModulePath()
    {
        using var model = new Sequential(new Linear(3, 4), new Sequential(new ReLU(), new PickFirstColumn()));
        using var stream = new MemoryStream();
        var e = Assert.ThrowsExactly<NotSupportedException>(() => model.ExportOnnx(stream, 1, 3));
        StringAssert.Contains(e.Message, "GatherColumns");
        StringAssert.Contains(e.Message, "1.1 (PickFirstColumn)");
        Assert.IsTrue(model.IsTraining, "the module's training mode is restored after a failed trace");
    }

    [TestMethod]
    public void OnnxGraph_AppendedPostProcessing_RunsInOnnxRuntime()
    {
        using var model = new Sequential(new Conv2d(3, 4, 3), new ReLU(), new Flatten(), new Linear(4 * 3 * 3, 3));
        var graph = OnnxGraph.Trace(model, "image", [1, 3, 5, 5]);
        var probabilities = graph.AddNode("Softmax", [graph.TracedOutput], OnnxAttribute.Int("axis", 1));
        var index = graph.AddNode("ArgMax", [probabilities], OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0));
        var label = graph.AddNode("Gather", [graph.AddConstant("labels", ["cat", "dog", "eel"], 3), index], OnnxAttribute.Int("axis", 0));
        var isDog = graph.AddNode("Equal", [index, graph.AddConstant("dog", [1L], 1)]);
        var top = graph.AddNode("ReduceMax", [probabilities], OnnxAttribute.Int("keepdims", 1));
        var topScalar = graph.AddNode("Reshape", [top, graph.AddConstant("scalar", Array.Empty<long>(), 0)]);
        var always = graph.AddNode("Or", [isDog, graph.AddConstant("true", [true], 1)]);
        graph.AddOutput(probabilities, "probabilities", OnnxElementType.Float, -1, 3);
        graph.AddOutput(index, "index", OnnxElementType.Int64, -1);
        graph.AddOutput(label, "label", OnnxElementType.String, -1);
        graph.AddOutput(isDog, "is_dog", OnnxElementType.Bool, -1);
        graph.AddOutput(always, "always", OnnxElementType.Bool, -1);
        graph.AddOutput(topScalar, "top", OnnxElementType.Float);

        using var session = new InferenceSession(graph.ToArray());
        Assert.AreEqual("image", session.InputNames.Single());
        CollectionAssert.AreEqual(new[] { "probabilities", "index", "label", "is_dog", "always", "top" }, session.OutputNames.ToArray());
        Assert.AreEqual(TensorElementType.String, session.OutputMetadata["label"].ElementDataType);
        Assert.AreEqual(TensorElementType.Int64, session.OutputMetadata["index"].ElementDataType);
        Assert.AreEqual(TensorElementType.Bool, session.OutputMetadata["is_dog"].ElementDataType);
        Assert.AreEqual(0, session.OutputMetadata["top"].Dimensions.Length, "a scalar output");

        using var input = Tensor.RandomNormal(new Shape(2, 3, 5, 5), new Random(5));
        var logits = OnnxRuntimeRunner.Reference(model, input);
        var outputs = OnnxRuntimeRunner.Run(session, "image", input);
        try
        {
            var expected = new float[6];
            var expectedIndex = new long[2];
            for (int n = 0; n < 2; n++)
            {
                var row = logits.AsSpan(3 * n, 3);
                float max = row.ToArray().Max(), sum = row.ToArray().Sum(v => MathF.Exp(v - max));
                for (int k = 0; k < 3; k++)
                {
                    expected[3 * n + k] = MathF.Exp(row[k] - max) / sum;
                }
                expectedIndex[n] = row.IndexOf(max);
            }
            var probs = outputs["probabilities"].GetTensorDataAsSpan<float>().ToArray();
            for (int i = 0; i < 6; i++)
            {
                Assert.AreEqual(expected[i], probs[i], 1e-5f, $"probability {i}");
            }
            CollectionAssert.AreEqual(expectedIndex, outputs["index"].GetTensorDataAsSpan<long>().ToArray());
            string[] labels = ["cat", "dog", "eel"];
            CollectionAssert.AreEqual(expectedIndex.Select(i => labels[i]).ToArray(), outputs["label"].GetStringTensorAsArray());
            CollectionAssert.AreEqual(expectedIndex.Select(i => i == 1).ToArray(), outputs["is_dog"].GetTensorDataAsSpan<bool>().ToArray());
            CollectionAssert.AreEqual(new[] { true, true }, outputs["always"].GetTensorDataAsSpan<bool>().ToArray());
            Assert.AreEqual(0, outputs["top"].GetTensorTypeAndShape().Shape.Length);
            Assert.AreEqual(expected.Max(), outputs["top"].GetTensorDataAsSpan<float>()[0], 1e-5f);
        }
        finally
        {
            foreach (var o in outputs.Values)
            {
                o.Dispose();
            }
        }
    }

    [TestMethod]
    public void Trace_WithFixedBatch_DeclaresTheTracedBatchSize()
    {
        using var model = new Sequential(new Conv2d(1, 2, 3), new Flatten(), new Linear(2 * 2 * 2, 3));
        var graph = OnnxGraph.Trace(model, "x", [4, 1, 4, 4], dynamicBatch: false);
        graph.AddOutput(graph.TracedOutput, "y", OnnxElementType.Float, 4, 3);
        using var session = new InferenceSession(graph.ToArray());
        CollectionAssert.AreEqual(new[] { 4, 1, 4, 4 }, session.InputMetadata["x"].Dimensions);
        CollectionAssert.AreEqual(new[] { 4, 3 }, session.OutputMetadata["y"].Dimensions);
    }

    /// <summary>Picks column 0 of each row through an operation that has no ONNX form (the loss's column gather).</summary>
    private sealed class PickFirstColumn : Module
    {
        protected override Tensor ForwardCore(Tensor input) => GatherColumnsFunction.Forward(input, new int[input.Shape[0]]);
    }
}
