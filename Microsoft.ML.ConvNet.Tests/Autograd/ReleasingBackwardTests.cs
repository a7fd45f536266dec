using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Autograd;

/// <summary><see cref="Tensor.BackwardReleasingIntermediates"/>: the same gradients as <see cref="Tensor.Backward"/>, intermediates freed as it goes.</summary>
[TestClass]
public sealed class ReleasingBackwardTests
{
    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("mobilenet_v2")]
    [DataRow("densenet121")]
    public void GradientsEqualThoseOfTheOrdinaryBackwardPass(string name)
    {
        var ordinary = Gradients(name, release: false);
        var releasing = Gradients(name, release: true);
        foreach (var (key, expected) in ordinary)
        {
            TensorAssert.AreClose(expected, releasing[key], 0, 0, $"{name}: {key}");
        }
    }

    [TestMethod]
    public void IntermediatesOfTheCurrentScopeAreFreedAndTheRootAndOuterTensorsKept()
    {
        using var outer = new TensorScope();
        var w = Tensor.RandomNormal(new Shape(4, 4), new Random(1)).Unscope();
        w.RequiresGrad = true;
        var fromOuterScope = w * 2f;
        Tensor hidden, output;
        using (new TensorScope())
        {
            hidden = Functional.Relu(fromOuterScope * 3f);
            output = (hidden * hidden).Sum();
            output.BackwardReleasingIntermediates();
            Assert.IsTrue(hidden.IsDisposed, "an intermediate of the current scope is freed");
            Assert.IsFalse(output.IsDisposed, "the root stays");
            Assert.IsFalse(fromOuterScope.IsDisposed, "a tensor of an enclosing scope may still be held by the caller");
            Assert.IsNotNull(w.Grad);
        }
        w.Dispose();
    }

    [TestMethod]
    public void ATrainingStepPeaksLowerWhenItReleases()
    {
        long Peak(bool release)
        {
            RandomSource.ManualSeed(1);
            using var model = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10, SmallInput: true));
            using var x = Tensor.RandomNormal(new Shape(8, 3, 32, 32), new Random(2)).Unscope();
            using var scope = new TensorScope();
            BufferPool.ResetPeak();
            long before = BufferPool.Stats.RentedBytes;
            var loss = Loss.CrossEntropy(model.Forward(x), [0, 1, 2, 3, 4, 5, 6, 7]);
            if (release)
            {
                loss.BackwardReleasingIntermediates();
            }
            else
            {
                loss.Backward();
            }
            return BufferPool.Stats.PeakRentedBytes - before;
        }
        long ordinary = Peak(false), releasing = Peak(true);
        Console.WriteLine($"resnet18 training step peak: {ordinary / 1048576.0:F1} MiB, releasing {releasing / 1048576.0:F1} MiB");
        Assert.IsLessThan(ordinary, releasing);
    }

    private static Dictionary<string, float[]> Gradients(string name, bool release)
    {
        RandomSource.ManualSeed(7);
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 5, SmallInput: true));
        using var x = Tensor.RandomNormal(new Shape(2, 3, 32, 32), new Random(3)).Unscope();
        using var scope = new TensorScope();
        var loss = Loss.CrossEntropy(model.Forward(x), [1, 4]);
        if (release)
        {
            loss.BackwardReleasingIntermediates();
        }
        else
        {
            loss.Backward();
        }
        return model.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Grad!.ToArray());
    }
}
