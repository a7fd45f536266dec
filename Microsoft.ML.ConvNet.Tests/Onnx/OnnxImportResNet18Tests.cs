using System.Diagnostics;
using System.Reflection;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// The pretrained ResNet-18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (a CNTK 2.6 export, IR 3, opset 8,
/// asymmetric padding on conv1) imports, agrees with ONNX Runtime within 1e-4, and trains.
/// </summary>
[TestClass]
public sealed class OnnxImportResNet18Tests
{
    private const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>The packaged ResNet18.onnx: copied to the output by the package's build props, else in the package folder.</summary>
    internal static string ModelPath
    {
        get
        {
            const string relative = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";
            string local = Path.Combine(AppContext.BaseDirectory, relative);
            if (File.Exists(local))
            {
                return local;
            }
            string? package = typeof(OnnxImportResNet18Tests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "DnnImageFeaturizerResNet18")?.Value;
            string fromPackage = Path.Combine(package ?? "", "tools", relative);
            Assert.IsTrue(File.Exists(fromPackage), $"ResNet18.onnx is neither at {local} nor at {fromPackage}.");
            return fromPackage;
        }
    }

    [TestMethod]
    public void OnnxImport_PackagedResNet18_MatchesOnnxRuntime()
    {
        var clock = Stopwatch.StartNew();
        using var model = OnnxModel.Load(ModelPath);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        Assert.AreEqual(8L, model.Opset);
        Assert.AreEqual(74, model.NodeCount);
        Assert.AreEqual("Input247", model.InputName);
        Assert.AreEqual("Pooling395_Output_0", model.OutputName);

        using var input = Tensor.RandomNormal(new Shape(1, 3, 224, 224), new Random(11));
        var ours = OnnxRuntimeRunner.Reference(model, input);

        using var session = new InferenceSession(ModelPath);
        var outputs = OnnxRuntimeRunner.Run(session, model.InputName, input);
        try
        {
            var reference = outputs[model.OutputName];
            CollectionAssert.AreEqual(new long[] { 1, 512, 1, 1 }, reference.GetTensorTypeAndShape().Shape);
            var expected = reference.GetTensorDataAsSpan<float>();
            Assert.AreEqual(expected.Length, ours.Length);
            float diff = OnnxImportAssert.MaxAbsDifference(expected, ours);
            float scale = ours.Max(Math.Abs);
            string line = $"Packaged ResNet18.onnx: max abs difference {diff:E2} against ONNX Runtime (max |output| {scale:G3}), "
                + $"{model.ParameterCount()} parameters, {model.ParameterCount(trainableOnly: true)} trainable, import {loadMs:F0} ms";
            Console.WriteLine(line);
            TestContext.WriteLine(line);
            Assert.IsTrue(diff <= Tolerance, $"ResNet18.onnx: ours and ONNX Runtime differ by {diff:E3} (max abs), more than {Tolerance:E0}.");
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
    public void OnnxImport_PackagedResNet18_TrainsAndFreezes()
    {
        using var model = OnnxModel.Load(ModelPath);
        var state = model.StateDict();
        var conv = state.First(p => p.Value.Rank == 4 && p.Key.EndsWith("weight", StringComparison.Ordinal));
        var mean = state.First(p => p.Key.EndsWith("running_mean", StringComparison.Ordinal));
        Assert.IsTrue(model.ParameterCount() > 11_000_000, $"{model.ParameterCount()} parameters");
        Assert.AreEqual(22, state.Count(p => p.Key.EndsWith("running_var", StringComparison.Ordinal)), "one running variance per BatchNormalization");

        // One SGD step in training mode changes the convolution weights and the batch statistics.
        using var input = Tensor.RandomNormal(new Shape(2, 3, 224, 224), new Random(5));
        var weightBefore = conv.Value.ToArray();
        var meanBefore = mean.Value.ToArray();
        model.Train();
        using (var optimizer = new Sgd(model.TrainableParameters(), learningRate: 0.1f))
        using (var scope = new TensorScope())
        {
            optimizer.ZeroGrad();
            var loss = model.Forward(input).Square().Mean();
            loss.Backward();
            optimizer.Step();
        }
        Assert.IsTrue(OnnxImportAssert.MaxAbsDifference(weightBefore, conv.Value.ToArray()) > 0f, $"{conv.Key} did not change");
        Assert.IsTrue(OnnxImportAssert.MaxAbsDifference(meanBefore, mean.Value.ToArray()) > 0f, $"{mean.Key} did not follow the batch in training mode");

        // Frozen and in evaluation mode: no gradients to the weights, running statistics untouched.
        model.Freeze();
        model.Eval();
        Assert.AreEqual(0L, model.ParameterCount(trainableOnly: true));
        var frozenMean = mean.Value.ToArray();
        var frozenWeight = conv.Value.ToArray();
        using (var scope = new TensorScope())
        {
            var x = input.Detach();
            x.RequiresGrad = true;
            model.Forward(x).Sum().Backward();
            Assert.IsNotNull(x.Grad, "the gradient still reaches the input through the frozen network");
        }
        Assert.IsNull(conv.Value.Grad, "a frozen weight got a gradient");
        CollectionAssert.AreEqual(frozenMean, mean.Value.ToArray(), "running statistics changed in evaluation mode");
        CollectionAssert.AreEqual(frozenWeight, conv.Value.ToArray());
    }
}
