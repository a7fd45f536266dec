using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Onnx;

namespace Microsoft.ML.ConvNet.Tests.Models;

/// <summary>The small CNN's width and dropout parameters: shapes, parameter counts and ONNX export.</summary>
[TestClass]
public sealed class SmallCnnTests
{
    /// <summary>Parameters of width w, 28×28 inputs, 10 classes: two convolutions with batch norms, then 2w·7·7 → 4w → 10.</summary>
    private static long Expected(int w) => (9 * w + w) + 2 * w + (9 * w * 2 * w + 2 * w) + 2 * 2 * w + (2 * w * 49 * 4 * w + 4 * w) + (4 * w * 10 + 10);

    [TestMethod]
    [DataRow(32)]
    [DataRow(16)]
    [DataRow(48)]
    public void WidthScalesEveryLayer(int width)
    {
        using var model = SmallCnn.Create(width: width);
        Assert.AreEqual(Expected(width), model.ParameterCount());
        model.Eval();
        using var scope = new TensorScope();
        var y = model.Forward(Tensor.RandomNormal(new Shape(2, 1, 28, 28), new Random(1)));
        CollectionAssert.AreEqual(new[] { 2, 10 }, y.Shape.Dims.ToArray());
    }

    [TestMethod]
    public void TheDefaultIsTheDocumentedNetwork()
    {
        using var model = SmallCnn.Create();
        Assert.AreEqual(421_834, model.ParameterCount());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SmallCnn.Create(width: 0));
    }

    [TestMethod]
    public void AnyWidthWithoutDropoutExportsToOnnxAndScoresTheSame()
    {
        using var model = SmallCnn.Create(dropout: 0f, width: 8);
        var (difference, scale) = OnnxRuntimeRunner.MaxAbsDifference(model, 1, 28, 28);
        Assert.IsLessThan(1e-5 * Math.Max(1, scale), difference, $"max |difference| {difference} at scale {scale}");
    }
}
