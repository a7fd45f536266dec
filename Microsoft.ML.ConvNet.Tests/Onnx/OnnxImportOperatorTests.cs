using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// Small ONNX models (written by <c>build/reference/make_onnx_import_fixtures.py</c>) for the operators and attribute
/// forms the exporter never writes: each gives ONNX Runtime's output within 1e-4 on a random input.
/// </summary>
[TestClass]
public sealed class OnnxImportOperatorTests
{
    private const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    internal static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name + ".onnx");

    public static IEnumerable<object[]> Fixtures =>
    [
        ["conv_same_upper"], ["conv_same_lower"], ["conv_valid_groups_dilations"], ["conv_asymmetric_pads"], ["conv1d"],
        ["conv_transpose"], ["conv_transpose_asymmetric"], ["clip_attributes"], ["clip_inputs"], ["activations"],
        ["split_attribute"], ["split_input"], ["slice_attribute"], ["slice_input"], ["pad_attribute"], ["pad_input"],
        ["squeeze_unsqueeze_attribute"], ["squeeze_unsqueeze_input"], ["gemm_trans_a"], ["matmul_batched"],
        ["global_pools_reduce_mean"], ["pools_ceil_pads"], ["pools_same_exclude_pad"], ["shape_chain"], ["norms_dropout"],
    ];

    [TestMethod]
    [DynamicData(nameof(Fixtures))]
    public void OnnxImport_OperatorFixture_MatchesOnnxRuntime(string name)
    {
        string path = FixturePath(name);
        using var model = OnnxModel.Load(path);
        var dims = model.InputDims.Select(d => d < 0 ? 2 : (int)d).ToArray();
        using var input = Tensor.RandomNormal(new Shape(dims), new Random(3));
        var ours = OnnxRuntimeRunner.Reference(model, input);

        using var session = new InferenceSession(path);
        var outputs = OnnxRuntimeRunner.Run(session, model.InputName, input);
        try
        {
            var reference = outputs[model.OutputName];
            var expected = reference.GetTensorDataAsSpan<float>();
            Assert.AreEqual(expected.Length, ours.Length, $"{name}: output size (ONNX Runtime's shape [{string.Join(", ", reference.GetTensorTypeAndShape().Shape)}])");
            float diff = OnnxImportAssert.MaxAbsDifference(expected, ours);
            TestContext.WriteLine($"{name}: max abs difference {diff:E2}, {model.ParameterCount()} parameters, {model.RunNodeCount} of {model.NodeCount} nodes run");
            Assert.IsTrue(diff <= Tolerance, $"{name}: ours and ONNX Runtime differ by {diff:E3} (max abs), more than {Tolerance:E0}.");
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
    public void OnnxImport_ShapeChain_RunsOnHostValuesForAnyBatch()
    {
        using var model = OnnxModel.Load(FixturePath("shape_chain"));
        Assert.AreEqual(6, model.NodeCount);
        CollectionAssert.AreEqual(new long[] { -1, 3, 4, 4 }, model.InputDims.ToArray());
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = new TensorScope();
            var y = model.Eval().Forward(Tensor.RandomNormal(new Shape(batch, 3, 4, 4), new Random(batch)));
            Assert.AreEqual(new Shape(batch, 5), y.Shape);
        }
        CollectionAssert.AreEquivalent(new[] { "head.weight", "head.bias" }, model.StateDict().Keys.ToArray());
    }

    [TestMethod]
    public void OnnxImport_NamedWeights_FollowNodeNamesAndRoles()
    {
        using var model = OnnxModel.Load(FixturePath("norms_dropout"));
        var state = model.StateDict();
        CollectionAssert.AreEquivalent(new[] { "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "inorm.weight", "inorm.bias" }, state.Keys.ToArray());
        Assert.AreEqual(2, model.NamedBuffers().Count());
        Assert.AreEqual(16L, model.ParameterCount());
    }
}

/// <summary>The graph shape of the trainer's saved form (softmax scores, then ArgMax, Equal and Cast) imports too.</summary>
[TestClass]
public sealed class OnnxImportSavedFormTests
{
    [TestMethod]
    public void OnnxImport_TrainerSavedFormGraph_ScoresLikeOnnxRuntime()
    {
        using var net = new Microsoft.ML.ConvNet.Layers.Sequential(
            new Microsoft.ML.ConvNet.Layers.Conv2d(3, 4, 3),
            new Microsoft.ML.ConvNet.Layers.Flatten(),
            new Microsoft.ML.ConvNet.Layers.Linear(4 * 6 * 6, 5));
        var graph = OnnxGraph.Trace(net, "pixels", [1, 3, 8, 8], dynamicBatch: false);
        string logits = graph.AddNode("Reshape", [graph.TracedOutput, graph.AddConstant("logits_shape", new long[] { 5 }, 1)]);
        graph.AddOutput(graph.AddNode("Softmax", [logits], OnnxAttribute.Int("axis", 0)), "Score", OnnxElementType.Float, 5);
        string best = graph.AddNode("ArgMax", [logits], OnnxAttribute.Int("axis", 0), OnnxAttribute.Int("keepdims", 1));
        string isBest = graph.AddNode("Equal", [graph.AddConstant("classes", [0L, 1, 2, 3, 4], 5), best]);
        graph.AddOutput(graph.AddNode("Cast", [isBest], OnnxAttribute.Int("to", (long)OnnxElementType.Float)), "Features", OnnxElementType.Float, 5);
        var bytes = graph.ToArray();

        using var model = OnnxModel.Load(new MemoryStream(bytes), "saved.onnx");
        Assert.AreEqual("Score", model.OutputName);
        using var input = Tensor.RandomNormal(new Shape(1, 3, 8, 8), new Random(8));
        var ours = OnnxRuntimeRunner.Reference(model, input);
        using var session = new InferenceSession(bytes);
        var outputs = OnnxRuntimeRunner.Run(session, "pixels", input);
        try
        {
            float diff = OnnxImportAssert.MaxAbsDifference(outputs["Score"].GetTensorDataAsSpan<float>(), ours);
            Assert.IsTrue(diff <= 1e-5f, $"scores differ by {diff:E3}");
        }
        finally
        {
            foreach (var o in outputs.Values)
            {
                o.Dispose();
            }
        }
    }
}
