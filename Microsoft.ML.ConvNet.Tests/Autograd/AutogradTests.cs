using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Autograd;

[TestClass]
public sealed class AutogradTests
{
    [TestMethod]
    public void ChainRuleOnAScalarFunction()
    {
        // f(x, w) = sum((x·w + 1)²); df/dw = 2(x·w+1)·x, df/dx = 2(x·w+1)·w
        using var x = Leaf([1f, 2f, 3f]);
        using var w = Leaf([0.5f, -1f, 2f]);
        using (new TensorScope())
        {
            ((x * w + 1f).Square()).Sum().Backward();
        }
        CollectionAssert.AreEqual(new[] { 3f * 1, -2f * 2, 14f * 3 }, w.Grad!.ToArray());
        CollectionAssert.AreEqual(new[] { 3f * 0.5f, -2f * -1, 14f * 2 }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void GradientsAccumulateAcrossBackwardCallsAndZeroGradResets()
    {
        using var w = Leaf([1f, 2f]);
        for (int i = 0; i < 3; i++)
        {
            using var scope = new TensorScope();
            (w * 2f).Sum().Backward();
        }
        CollectionAssert.AreEqual(new[] { 6f, 6f }, w.Grad!.ToArray());
        w.ZeroGrad();
        CollectionAssert.AreEqual(new[] { 0f, 0f }, w.Grad!.ToArray());
    }

    [TestMethod]
    public void ATensorUsedTwiceGetsBothContributions()
    {
        using var x = Leaf([3f]);
        using (new TensorScope())
        {
            var y = x * x + x; // dy/dx = 2x + 1
            y.Sum().Backward();
        }
        Assert.AreEqual(7f, x.Grad!.ToArray()[0]);
    }

    [TestMethod]
    public void DetachAndNoGradStopTheGraph()
    {
        using var x = Leaf([2f]);
        using (new TensorScope())
        {
            var y = x.Detach() * x; // only the second factor carries the gradient
            y.Sum().Backward();
        }
        Assert.AreEqual(2f, x.Grad!.ToArray()[0]);

        using (new TensorScope())
        using (new NoGradScope())
        {
            var y = x * x;
            Assert.IsFalse(y.RequiresGrad);
            Assert.IsNull(y.GradFn);
            Assert.ThrowsExactly<InvalidOperationException>(() => y.Sum().Backward());
        }
    }

    [TestMethod]
    public void BackwardOnANonScalarNeedsAGradient()
    {
        using var x = Leaf([1f, 2f]);
        using var scope = new TensorScope();
        var y = x * 3f;
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        StringAssert.Contains(ex.Message, "[2]");
        y.Backward(Tensor.FromArray([1f, 10f], 2));
        CollectionAssert.AreEqual(new[] { 3f, 30f }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void TheGraphIsReleasedAfterBackward()
    {
        using var x = Leaf([1f]);
        using var scope = new TensorScope();
        var y = (x * 2f).Exp();
        y.Sum().Backward();
        Assert.IsNull(y.GradFn);
    }

    [TestMethod]
    public void ScopeDisposesIntermediatesAndKeepsMovedResults()
    {
        long before = BufferPool.Stats.RentedBytes;
        Tensor kept;
        Tensor dropped;
        using (var outer = new TensorScope())
        {
            using (var inner = new TensorScope())
            {
                dropped = Tensor.Ones(new Shape(100)) * 2f;
                kept = (Tensor.Ones(new Shape(100)) * 3f).MoveToOuterScope();
            }
            Assert.IsTrue(dropped.IsDisposed);
            Assert.IsFalse(kept.IsDisposed);
            Assert.AreEqual(300f, kept.Sum().ToScalar());
        }
        Assert.IsTrue(kept.IsDisposed);
        Assert.AreEqual(before, BufferPool.Stats.RentedBytes);
    }

    [TestMethod]
    public void TrainingStepsDoNotGrowMemory()
    {
        var rng = new Random(1);
        using var w = Leaf(Enumerable.Range(0, 64 * 32).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());
        using var x = Tensor.RandomNormal(new Shape(16, 64), rng).Unscope();
        long allocatedAfterWarmup = 0, rentedAfterWarmup = 0;
        for (int step = 0; step < 2000; step++)
        {
            using (var scope = new TensorScope())
            {
                var h = Functional.Tanh(x.MatMulNoGemm(w.Reshape(64, 32)));
                var loss = h.Square().Mean();
                w.ZeroGrad();
                loss.Backward();
                using (new NoGradScope())
                {
                    w.Backend.Axpy(-0.1f, w.Grad!, w);
                }
            }
            if (step == 10)
            {
                allocatedAfterWarmup = BufferPool.Stats.AllocatedBytes;
                rentedAfterWarmup = BufferPool.Stats.RentedBytes;
            }
        }
        Assert.AreEqual(allocatedAfterWarmup, BufferPool.Stats.AllocatedBytes, "the pool allocated new buffers after warm-up");
        Assert.AreEqual(rentedAfterWarmup, BufferPool.Stats.RentedBytes, "tensors leaked out of the step scopes");
    }

    private static Tensor Leaf(float[] values)
    {
        var t = Tensor.FromArray(values, values.Length).Unscope();
        t.RequiresGrad = true;
        return t;
    }
}

internal static class MatMulTestExtensions
{
    /// <summary>[m, k]·[k, n] built from broadcasting and reductions, so this test does not depend on GEMM.</summary>
    public static Tensor MatMulNoGemm(this Tensor a, Tensor b)
        => (a.Reshape(a.Shape[0], a.Shape[1], 1) * b.Reshape(1, b.Shape[0], b.Shape[1])).Sum(1);
}
