using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Models;

/// <summary>
/// ResNet, ResNeXt, Wide ResNet, SE-ResNet and DenseNet against torchvision 0.14: parameter counts, state-dictionary
/// names and shapes (Fixtures/zoo/*.keys.txt), logits with deterministic weights (Fixtures/zoo/*.logits.json), all
/// written by build/reference/make_zoo_fixtures_residual.py; forward and backward on small inputs; the blocks.
/// </summary>
[TestClass]
public sealed class ResidualModelsTests
{

    // Counts printed by build/reference/make_zoo_fixtures_residual.py (torchvision 0.14; se_resnet50 is torchvision's
    // ResNet with torchvision.ops.SqueezeExcitation(C, C / 16) after bn3 of every Bottleneck).
    [TestMethod]
    [DataRow("resnet18", 11_689_512L)]
    [DataRow("resnet34", 21_797_672L)]
    [DataRow("resnet50", 25_557_032L)]
    [DataRow("resnet101", 44_549_160L)]
    [DataRow("resnet152", 60_192_808L)]
    [DataRow("resnext50_32x4d", 25_028_904L)]
    [DataRow("wide_resnet50_2", 68_883_240L)]
    [DataRow("se_resnet50", 28_088_024L)]
    [DataRow("densenet121", 7_978_856L)]
    [DataRow("densenet169", 14_149_480L)]
    public void ParameterCountAndStateDictMatchTorchvision(string name, long expectedCount)
    {
        using var model = ModelZoo.Create(name);
        Assert.AreEqual(expectedCount, model.ParameterCount(), $"{name}: parameters for 1000 classes");
        ZooFixtures.AssertKeys(ZooFixtures.ReadKeys(name), model, name);
    }

    // The largest models (ResNet-101/152, Wide ResNet-50-2, DenseNet-169) are built once only, in the test above, to
    // keep the run short; their 10-class variants differ from the 1000-class ones in the classifier alone.
    [TestMethod]
    [DataRow("resnet18", 11_181_642L)]
    [DataRow("resnet34", 21_289_802L)]
    [DataRow("resnet50", 23_528_522L)]
    [DataRow("resnext50_32x4d", 23_000_394L)]
    [DataRow("se_resnet50", 26_059_514L)]
    [DataRow("densenet121", 6_964_106L)]
    public void TenClassParameterCountsMatchTorchvision(string name, long expectedCount)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10));
        Assert.AreEqual(expectedCount, model.ParameterCount(), $"{name}: parameters for 10 classes");
    }

    [TestMethod]
    [DataRow("resnet18", "conv1.weight", "fc")]
    [DataRow("densenet121", "features.conv0.weight", "classifier")]
    public void SmallInputGrayscaleVariantKeepsTheNames(string name, string stemWeight, string head)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 7, InputChannels: 1, SmallInput: true));
        int features = name == "resnet18" ? 512 : 1024;
        var expected = ZooFixtures.ReadKeys(name).Select(line =>
        {
            string key = line[..line.IndexOf(' ', StringComparison.Ordinal)];
            return key == stemWeight ? key + " 64,1,3,3"
                : key == head + ".weight" ? $"{key} 7,{features}"
                : key == head + ".bias" ? key + " 7"
                : line;
        }).Order(StringComparer.Ordinal).ToList();
        CollectionAssert.AreEqual(expected, ZooFixtures.Keys(model));
        Assert.IsFalse(model.NamedModules().Any(m => m.Key.EndsWith("maxpool", StringComparison.Ordinal) || m.Key.EndsWith("pool0", StringComparison.Ordinal)),
            "the small-input stem has no initial max-pool");

        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        model.Eval();
        var y = model.Forward(Tensor.RandomNormal(new Shape(1, 1, 28, 28), new Random(1)));
        Assert.AreEqual(new Shape(1, 7), y.Shape);
    }

    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("densenet121")]
    public void LogitsMatchTorchvision(string name)
    {
        using var model = ModelZoo.Create(name);
        ZooFixtures.AssertLogits(name, model, 1e-4);
    }

    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("resnet50")]
    [DataRow("resnext50_32x4d")]
    [DataRow("se_resnet50")]
    [DataRow("densenet121")]
    public void ForwardAndBackwardOnSmallInput(string name)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10, SmallInput: true));
        model.Train();
        using (var scope = new TensorScope())
        {
            var logits = model.Forward(Tensor.RandomNormal(new Shape(2, 3, 32, 32), new Random(2)));
            Assert.AreEqual(new Shape(2, 10), logits.Shape);
            var loss = Loss.CrossEntropy(logits, [3, 8]);
            Assert.IsTrue(float.IsFinite(loss.ToArray()[0]), $"{name}: loss {loss.ToArray()[0]}");
            loss.Backward();
        }
        ModelAssert.EveryParameterHasFiniteGradient(model, name);
        // The classifier and the stem receive a signal (a broken graph would leave zeros there).
        string stem = name.StartsWith("densenet", StringComparison.Ordinal) ? "features.conv0.weight" : "conv1.weight";
        var stemGrad = model.StateDict()[stem].Grad!.ToArray();
        Assert.IsTrue(stemGrad.Any(v => v != 0), $"{name}: the stem gradient is all zero");
    }

    [TestMethod]
    public void RegistryListsTheFamily()
    {
        string[] names = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2", "se_resnet50", "densenet121", "densenet169"];
        foreach (string n in names)
        {
            CollectionAssert.Contains(ModelZoo.Names.ToList(), n);
        }
        using var m = ModelZoo.Create("ResNet18", new ModelOptions(NumClasses: 3));
        Assert.IsInstanceOfType<ResNet>(m);
        Assert.AreEqual(3, ((ResNet)m).Fc.OutFeatures);
    }

    [TestMethod]
    public void BottleneckStridesTheThreeByThreeConvolution()
    {
        using var resnet = new ResNet(ResidualBlockKind.Bottleneck, [1, 2, 1, 1], new ModelOptions(NumClasses: 10, SmallInput: true));
        var first = (Bottleneck)resnet.Stages[1][0];
        Assert.AreEqual(new Size2(1, 1), first.Conv1.Stride);
        Assert.AreEqual(new Size2(2, 2), first.Conv2.Stride);
        Assert.AreEqual(new Size2(2, 2), ((Conv2d)((Sequential)first.Downsample!)[0]).Stride);
        Assert.IsNull(((Bottleneck)resnet.Stages[1][1]).Downsample);
        Assert.IsNotNull(((Bottleneck)resnet.Stages[0][0]).Downsample, "layer1.0 changes 64 to 256 channels");

        // ResNeXt 32x4d and Wide ResNet-50-2 widths: floor(planes * baseWidth / 64) * groups.
        using var resnext = new Bottleneck(256, 128, 2, ResNet.MakeDownsample(256, 512, 2), groups: 32, baseWidth: 4);
        Assert.AreEqual(32, resnext.Conv2.Groups);
        Assert.AreEqual(256, resnext.Width);
        Assert.AreEqual(512, resnext.OutChannels);
        using var wide = new Bottleneck(1024, 512, 2, ResNet.MakeDownsample(1024, 2048, 2), baseWidth: 128);
        Assert.AreEqual(1024, wide.Width);
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        Assert.AreEqual(new Shape(1, 512, 3, 2), resnext.Forward(Tensor.RandomNormal(new Shape(1, 256, 5, 4), new Random(4))).Shape);
    }

    [TestMethod]
    public void BasicBlockWithoutProjectionReportsTheShapes()
    {
        using var block = new BasicBlock(8, 16, stride: 2);
        using var scope = new TensorScope();
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => block.Forward(Tensor.RandomNormal(new Shape(1, 8, 6, 6), new Random(3))));
        StringAssert.Contains(e.Message, "[1, 16, 3, 3]");
        StringAssert.Contains(e.Message, "[1, 8, 6, 6]");
        StringAssert.Contains(e.Message, "downsample");
    }

    [TestMethod]
    public void BasicBlockMatchesItsDefinition()
    {
        using var block = new BasicBlock(4, 6, stride: 2, ResNet.MakeDownsample(4, 6, 2));
        DeterministicWeights.Fill(block);
        block.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var x = DeterministicWeights.Input(2, 4, 7, 5);
        var y = block.Forward(x);
        var main = block.Bn2.Forward(block.Conv2.Forward(Functional.Relu(block.Bn1.Forward(block.Conv1.Forward(x)))));
        var expected = Functional.Relu(main + block.Downsample!.Forward(x));
        Assert.AreEqual(new Shape(2, 6, 4, 3), y.Shape);
        // The block folds its evaluation-mode batch norms into the convolutions: equal up to float rounding.
        TensorAssert.AreClose(expected, y, 1e-6, 1e-6, "BasicBlock");
    }

    [TestMethod]
    public void SqueezeExcitationMatchesNaiveLoops()
    {
        const int n = 2, c = 5, s = 3, h = 3, w = 4;
        using var se = new SqueezeExcitation(c, s);
        DeterministicWeights.Fill(se);
        using var scope = new TensorScope();
        var x = DeterministicWeights.Input(n, c, h, w);
        var y = se.Forward(x);

        float[] xv = x.ToArray(), w1 = se.Fc1.Weight.ToArray(), b1 = se.Fc1.Bias!.ToArray(), w2 = se.Fc2.Weight.ToArray(), b2 = se.Fc2.Bias!.ToArray();
        var expected = new float[xv.Length];
        for (int i = 0; i < n; i++)
        {
            var mean = new double[c];
            for (int ch = 0; ch < c; ch++)
            {
                for (int k = 0; k < h * w; k++)
                {
                    mean[ch] += xv[(i * c + ch) * h * w + k];
                }
                mean[ch] /= h * w;
            }
            var hidden = new double[s];
            for (int j = 0; j < s; j++)
            {
                double a = b1[j];
                for (int ch = 0; ch < c; ch++)
                {
                    a += w1[j * c + ch] * mean[ch];
                }
                hidden[j] = Math.Max(a, 0);
            }
            for (int ch = 0; ch < c; ch++)
            {
                double a = b2[ch];
                for (int j = 0; j < s; j++)
                {
                    a += w2[ch * s + j] * hidden[j];
                }
                double gate = 1 / (1 + Math.Exp(-a));
                for (int k = 0; k < h * w; k++)
                {
                    int idx = (i * c + ch) * h * w + k;
                    expected[idx] = (float)(xv[idx] * gate);
                }
            }
        }
        TensorAssert.AreClose(expected, new Shape(n, c, h, w), y, 1e-6, 1e-5, "SqueezeExcitation");
        Assert.AreEqual(2L * c * s + c + s, se.ParameterCount());
        CollectionAssert.AreEquivalent(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }, se.StateDict().Keys.ToArray());
    }

    [TestMethod]
    public void SqueezeExcitationGradientsMatchCentralDifferences()
    {
        using var se = new SqueezeExcitation(3, 2);
        DeterministicWeights.Fill(se);
        var rng = new Random(5);
        using var scope = new TensorScope();
        var x = GradCheck.Leaf(rng, 2, 3, 3, 2);
        GradCheck.Check(inputs => se.Forward(inputs[0]), [x], 1e-2, 2e-3, 2e-2);
    }

    [TestMethod]
    public void DenseBlockConcatenatesInputAndNewFeatures()
    {
        using var block = new DenseBlock(3, 8, growthRate: 4, bnSize: 2);
        Assert.AreEqual(20, block.OutChannels);
        Assert.AreEqual(16, block.Layers[2].InChannels);
        DeterministicWeights.Fill(block);
        block.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var x = DeterministicWeights.Input(2, 8, 5, 5);
        var y = block.Forward(x);
        Assert.AreEqual(new Shape(2, 20, 5, 5), y.Shape);
        var f1 = block.Layers[0].Forward(x);
        var f2 = block.Layers[1].Forward(Tensor.Concat([x, f1], 1));
        var f3 = block.Layers[2].Forward(Tensor.Concat([x, f1, f2], 1));
        TensorAssert.AreClose(Tensor.Concat([x, f1, f2, f3], 1), y, 0, 0, "DenseBlock");

        using var transition = new Transition(20, 10);
        var t = transition.Forward(y);
        Assert.AreEqual(new Shape(2, 10, 2, 2), t.Shape);
    }

}
