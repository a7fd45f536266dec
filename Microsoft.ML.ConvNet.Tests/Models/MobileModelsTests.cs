using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Models;

/// <summary>
/// MobileNet v1/v2/v3, ShuffleNet v2, EfficientNet-B0 and Xception against torchvision 0.14 (and, for MobileNet v1 and
/// Xception, which torchvision lacks, against the same networks built in PyTorch): parameter counts, state-dict names
/// and shapes, eval-mode logits with deterministic weights (Fixtures/zoo, build/reference/make_zoo_fixtures_mobile.py),
/// and training-mode forward/backward on 32×32 inputs with the small-input stem.
/// </summary>
[TestClass]
public sealed class MobileModelsTests
{
    private static Random Rng() => new(20240601);


    [TestMethod]
    [DataRow("mobilenet_v1", 4_231_976L, 3_217_226L)]
    [DataRow("mobilenet_v2", 3_504_872L, 2_236_682L)]
    [DataRow("mobilenet_v3_small", 2_542_856L, 1_528_106L)]
    [DataRow("mobilenet_v3_large", 5_483_032L, 4_214_842L)]
    [DataRow("shufflenet_v2_x1_0", 2_278_604L, 1_263_854L)]
    [DataRow("efficientnet_b0", 5_288_548L, 4_020_358L)]
    [DataRow("xception", 22_855_952L, 20_827_442L)]
    public void ParameterCountsEqualPyTorch(string name, long count1000, long count10)
    {
        using (var m = ModelZoo.Create(name))
        {
            Assert.AreEqual(count1000, m.ParameterCount(), $"{name}, 1000 classes");
        }
        using (var m = ModelZoo.Create(name, new ModelOptions(NumClasses: 10)))
        {
            Assert.AreEqual(count10, m.ParameterCount(), $"{name}, 10 classes");
        }
    }

    [TestMethod]
    [DataRow("mobilenet_v1")]
    [DataRow("mobilenet_v2")]
    [DataRow("mobilenet_v3_small")]
    [DataRow("mobilenet_v3_large")]
    [DataRow("shufflenet_v2_x1_0")]
    [DataRow("efficientnet_b0")]
    [DataRow("xception")]
    public void StateDictNamesAndShapesEqualPyTorch(string name)
    {
        using var m = ModelZoo.Create(name);
        ZooFixtures.AssertKeys(ZooFixtures.ReadKeys(name), m, name);
    }

    [TestMethod]
    [DataRow("mobilenet_v1", 1e-4)]
    [DataRow("mobilenet_v2", 1e-4)]
    [DataRow("mobilenet_v3_small", 1e-4)]
    [DataRow("mobilenet_v3_large", 1e-4)]
    [DataRow("shufflenet_v2_x1_0", 1e-4)]
    [DataRow("efficientnet_b0", 1e-4)]
    // With these weights Xception's twelve un-normalised residual sums grow the logits to about 1.8e4, so the
    // bound is relative: 1e-4 of the largest logit.
    [DataRow("xception", -1e-4)]
    public void EvalLogitsMatchPyTorch(string name, double tolerance)
    {
        using var m = ModelZoo.Create(name);
        ZooFixtures.AssertLogits(name, m, tolerance);
    }

    [TestMethod]
    [DataRow("mobilenet_v1")]
    [DataRow("mobilenet_v2")]
    [DataRow("mobilenet_v3_small")]
    [DataRow("mobilenet_v3_large")]
    [DataRow("shufflenet_v2_x1_0")]
    [DataRow("efficientnet_b0")]
    [DataRow("xception")]
    public void SmallInputTrainsForwardAndBackward(string name)
    {
        RandomSource.ManualSeed(7);
        using var m = ModelZoo.Create(name, new ModelOptions(NumClasses: 10, SmallInput: true));
        m.Train();
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 3, 32, 32), Rng());
        var y = m.Forward(x);
        Assert.AreEqual(new Shape(2, 10), y.Shape, name);
        var loss = (y * y).Mean();
        loss.Backward();
        Assert.IsTrue(float.IsFinite(loss.ToArray()[0]), $"{name}: loss {loss.ToArray()[0]}");
        ModelAssert.EveryParameterHasFiniteGradient(m, name);
        Assert.IsTrue(m.NamedParameters().Count(p => p.Value.Grad!.ToArray().Any(v => v != 0)) > m.NamedParameters().Count() / 2,
            $"{name}: most gradients are zero");
    }

    [TestMethod]
    [DataRow("mobilenet_v1")]
    [DataRow("mobilenet_v2")]
    [DataRow("mobilenet_v3_small")]
    [DataRow("shufflenet_v2_x1_0")]
    [DataRow("efficientnet_b0")]
    [DataRow("xception")]
    public void GrayscaleInputAndClassCountVariants(string name)
    {
        using var m = ModelZoo.Create(name, new ModelOptions(NumClasses: 7, InputChannels: 1, SmallInput: true));
        m.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var y = m.Forward(Tensor.RandomNormal(new Shape(1, 1, 32, 32), Rng()));
        Assert.AreEqual(new Shape(1, 7), y.Shape, name);
        Assert.IsTrue(y.ToArray().All(float.IsFinite), name);
    }

    [TestMethod]
    public void SmallInputStemsHaveStrideOne()
    {
        using var v1 = MobileNetV1.Create(new ModelOptions(SmallInput: true));
        Assert.AreEqual(new Size2(1, 1), ((Conv2d)((Sequential)v1.Features[0])[0]).Stride);
        using var v2 = MobileNetV2.Create(new ModelOptions());
        Assert.AreEqual(new Size2(2, 2), ((Conv2d)((Sequential)v2.Features[0])[0]).Stride);
        using var shuffle = ShuffleNetV2.X1_0(new ModelOptions(SmallInput: true));
        Assert.AreEqual(new Size2(1, 1), ((Conv2d)shuffle.Conv1[0]).Stride);
        Assert.IsFalse(shuffle.NamedChildren().Any(c => c.Key == "maxpool"), "the small-input ShuffleNet has no max pool");
        using var shuffleBig = ShuffleNetV2.X1_0(new ModelOptions());
        Assert.IsTrue(shuffleBig.NamedChildren().Any(c => c.Key == "maxpool"));
        using var xception = Xception.Create(new ModelOptions(SmallInput: true));
        Assert.AreEqual(new Size2(1, 1), xception.Conv1.Stride);

        // 32×32 reaches the classifier at 1×1 (v2: five stride-2 steps after a stride-1 stem).
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        using var v2Small = MobileNetV2.Create(new ModelOptions(SmallInput: true));
        v2Small.Eval();
        var maps = v2Small.Features.Forward(Tensor.RandomNormal(new Shape(1, 3, 32, 32), Rng()));
        Assert.AreEqual(new Shape(1, 1280, 2, 2), maps.Shape);
    }

    [TestMethod]
    public void DepthwiseConvolutionsUseGroupsEqualToChannels()
    {
        foreach (string name in new[] { "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "shufflenet_v2_x1_0", "efficientnet_b0", "xception" })
        {
            using var m = ModelZoo.Create(name);
            var depthwise = m.NamedModules().Select(p => p.Value).OfType<Conv2d>().Where(c => c.Groups > 1).ToList();
            Assert.IsTrue(depthwise.Count > 0, name);
            Assert.IsTrue(depthwise.All(c => c.Groups == c.InChannels && c.Groups == c.OutChannels), name);
        }
    }

    [TestMethod]
    public void ChannelShuffleInterleavesTheGroups()
    {
        using var scope = new TensorScope();
        int n = 2, c = 6, hw = 3;
        var x = Tensor.RandomNormal(new Shape(n, c, 1, hw), Rng());
        x.RequiresGrad = true;
        var y = ChannelShuffle.Shuffle(x, 3);
        var xs = x.ToArray();
        var ys = y.ToArray();
        for (int b = 0; b < n; b++)
        {
            for (int oc = 0; oc < c; oc++)
            {
                // Output channel g·j + i comes from input channel i·(C/g) + j, with g = 3 and C/g = 2.
                int i = oc % 3, j = oc / 3, ic = i * 2 + j;
                for (int k = 0; k < hw; k++)
                {
                    Assert.AreEqual(xs[(b * c + ic) * hw + k], ys[(b * c + oc) * hw + k]);
                }
            }
        }
        var upstream = Tensor.RandomNormal(y.Shape, new Random(5));
        (y * upstream).Sum().Backward();
        TensorAssert.AreClose(ChannelShuffle.Shuffle(upstream, 2).ToArray(), x.Grad!.ToArray(), 0, 0, "the inverse of a 3-group shuffle of 6 channels is a 2-group shuffle");
        Assert.ThrowsExactly<ShapeMismatchException>(() => ChannelShuffle.Shuffle(Tensor.Zeros(new Shape(1, 5, 2, 2)), 2));
    }

    [TestMethod]
    public void StochasticDepthIsIdentityInEvalAndDropsWholeSamplesInTraining()
    {
        using var scope = new TensorScope();
        using var sd = new StochasticDepth(0.5f, new Random(3));
        var x = Tensor.Ones(new Shape(64, 2, 2, 2));
        sd.Eval();
        Assert.AreSame(x, sd.Forward(x));
        sd.Train();
        var y = sd.Forward(x).ToArray();
        int dropped = 0;
        for (int s = 0; s < 64; s++)
        {
            var row = y.AsSpan(s * 8, 8).ToArray();
            Assert.IsTrue(row.All(v => v == 0f) || row.All(v => v == 2f), $"sample {s}: [{string.Join(", ", row)}]");
            dropped += row[0] == 0f ? 1 : 0;
        }
        Assert.IsTrue(dropped is > 16 and < 48, $"{dropped} of 64 samples dropped with p = 0.5");
    }

    [TestMethod]
    public void RegistryListsTheFamily()
    {
        string[] names = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0", "efficientnet_b0", "xception"];
        foreach (string name in names)
        {
            CollectionAssert.Contains(ModelZoo.Names.ToList(), name);
        }
        Assert.AreEqual(8, ConvNormActivation.MakeDivisible(3));
        Assert.AreEqual(24, ConvNormActivation.MakeDivisible(96 / 4));
        Assert.AreEqual(40, ConvNormActivation.MakeDivisible(36));
    }
}
