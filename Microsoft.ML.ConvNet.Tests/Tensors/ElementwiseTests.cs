using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests;

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
}
