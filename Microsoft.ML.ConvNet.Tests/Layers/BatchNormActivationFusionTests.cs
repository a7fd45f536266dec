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
