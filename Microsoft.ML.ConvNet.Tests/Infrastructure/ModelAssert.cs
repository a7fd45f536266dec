using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>Assertions about whole models after a backward pass.</summary>
public static class ModelAssert
{
    /// <summary>Every parameter has a gradient of its own shape with only finite values.</summary>
    public static void EveryParameterHasFiniteGradient(Module model, string what)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = new NoGradScope();
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.IsNotNull(p.Grad, $"{what}: {name} has no gradient");
            Assert.AreEqual(p.Shape, p.Grad.Shape, $"{what}: {name}");
            // One reduction instead of copying every gradient out: a NaN or infinity anywhere makes the sum non-finite.
            using var sum = p.Grad.Sum();
            Assert.IsTrue(float.IsFinite(sum.ToScalar()), $"{what}: {name} has a non-finite gradient");
        }
    }
}
