using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>
/// Training-mode batch norm → (+ residual) → ReLU/ReLU6 as one recorded operation: the output, every gradient and the
/// running statistics against the layer-by-layer path, in single layers, residual blocks and whole networks; and the
/// memory it saves.
/// </summary>
[TestClass]
public sealed class BatchNormActivationFusionTests
{
    public static IEnumerable<object[]> Networks =>
    [
        ["conv-bn-relu", (Func<Module>)(() => new Sequential(new Conv2d(3, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new Conv2d(8, 4, 3), new BatchNorm2d(4), new ReLU6()))],
        ["basic block", (Func<Module>)(() => new BasicBlock(6, 6))],
        ["basic block, projection", (Func<Module>)(() => new BasicBlock(6, 12, 2, ResNet.MakeDownsample(6, 12, 2)))],
        ["bottleneck", (Func<Module>)(() => new Bottleneck(16, 4))],
        ["bottleneck, projection", (Func<Module>)(() => new Bottleneck(8, 4, 2, ResNet.MakeDownsample(8, 16, 2)))],
        ["resnet18", (Func<Module>)(() => ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 5, SmallInput: true)))],
        ["mobilenet_v2", (Func<Module>)(() => ModelZoo.Create("mobilenet_v2", new ModelOptions(NumClasses: 5, SmallInput: true)))],
    ];

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void FusedTrainingStepMatchesLayerByLayer(string name, Func<Module> create)
    {
        var unfused = Step(create, fused: false);
        var fused = Step(create, fused: true);
        Assert.HasCount(unfused.Count, fused);
        foreach (var (key, expected) in unfused)
        {
            float scale = Math.Max(1, expected.Max(Math.Abs));
            TensorAssert.AreClose(expected, fused[key], 1e-5 * scale, 1e-4, $"{name}: {key}");
        }
    }

    [TestMethod]
    public void FusedBlocksKeepFewerActivations()
    {
        long Held(bool fused)
        {
            RandomSource.ManualSeed(2);
            using var model = ModelZoo.Create("resnet50", new ModelOptions(NumClasses: 10, SmallInput: true));
            using var x = Tensor.RandomNormal(new Shape(2, 3, 32, 32), new Random(2)).Unscope();
            bool was = BatchNormBase.FusedTraining;
            BatchNormBase.FusedTraining = fused;
            try
            {
                long before = BufferPool.Stats.RentedBytes;
                using var scope = new TensorScope();
                var y = model.Forward(x);
                long held = BufferPool.Stats.RentedBytes - before;
                y.Sum().Backward();
                return held;
            }
            finally
            {
                BatchNormBase.FusedTraining = was;
            }
        }
        long unfused = Held(false), fused = Held(true);
        Console.WriteLine($"resnet50 training forward holds {unfused / 1024.0 / 1024:F1} MiB layer by layer, {fused / 1024.0 / 1024:F1} MiB fused");
        Assert.IsLessThan(0.75 * unfused, fused, $"fused {fused} bytes against {unfused}");
    }

    [TestMethod]
    public void ProjectedShortcutIsNotHeldForTheBackwardPass()
    {
        // The same block with an identity and with a projection shortcut: the projection adds its convolution's output
        // (the batch norm's input) and the batch norm's two statistics, but not the batch norm's output, which the fused
        // batch norm of the block only added.
        const int N = 2, C = 16, H = 6, W = 6;
        long Held(Module block)
        {
            using var scope = new TensorScope();
            var x = Tensor.RandomNormal(new Shape(N, C, H, W), new Random(6));
            x.RequiresGrad = true;
            long before = BufferPool.Stats.RentedBytes;
            var y = block.Forward(x);
            long held = BufferPool.Stats.RentedBytes - before;
            y.Sum().Backward();
            return held;
        }
        RandomSource.ManualSeed(4);
        using var identity = new Bottleneck(C, C / 4);
        using var projection = new Bottleneck(C, C / 4, 1, ResNet.MakeDownsample(C, C, 1));
        Assert.AreEqual((N * C * H * W + 2 * C) * 4L, Held(projection) - Held(identity));
    }

    [TestMethod]
    public void BackwardWritesTheInputGradientOverTheOutputGradient()
    {
        // The engine's gradient for the output is free once read, so on the CPU the batch norm's dx takes its buffer,
        // except where the fused residual's gradient is that buffer.
        using var bn = new BatchNorm2d(3);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 3, 4, 4), new Random(8));
        x.RequiresGrad = true;
        var residual = x * 0.5f;
        foreach (var (what, y, dxIsDy) in new[]
        {
            ("batch norm", bn.Forward(x), true),
            ("batch norm + ReLU", bn.TryForwardFused(x, FusedActivation.Relu)!, true),
            ("batch norm + residual + ReLU", bn.TryForwardFused(x, FusedActivation.Relu, residual)!, false),
        })
        {
            var dy = Tensor.Ones(y.Shape);
            var grads = y.GradFn!.Backward(dy);
            Assert.AreEqual(dxIsDy, ReferenceEquals(grads[0], dy), what);
            if (grads.Length == 4)
            {
                Assert.AreSame(dy, grads[3], $"{what}: the residual's gradient");
            }
        }
    }

    [TestMethod]
    public void ReleasedValuesKeepTheTensorInTheGraph()
    {
        RandomSource.ManualSeed(5);
        using var bn = new BatchNorm2d(3);
        using var fusedBn = new BatchNorm2d(3);
        float[] Gradient(bool release)
        {
            using var scope = new TensorScope();
            var x = Tensor.RandomNormal(new Shape(2, 3, 4, 4), new Random(7));
            x.RequiresGrad = true;
            var shortcut = bn.Forward(x * 2f);
            var y = fusedBn.TryForwardFused(x, FusedActivation.Relu, shortcut)!;
            if (release)
            {
                Module.ReleaseUnreadValues(shortcut);
                Assert.IsTrue(shortcut.IsDisposed, "a batch norm's backward does not read its output");
                Assert.IsFalse(shortcut.IsLeaf, "the tensor stays in the graph");
                Module.ReleaseUnreadValues(y);
                Assert.IsFalse(y.IsDisposed, "the fused activation's backward reads its output");
            }
            y.Sum().Backward();
            return x.Grad!.ToArray();
        }
        TensorAssert.AreClose(Gradient(release: false), Gradient(release: true), 0, 0, "input gradient");
    }

    [TestMethod]
    public void ObservedOrEvaluationModeLayersAreNotFused()
    {
        using var bn = new BatchNorm2d(4);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 4, 3, 3), new Random(1));
        x.RequiresGrad = true;
        using (Module.ObserveForward((_, _, _) => { }))
        {
            Assert.IsNull(bn.TryForwardFused(x, FusedActivation.Relu), "an observer must see each layer");
        }
        Assert.IsNull(bn.TryForwardFused(x, FusedActivation.Silu), "SiLU's derivative needs its argument");
        Assert.IsNull(bn.TryForwardFused(x, FusedActivation.Relu, Tensor.Zeros(new Shape(2, 4, 2, 2))), "a mismatched residual is left to the block's error");
        bn.Eval();
        Assert.IsNull(bn.TryForwardFused(x, FusedActivation.Relu), "evaluation mode");
        bn.Train();
        Assert.IsNotNull(bn.TryForwardFused(x, FusedActivation.Relu));
        Assert.AreEqual(1f, bn.NumBatchesTracked!.ToScalar(), "the fused pass counts the batch");
    }

    /// <summary>One training-mode forward and backward; returns the output, the input's and every parameter's gradient and the buffers.</summary>
    private static Dictionary<string, float[]> Step(Func<Module> create, bool fused)
    {
        RandomSource.ManualSeed(3);
        using var model = create();
        model.Train();
        bool was = BatchNormBase.FusedTraining;
        BatchNormBase.FusedTraining = fused;
        try
        {
            int channels = model.Parameters().First().Shape[1];
            using var scope = new TensorScope();
            var x = Tensor.RandomNormal(new Shape(3, channels, 12, 12), new Random(4));
            x.RequiresGrad = true;
            var y = model.Forward(x);
            using var weights = Tensor.RandomNormal(y.Shape, new Random(5)).Unscope();
            (y * weights).Sum().Backward();
            var result = new Dictionary<string, float[]> { ["output"] = y.ToArray(), ["input gradient"] = x.Grad!.ToArray() };
            foreach (var (key, p) in model.NamedParameters())
            {
                result["grad " + key] = p.Grad!.ToArray();
            }
            foreach (var (key, b) in model.NamedBuffers())
            {
                result[key] = b.ToArray();
            }
            return result;
        }
        finally
        {
            BatchNormBase.FusedTraining = was;
        }
    }
}
