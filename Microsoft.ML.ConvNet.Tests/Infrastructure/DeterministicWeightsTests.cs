using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

[TestClass]
public sealed class DeterministicWeightsTests
{
    [TestMethod]
    public void MatchesThePythonTwin()
    {
        // Printed by build/reference/zoo_weights.py: values('features.0.weight', (2,3,1,1)) and input_tensor((5,)).
        CollectionAssert.AreEqual(
            new[] { 0.3697303533554077f, 1.0703022480010986f, 1.3608232736587524f, 1.3075954914093018f, -0.8953942656517029f, -0.27678224444389343f },
            DeterministicWeights.Values("features.0.weight", new Shape(2, 3, 1, 1)));
        using var input = DeterministicWeights.Input(5);
        CollectionAssert.AreEqual(new[] { 0.6356050968170166f, 0.8192038536071777f, 0.9250104427337646f, 0.5017143487930298f, -0.7598323822021484f }, input.ToArray());
    }
}
