using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>An imported network behaves as a module: state dictionary, summary, export, train/eval, freezing.</summary>
[TestClass]
public sealed class OnnxImportModuleTests
{
    private static OnnxGraphModule ImportResNet18(Module original)
    {
        using var stream = new MemoryStream();
        original.ExportOnnx(stream, 1, 3, 32, 32);
        stream.Position = 0;
        return OnnxModel.Load(stream, "resnet18.onnx");
    }

    [TestMethod]
    public void OnnxImport_StateDict_KeepsExportedNamesAndReloads()
    {
        using var original = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        using var imported = ImportResNet18(original);
        var state = imported.StateDict();
        Assert.IsTrue(state.ContainsKey("conv1.weight"), string.Join(", ", state.Keys.Take(5)));
        Assert.IsTrue(state.ContainsKey("layer1.0.conv1.weight"));
        Assert.IsTrue(state.ContainsKey("fc.weight") && state.ContainsKey("fc.bias"));
        Assert.AreEqual(original.StateDict()["layer2.1.conv2.weight"].Shape, state["layer2.1.conv2.weight"].Shape);

        using var saved = new MemoryStream();
        imported.SaveStateDict(saved);
        using var again = ImportResNet18(original);
        again.StateDict()["fc.bias"].CopyFrom(new float[10]);
        saved.Position = 0;
        again.LoadStateDict(saved);
        CollectionAssert.AreEqual(state["fc.bias"].ToArray(), again.StateDict()["fc.bias"].ToArray());
    }

    [TestMethod]
    public void OnnxImport_Summary_ListsLayers()
    {
        using var original = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        using var imported = ImportResNet18(original);
        var summary = imported.Summary(3, 32, 32);
        string text = summary.ToString();
        StringAssert.Contains(text, "conv1");
        Assert.AreEqual(imported.ParameterCount(), summary.TotalParameters);
    }

    [TestMethod]
    public void OnnxImport_ExportAgain_RoundTrips()
    {
        using var original = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        OnnxRuntimeRunner.RandomizeRunningStatistics(original);
        using var imported = ImportResNet18(original);
        using var stream = new MemoryStream();
        imported.ExportOnnx(stream, 1, 3, 32, 32);
        stream.Position = 0;
        using var twice = OnnxModel.Load(stream, "again.onnx");
        using var input = Tensor.RandomNormal(new Shape(2, 3, 32, 32), new Random(4));
        float diff = OnnxImportAssert.MaxAbsDifference(OnnxRuntimeRunner.Reference(original, input), OnnxRuntimeRunner.Reference(twice, input));
        Assert.IsTrue(diff <= 1e-4f, $"exported twice: max abs difference {diff:E3}");
    }

    [TestMethod]
    public void OnnxImport_BatchNorm_UsesBatchStatisticsInTraining()
    {
        using var model = OnnxModel.Load(OnnxImportOperatorTests.FixturePath("norms_dropout"));
        var mean = model.StateDict()["bn.running_mean"];
        var variance = model.StateDict()["bn.running_var"];
        var before = mean.ToArray();
        var varianceBefore = variance.ToArray();
        using var input = Tensor.RandomNormal(new Shape(2, 4, 3, 5), new Random(2));
        var eval1 = OnnxRuntimeRunner.Reference(model, input);
        CollectionAssert.AreEqual(before, mean.ToArray(), "evaluation mode must not touch the running mean");

        model.Train();
        using (var scope = new TensorScope())
        {
            var y = model.Forward(input);
            y.Sum().Backward();
            Assert.IsNotNull(model.StateDict()["bn.weight"].Grad);
        }
        var after = mean.ToArray();
        Assert.IsTrue(OnnxImportAssert.MaxAbsDifference(before, after) > 0f, "training mode must update the running mean");

        mean.CopyFrom(before);
        variance.CopyFrom(varianceBefore);
        var eval2 = OnnxRuntimeRunner.Reference(model, input);
        CollectionAssert.AreEqual(eval1, eval2, "dropout is the identity in evaluation mode");
        Assert.AreEqual(Device.Cpu, model.To(Device.Cpu).Device);
    }

    [TestMethod]
    [DataRow("activations")]
    [DataRow("pad_input")]
    [DataRow("conv_asymmetric_pads")]
    [DataRow("conv_transpose_asymmetric")]
    [DataRow("pools_same_exclude_pad")]
    [DataRow("norms_dropout")]
    public void OnnxImport_ImportedGraph_GradientsMatchFiniteDifferences(string fixture)
    {
        using var model = OnnxModel.Load(OnnxImportOperatorTests.FixturePath(fixture));
        model.Eval();
        var dims = model.InputDims.Select(d => d < 0 ? 2 : (int)d).ToArray();
        var x = GradCheck.Leaf(new Random(9), dims);
        GradCheck.Check(inputs => model.Forward(inputs[0]), [x], eps: 1e-3);
    }

    [TestMethod]
    public void OnnxImport_Erf_MatchesReferenceValues()
    {
        // erf from Abramowitz and Stegun's tables.
        double[] x = [-2.0, -0.5, 0.0, 0.1, 0.5, 1.0, 1.5, 3.0];
        double[] erf = [-0.995322265, -0.520499878, 0.0, 0.112462916, 0.520499878, 0.842700793, 0.966105146, 0.999977910];
        for (int i = 0; i < x.Length; i++)
        {
            Assert.AreEqual(erf[i], Microsoft.ML.ConvNet.Autograd.Functions.ErfFunction.Erf(x[i]), 2e-7, $"erf({x[i]})");
        }
    }
}
