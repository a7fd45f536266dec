using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Onnx;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.Layers;

[TestClass]
public sealed class InputStandardizationTests
{
    [TestMethod]
    public void MeasureGivesEachChannelsMeanAndPopulationDeviation()
    {
        // Two 2×2 images of 3 channels: channel 0 holds 0..7, channel 1 is constant 5, channel 2 is ±2.
        var images = new float[2 * 3 * 4];
        for (int n = 0; n < 2; n++)
        {
            for (int p = 0; p < 4; p++)
            {
                images[(n * 3 + 0) * 4 + p] = n * 4 + p;
                images[(n * 3 + 1) * 4 + p] = 5;
                images[(n * 3 + 2) * 4 + p] = p % 2 == 0 ? 2 : -2;
            }
        }
        var data = new ImageDataset(images, new Shape(3, 2, 2), [0, 1], ["a", "b"]);
        using var layer = InputStandardization.Measure(data);
        CollectionAssert.AreEqual(new[] { 3.5f, 5f, 0f }, layer.Mean.ToArray());
        var std = layer.Std.ToArray();
        Assert.AreEqual(Math.Sqrt(21.0 / 4), std[0], 1e-6, "population deviation of 0..7");
        Assert.AreEqual(1f, std[1], "a constant channel is only shifted");
        Assert.AreEqual(2f, std[2], 1e-6);
        Assert.AreEqual(new Shape(1, 3, 1, 1), layer.Mean.Shape);
    }

    [TestMethod]
    public void ForwardMatchesThePlainFormulaAndExportsToOnnx()
    {
        using var layer = new InputStandardization([0.5f, -1f], [0.25f, 2f]);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 2, 3, 3), new Random(3));
        var y = layer.Forward(x).ToArray();
        var xs = x.ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            int c = i / 9 % 2;
            float expected = (xs[i] - layer.Mean.ToArray()[c]) / layer.Std.ToArray()[c];
            Assert.AreEqual(expected, y[i], 1e-6f, $"element {i}");
        }
        CollectionAssert.AreEqual(new[] { "mean", "std" }, layer.StateDict().Keys.ToArray(), "saved with the network");
        Assert.AreEqual(0, layer.Parameters().Count(), "nothing to train");
        var (difference, _) = OnnxRuntimeRunner.MaxAbsDifference(new Sequential(new InputStandardization([0.2f, 0.4f], [0.3f, 0.5f]), new Conv2d(2, 3, 3)), 2, 8, 8);
        Assert.IsTrue(difference < 1e-5f, $"ONNX Runtime differs by {difference}");
    }

    [TestMethod]
    public void BadStatisticsAndInputsAreRefusedByName()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InputStandardization([0f, 0f], [1f, 0f])).Message, "channel 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new InputStandardization([0f], [1f, 1f])).Message, "one mean and one standard deviation per channel");
        using var layer = new InputStandardization([0f, 0f, 0f], [1f, 1f, 1f]);
        using var scope = new TensorScope();
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => layer.Forward(Tensor.Zeros(new Shape(1, 1, 4, 4))));
        StringAssert.Contains(e.Message, "InputStandardization");
    }
}
