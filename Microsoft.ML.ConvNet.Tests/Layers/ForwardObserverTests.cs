using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Layers;

[TestClass]
public sealed class ForwardObserverTests
{
    [TestMethod]
    public void ObserverSeesEveryModuleChildrenFirstUntilDisposed()
    {
        RandomSource.ManualSeed(1);
        using var model = new Sequential(new Linear(4, 3), new ReLU());
        using var scope = new TensorScope();
        var x = Tensor.Ones(new Shape(2, 4));
        var seen = new List<string>();
        using (Module.ObserveForward((m, input, output) => seen.Add($"{m.GetType().Name} {input.Shape}->{output.Shape}")))
        {
            model.Forward(x);
        }
        CollectionAssert.AreEqual(new[] { "Linear [2, 4]->[2, 3]", "ReLU [2, 3]->[2, 3]", "Sequential [2, 4]->[2, 3]" }, seen);
        model.Forward(x);
        Assert.HasCount(3, seen, "no calls after the observer is disposed");
    }
}
