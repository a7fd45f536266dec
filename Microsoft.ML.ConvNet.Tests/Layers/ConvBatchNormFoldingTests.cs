using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>
/// Convolution → evaluation-mode batch norm (→ residual) (→ activation) folded into one convolution: against a plain-loop
/// oracle, against the layer-by-layer path in whole networks, and the cache of folded filters going stale when a
/// parameter or running statistic changes.
/// </summary>
[TestClass]
public sealed class ConvBatchNormFoldingTests
{
    /// <summary>kernel, stride, padding, groups, bias, affine batch norm, batch, input size, channels in and out.</summary>
    public static IEnumerable<object[]> Geometries =>
    [
        [3, 1, 1, 1, false, true, 2, 9, 5, 7],   // Winograd-sized 3×3
        [3, 1, 1, 1, true, true, 1, 13, 16, 24],
        [1, 1, 0, 1, false, true, 3, 7, 12, 10],  // pointwise
        [1, 2, 0, 1, false, false, 2, 9, 6, 8],   // strided 1×1 (shortcut projection)
        [3, 2, 1, 1, true, true, 1, 11, 4, 6],    // strided 3×3
        [7, 2, 3, 1, false, true, 1, 19, 3, 8],   // the 7×7 stem
        [3, 1, 1, 6, false, true, 2, 10, 6, 6],   // depthwise
        [5, 2, 2, 4, true, true, 1, 12, 8, 12],   // grouped 5×5
    ];

    [TestMethod]
    [DynamicData(nameof(Geometries))]
    public void FoldedConvolutionMatchesPlainLoops(int kernel, int stride, int padding, int groups, bool bias, bool affine, int n, int size, int cin, int cout)
    {
        var rng = new Random(kernel * 100 + stride * 10 + groups);
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        using var conv = new Conv2d(cin, cout, kernel, stride, padding, groups: groups, bias: bias, random: rng);
        using var bn = new BatchNorm2d(cout, affine: affine);
        RandomStatistics(bn, rng);
        bn.Eval();
        var x = Tensor.RandomNormal(new Shape(n, cin, size, size), rng);
        var g = ConvGeometry.Create(x.Shape, conv.Weight.Shape, stride, stride, padding, padding, 1, 1, groups);
        var z = NaiveOps.Conv2dForward(x.ToArray(), conv.Weight.ToArray(), conv.Bias?.ToArray(), g);
        var residual = Tensor.RandomNormal(new Shape(n, cout, g.OH, g.OW), rng);
        var r = residual.ToArray();
        float[] mean = bn.RunningMean!.ToArray(), variance = bn.RunningVar!.ToArray();
        float[]? gamma = bn.Weight?.ToArray(), beta = bn.Bias?.ToArray();
        int plane = g.OH * g.OW;
        foreach (var activation in Enum.GetValues<FusedActivation>())
        {
            foreach (bool withResidual in new[] { false, true })
            {
                var expected = new float[z.Length];
                for (int i = 0; i < z.Length; i++)
                {
                    int k = i / plane % cout;
                    double v = (z[i] - mean[k]) / Math.Sqrt(variance[k] + bn.Eps) * (gamma?[k] ?? 1) + (beta?[k] ?? 0);
                    v += withResidual ? r[i] : 0;
                    expected[i] = (float)(activation switch
                    {
                        FusedActivation.Relu => Math.Max(v, 0),
                        FusedActivation.Relu6 => Math.Clamp(v, 0, 6),
                        FusedActivation.Silu => v / (1 + Math.Exp(-v)),
                        _ => v,
                    });
                }
                Assert.IsTrue(ConvBatchNormFolding.CanFold(conv, bn, x, withResidual ? residual : null));
                var y = ConvBatchNormFolding.Forward(conv, bn, x, activation, withResidual ? residual : null);
                TensorAssert.AreClose(expected, new Shape(n, cout, g.OH, g.OW), y, 1e-4 * (cin / groups * kernel * kernel + 1), 1e-4,
                    $"{kernel}×{kernel} stride {stride} groups {groups}, {activation}, residual {withResidual}");
            }
        }
    }

    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("resnet50")]
    [DataRow("mobilenet_v2")]
    [DataRow("efficientnet_b0")]
    public void FoldedNetworksMatchLayerByLayer(string name)
    {
        RandomSource.ManualSeed(5);
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10));
        var rng = new Random(9);
        foreach (var bn in model.NamedModules().Select(m => m.Value).OfType<BatchNorm2d>())
        {
            RandomStatistics(bn, rng);
        }
        model.Eval();
        using var x = Tensor.RandomNormal(new Shape(2, 3, 64, 64), new Random(4)).Unscope();
        var layered = Run(model, x, fold: false);
        var folded = Run(model, x, fold: true);
        float scale = layered.Max(Math.Abs);
        TensorAssert.AreClose(layered, folded, 1e-4 * Math.Max(1, scale), 1e-3, $"{name} folded against layer by layer");
    }

    /// <summary>
    /// The inverted residual in one pass over bands of rows: many bands with their halo rows, a partial last band, odd
    /// sizes, both strides (the residual with stride 1), batch 1 and 2; and channels last on small maps (both strides,
    /// 180 hidden channels, not a multiple of 8); against the layers one by one.
    /// </summary>
    [TestMethod]
    [DataRow(1, 24, 24, 45, 57, 1, 6)]
    [DataRow(2, 24, 32, 45, 57, 2, 6)]
    [DataRow(1, 16, 24, 112, 112, 2, 6)]
    [DataRow(2, 32, 32, 9, 7, 1, 4)]
    [DataRow(3, 30, 24, 14, 13, 2, 6)]
    public void InvertedResidualInOnePassMatchesLayerByLayer(int n, int cin, int cout, int h, int w, int stride, int expand)
    {
        RandomSource.ManualSeed(11);
        using var block = new InvertedResidual(cin, cout, stride, expand);
        CheckFoldedBlock(block, new Shape(n, cin, h, w), seed: 12);
    }

    /// <summary>EfficientNet's MBConv with its expansion and depthwise convolution in one pass (SiLU, 3×3 and 5×5, both strides, bands of rows and channels last).</summary>
    [TestMethod]
    [DataRow(1, 24, 24, 45, 57, 3, 1)]
    [DataRow(2, 16, 24, 37, 30, 5, 2)]
    [DataRow(2, 40, 40, 9, 7, 5, 1)]
    [DataRow(2, 20, 24, 11, 10, 5, 2)]
    public void MBConvInOnePassMatchesLayerByLayer(int n, int cin, int cout, int h, int w, int kernel, int stride)
    {
        RandomSource.ManualSeed(21);
        using var block = new MBConv(cin, cout, kernel, stride, 6, 0.1f);
        CheckFoldedBlock(block, new Shape(n, cin, h, w), seed: 22);
    }

    /// <summary>The block in evaluation mode with random batch-norm statistics, folded against layer by layer.</summary>
    private static void CheckFoldedBlock(Module block, Shape input, int seed)
    {
        var rng = new Random(seed);
        foreach (var bn in block.NamedModules().Select(m => m.Value).OfType<BatchNorm2d>())
        {
            RandomStatistics(bn, rng);
        }
        block.Eval();
        using var x = Tensor.RandomNormal(input, rng).Unscope();
        var layered = Run(block, x, fold: false);
        var fused = Run(block, x, fold: true);
        TensorAssert.AreClose(layered, fused, 1e-4 * Math.Max(1, layered.Max(Math.Abs)), 1e-3, $"{block} on {x.Shape}");
    }

    [TestMethod]
    public void FoldedFiltersAreRebuiltWhenParametersOrStatisticsChange()
    {
        RandomSource.ManualSeed(2);
        var rng = new Random(2);
        using var model = new Sequential(new Conv2d(3, 8, 3, padding: 1, bias: true, random: rng), new BatchNorm2d(8), new ReLU());
        var conv = (Conv2d)model[0];
        var bn = (BatchNorm2d)model[1];
        RandomStatistics(bn, rng);
        using var x = Tensor.RandomNormal(new Shape(2, 3, 6, 6), rng).Unscope();
        void Check(string after)
        {
            model.Eval();
            TensorAssert.AreClose(Run(model, x, fold: false), Run(model, x, fold: true), 1e-5, 1e-4, $"after {after}");
        }
        Check("the first pass");
        Check("a second pass (cached filters)");

        conv.Weight.CopyFrom(Tensor.RandomNormal(conv.Weight.Shape, rng).ToArray());
        Check("new convolution filters");
        bn.Bias!.CopyFrom(Enumerable.Repeat(0.5f, 8).ToArray());
        Check("a new batch-norm shift");

        model.Train();
        using (var scope = new TensorScope())
        {
            model.Forward(x); // a training pass updates the running statistics
        }
        Check("a training pass");

        using (var sgd = new Sgd(model.Parameters(), 0.5f))
        {
            model.Train();
            using (var scope = new TensorScope())
            {
                sgd.ZeroGrad();
                model.Forward(x).Sum().Backward();
            }
            sgd.Step();
        }
        Check("an optimizer step");
        Init.Constant(bn.Weight!, 2f);
        Check("an initialiser");
    }

    [TestMethod]
    public void NothingIsFoldedWhileGradientsAreRecordedOrLayersObserved()
    {
        var rng = new Random(3);
        using var scope = new TensorScope();
        using var conv = new Conv2d(2, 4, 3, padding: 1, random: rng);
        using var bn = new BatchNorm2d(4);
        bn.Eval();
        var x = Tensor.RandomNormal(new Shape(1, 2, 5, 5), rng);
        Assert.IsFalse(ConvBatchNormFolding.CanFold(conv, bn, x), "trainable parameters record their gradients");
        conv.Freeze();
        bn.Freeze();
        Assert.IsTrue(ConvBatchNormFolding.CanFold(conv, bn, x), "frozen layers, input without gradient");
        using (new NoGradScope())
        {
            Assert.IsTrue(ConvBatchNormFolding.CanFold(conv, bn, x), "inference");
        }
        bn.Train();
        Assert.IsFalse(ConvBatchNormFolding.CanFold(conv, bn, x), "training mode uses batch statistics");
        bn.Eval();
        using (Module.ObserveForward((_, _, _) => { }))
        {
            Assert.IsFalse(ConvBatchNormFolding.CanFold(conv, bn, x), "an observer must see every layer");
        }
        var input = Tensor.RandomNormal(new Shape(1, 2, 5, 5), rng);
        input.RequiresGrad = true;
        Assert.IsFalse(ConvBatchNormFolding.CanFold(conv, bn, input), "the input needs a gradient");
        bn.Unfreeze();
        Assert.IsFalse(ConvBatchNormFolding.CanFold(conv, bn, x), "the batch norm's parameters need gradients");
    }

    [TestMethod]
    public void FoldedBlockReportsAMissingProjection()
    {
        using var block = new BasicBlock(8, 16, stride: 2);
        block.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => block.Forward(Tensor.RandomNormal(new Shape(1, 8, 6, 6), new Random(3))));
        StringAssert.Contains(e.Message, "[1, 16, 3, 3]");
        StringAssert.Contains(e.Message, "[1, 8, 6, 6]");
        StringAssert.Contains(e.Message, "downsample");
    }

    [TestMethod]
    public void InferenceFreesIntermediatesAsItGoes()
    {
        RandomSource.ManualSeed(1);
        using var model = ModelZoo.Create("resnet18", new ModelOptions(NumClasses: 10));
        model.Eval();
        using var x = Tensor.RandomNormal(new Shape(1, 3, 32, 32), new Random(1)).Unscope();
        int held;
        float[] expected;
        using (var scope = new TensorScope())
        using (new NoGradScope())
        {
            var y = model.Forward(x);
            held = scope.Count;
            expected = y.ToArray();
        }
        Assert.IsTrue(held <= 4, $"a forward pass without gradients should leave only its output and a few views, left {held} tensors");
        using (var scope = new TensorScope())
        {
            model.Freeze();
            var y = model.Forward(x); // frozen: nothing recorded either
            Assert.IsTrue(scope.Count <= 4, $"frozen forward left {scope.Count} tensors");
            TensorAssert.AreClose(expected, y.ToArray(), 0, 0, "frozen forward against inference");
            model.Unfreeze();
            var recorded = model.Forward(x);
            Assert.IsTrue(scope.Count > 40, $"a recorded forward pass keeps what its backward pass reads ({scope.Count} tensors)");
            recorded.Sum().Backward();
            ModelAssert.EveryParameterHasFiniteGradient(model, "resnet18 after a recorded evaluation-mode pass");
        }
    }

    private static float[] Run(Module model, Tensor x, bool fold)
    {
        ConvBatchNormFolding.Enabled = fold;
        try
        {
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            return model.Forward(x).ToArray();
        }
        finally
        {
            ConvBatchNormFolding.Enabled = true;
        }
    }

    /// <summary>Running means around 0, variances in [0.5, 1.5], and (when affine) γ in [0.5, 1.5] and β around 0.</summary>
    private static void RandomStatistics(BatchNormBase bn, Random rng)
    {
        float[] Values(Func<float> f) => Enumerable.Range(0, bn.NumFeatures).Select(_ => f()).ToArray();
        bn.RunningMean!.CopyFrom(Values(() => 0.4f * ((float)rng.NextDouble() - 0.5f)));
        bn.RunningVar!.CopyFrom(Values(() => 0.5f + (float)rng.NextDouble()));
        bn.Weight?.CopyFrom(Values(() => 0.5f + (float)rng.NextDouble()));
        bn.Bias?.CopyFrom(Values(() => 0.4f * ((float)rng.NextDouble() - 0.5f)));
    }
}
