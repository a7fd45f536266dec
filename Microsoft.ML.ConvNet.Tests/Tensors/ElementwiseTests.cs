using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Tensors;

[TestClass]
public sealed class ElementwiseTests
{
    [TestMethod]
    public void BroadcastAddAndMulGradients()
    {
        var rng = new Random(1);
        using var a = GradCheck.Leaf(rng, 2, 3, 4, 5);
        using var b = GradCheck.Leaf(rng, 1, 3, 1, 1);
        GradCheck.Check(t => t[0] * t[1] + t[1], [a, b]);
    }

    [TestMethod]
    public void SubtractionGradientsWithEqualAndBroadcastShapes()
    {
        var rng = new Random(2);
        using var a = GradCheck.Leaf(rng, 3, 4);
        using var b = GradCheck.Leaf(rng, 3, 4);
        using var row = GradCheck.Leaf(rng, 4);
        GradCheck.Check(t => t[0] - t[1], [a, b]);
        GradCheck.Check(t => t[0] - t[1], [a, row]);
        GradCheck.Check(t => t[1] - t[0], [a, row]);
    }

    [TestMethod]
    public void ScalarArithmeticGradients()
    {
        using var a = GradCheck.Leaf(new Random(3), 2, 5);
        GradCheck.Check(t => (t[0] * 3f + 1f) / 2f - t[0].Neg(), [a]);
    }
}
