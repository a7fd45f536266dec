using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Models;

/// <summary>
/// AlexNet, ZFNet, VGG, GoogLeNet, Inception v3 and SqueezeNet: parameter counts and state-dictionary names and shapes
/// against torchvision 0.14, logit parity on deterministic weights, forward/backward on small inputs and the
/// small-input, channel and class variants. Fixtures: build/reference/make_zoo_fixtures_classic.py.
/// </summary>
[TestClass]
public sealed class ClassicModelsTests
{

    // ---- torchvision 0.14 parameter counts and state-dictionary keys ----------------------------------------------

    /// <summary>
    /// Builds the model for 1000 classes and compares every state-dictionary key and shape (buffers included) and the
    /// parameter count with torchvision's. The 10-class counts are checked where a test builds a 10-class model anyway
    /// (see <see cref="TenClassCounts"/>), so that each large model is built as few times as possible.
    /// </summary>
    [TestMethod]
    [DataRow("alexnet", 61_100_840L)]
    [DataRow("vgg11", 132_863_336L)]
    [DataRow("vgg11_bn", 132_868_840L)]
    [DataRow("vgg13", 133_047_848L)]
    [DataRow("vgg13_bn", 133_053_736L)]
    [DataRow("vgg16", 138_357_544L)]
    [DataRow("vgg16_bn", 138_365_992L)]
    [DataRow("vgg19", 143_667_240L)]
    [DataRow("vgg19_bn", 143_678_248L)]
    [DataRow("googlenet", 13_004_888L)]
    [DataRow("inception_v3", 27_161_264L)]
    [DataRow("squeezenet1_0", 1_248_424L)]
    [DataRow("squeezenet1_1", 1_235_496L)]
    public void MatchesTorchvisionStateDictAndParameterCount(string name, long count1000)
    {
        var expected = ZooFixtures.ReadKeys(name);
        using var model = ModelZoo.Create(name);
        ZooFixtures.AssertKeys(expected, model, name);
        Assert.AreEqual(count1000, model.ParameterCount(), $"{name}, 1000 classes");
    }

    /// <summary>
    /// torchvision 0.14's parameter counts for 10 classes (num_classes=10). VGG-13/16/19 (with and without batch norm)
    /// are left out to keep the run short: each build takes about a second and only the final layer differs from the
    /// 1000-class model, whose every shape is checked above; VGG-11's 10-class head is checked by two tests.
    /// </summary>
    private static readonly Dictionary<string, long> TenClassCounts = new()
    {
        ["alexnet"] = 57_044_810L,
        ["vgg11"] = 128_807_306L,
        ["vgg11_bn"] = 128_812_810L,
        ["googlenet"] = 9_960_638L,
        ["inception_v3"] = 24_371_444L,
        ["squeezenet1_0"] = 740_554L,
        ["squeezenet1_1"] = 727_626L,
    };

    [TestMethod]
    public void WithoutAuxiliaryHeadsCountsMatchTorchvision()
    {
        // torchvision: googlenet(aux_logits=False), inception_v3(aux_logits=False).
        using (var g = new GoogLeNet(1000, auxLogits: false))
        {
            Assert.AreEqual(6_624_904L, g.ParameterCount());
            Assert.IsNull(g.Aux1);
            ZooFixtures.AssertKeys(ZooFixtures.ReadKeys("googlenet").Where(k => !k.StartsWith("aux", StringComparison.Ordinal)).ToArray(), g, "googlenet(aux_logits=False)");
        }
        using (var g = new GoogLeNet(10, auxLogits: false))
        {
            Assert.AreEqual(5_610_154L, g.ParameterCount());
        }
        using (var m = new InceptionV3(1000, auxLogits: false))
        {
            Assert.AreEqual(23_834_568L, m.ParameterCount());
            ZooFixtures.AssertKeys(ZooFixtures.ReadKeys("inception_v3").Where(k => !k.StartsWith("AuxLogits.", StringComparison.Ordinal)).ToArray(), m, "inception_v3(aux_logits=False)");
        }
        using (var m = new InceptionV3(10, auxLogits: false))
        {
            Assert.AreEqual(21_806_058L, m.ParameterCount());
        }
    }

    [TestMethod]
    public void RegistryListsEveryClassicModel()
    {
        string[] names = ["alexnet", "alexnet_lrn", "zfnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
            "vgg19", "vgg19_bn", "googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1"];
        foreach (var n in names)
        {
            CollectionAssert.Contains(ModelZoo.Names.ToArray(), n);
        }
        using var m = ModelZoo.Create("SqueezeNet1_1", new ModelOptions(NumClasses: 7, InputChannels: 1, SmallInput: true));
        Assert.IsInstanceOfType<FeaturesClassifierNet>(m);
        Assert.AreEqual(new Shape(64, 1, 3, 3), m.StateDict()["features.0.weight"].Shape);
        Assert.AreEqual(new Shape(7, 512, 1, 1), m.StateDict()["classifier.1.weight"].Shape);
    }

    // ---- logit parity with torchvision on deterministic weights ---------------------------------------------------

    /// <summary>
    /// Fills the 10-class model with the deterministic hashed weights (running statistics included), runs it in
    /// evaluation mode on the deterministic input and compares the logits with torchvision's (atol 1e-4). Also checks
    /// the 10-class parameter count.
    /// </summary>
    [TestMethod]
    [DataRow("vgg11")]
    [DataRow("googlenet")]
    [DataRow("squeezenet1_1")]
    public void LogitsMatchTorchvision(string name)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10));
        Assert.AreEqual(TenClassCounts[name], model.ParameterCount(), $"{name}, 10 classes");
        ZooFixtures.AssertLogits(name, model, 1e-4);
    }

    // ---- AlexNet and ZFNet ----------------------------------------------------------------------------------------

    [TestMethod]
    public void AlexNetTorchvisionStemRunsOnItsMinimumInput()
    {
        using var model = ModelZoo.Create("alexnet", new ModelOptions(NumClasses: 10));
        Assert.AreEqual(TenClassCounts["alexnet"], model.ParameterCount());
        model.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var y = model.Forward(DeterministicWeights.Input(1, 3, 63, 63));
        Assert.AreEqual(new Shape(1, 10), y.Shape);
        AssertFinite(y, "alexnet 63×63");
    }

    [TestMethod]
    public void AlexNetSmallInputTrains()
    {
        using var model = (FeaturesClassifierNet)ModelZoo.Create("alexnet", new ModelOptions(NumClasses: 10, SmallInput: true));
        Assert.AreEqual(new Shape(64, 3, 3, 3), model.StateDict()["features.0.weight"].Shape);
        Assert.IsInstanceOfType<Identity>(model.Features[2]);
        // Only the stem changes: 64·3·(121 − 9) fewer weights than torchvision's 10-class AlexNet.
        Assert.AreEqual(TenClassCounts["alexnet"] - 64 * 3 * (121 - 9), model.ParameterCount());
        ForwardBackward(model, 2, 3, 32, 10);
    }

    /// <summary>The original AlexNet: the layer sizes of the paper on 227×227×3 and the parameter counts.</summary>
    [TestMethod]
    public void AlexNetWithLrnHasThePapersShapes()
    {
        using var model = AlexNet.CreateWithLrn(1000);
        Assert.AreEqual(34_944L, model.Features[0].ParameterCount(), "CONV1 96@11×11×3 with bias");
        Assert.AreEqual(62_378_344L, model.ParameterCount());
        Assert.IsInstanceOfType<LocalResponseNorm>(model.Features[2]);
        Assert.IsInstanceOfType<LocalResponseNorm>(model.Features[6]);
        var lrn = (LocalResponseNorm)model.Features[2];
        Assert.AreEqual((5, 1e-4f, 0.75f, 2f), (lrn.Size, lrn.Alpha, lrn.Beta, lrn.K));
        model.Eval();
        var shapes = FeatureShapes(model, DeterministicWeights.Input(1, 3, 227, 227));
        Assert.AreEqual(new Shape(1, 96, 55, 55), shapes[0], "conv1");
        Assert.AreEqual(new Shape(1, 96, 27, 27), shapes[3], "pool1");
        Assert.AreEqual(new Shape(1, 256, 27, 27), shapes[4], "conv2");
        Assert.AreEqual(new Shape(1, 256, 13, 13), shapes[7], "pool2");
        Assert.AreEqual(new Shape(1, 384, 13, 13), shapes[8], "conv3");
        Assert.AreEqual(new Shape(1, 384, 13, 13), shapes[10], "conv4");
        Assert.AreEqual(new Shape(1, 256, 13, 13), shapes[12], "conv5");
        Assert.AreEqual(new Shape(1, 256, 6, 6), shapes[14], "pool5");
    }

    [TestMethod]
    public void AlexNetWithLrnSmallInputGrayscaleTrains()
    {
        using var model = (FeaturesClassifierNet)ModelZoo.Create("alexnet_lrn", new ModelOptions(NumClasses: 10, InputChannels: 1, SmallInput: true));
        Assert.AreEqual(new Shape(96, 1, 3, 3), model.StateDict()["features.0.weight"].Shape);
        Assert.IsInstanceOfType<Identity>(model.Features[3]);
        ForwardBackward(model, 2, 1, 32, 10);
    }

    [TestMethod]
    public void ZFNetHasThePapersShapes()
    {
        using var model = (FeaturesClassifierNet)ModelZoo.Create("zfnet");
        Assert.AreEqual(62_357_608L, model.ParameterCount());
        Assert.AreEqual(new Shape(96, 3, 7, 7), model.StateDict()["features.0.weight"].Shape);
        model.Eval();
        var shapes = FeatureShapes(model, DeterministicWeights.Input(1, 3, 224, 224));
        Assert.AreEqual(new Shape(1, 96, 110, 110), shapes[0], "conv1");
        Assert.AreEqual(new Shape(1, 96, 55, 55), shapes[3], "pool1");
        Assert.AreEqual(new Shape(1, 256, 26, 26), shapes[4], "conv2");
        Assert.AreEqual(new Shape(1, 256, 13, 13), shapes[7], "pool2");
        Assert.AreEqual(new Shape(1, 256, 6, 6), shapes[14], "pool5");
    }

    [TestMethod]
    public void ZFNetSmallInputTrains()
    {
        using var model = ModelZoo.Create("zfnet", new ModelOptions(NumClasses: 10, SmallInput: true));
        ForwardBackward(model, 2, 3, 32, 10);
    }

    // ---- VGG ------------------------------------------------------------------------------------------------------

    [TestMethod]
    public void Vgg11BatchNormTrainsOn32x32()
    {
        using var model = (FeaturesClassifierNet)ModelZoo.Create("vgg11_bn", new ModelOptions(NumClasses: 10, SmallInput: true));
        Assert.AreEqual(TenClassCounts["vgg11_bn"], model.ParameterCount(), "the small-input option leaves VGG unchanged");
        Assert.IsInstanceOfType<BatchNorm2d>(model.Features[1]);
        ForwardBackward(model, 2, 3, 32, 10);
    }

    // ---- GoogLeNet ------------------------------------------------------------------------------------------------

    [TestMethod]
    public void GoogLeNetSmallInputTrainsWithAuxiliaryHeads()
    {
        using var model = (GoogLeNet)ModelZoo.Create("googlenet", new ModelOptions(NumClasses: 10, SmallInput: true));
        Assert.AreEqual(new Shape(64, 3, 3, 3), model.StateDict()["conv1.conv.weight"].Shape);
        Assert.IsFalse(model.NamedChildren().Any(c => c.Key == "maxpool1"));
        model.Train();
        using var scope = new TensorScope();
        var outputs = model.ForwardWithAux(DeterministicWeights.Input(2, 3, 32, 32));
        Assert.AreEqual(new Shape(2, 10), outputs.Logits.Shape);
        Assert.IsNotNull(outputs.Aux1);
        Assert.IsNotNull(outputs.Aux2);
        Assert.AreEqual(new Shape(2, 10), outputs.Aux1.Shape);
        Assert.AreEqual(new Shape(2, 10), outputs.Aux2.Shape);
        Assert.AreEqual(2, model.AuxLogits.Count);
        int[] targets = [3, 7];
        var loss = Loss.CrossEntropy(outputs.Logits, targets)
            + 0.3f * (Loss.CrossEntropy(outputs.Aux1, targets) + Loss.CrossEntropy(outputs.Aux2, targets));
        loss.Backward();
        ModelAssert.EveryParameterHasFiniteGradient(model, model.GetType().Name);
        model.ZeroGrad();

        model.Eval();
        using var noGrad = new NoGradScope();
        var eval = model.ForwardWithAux(DeterministicWeights.Input(1, 3, 32, 32));
        Assert.AreEqual(new Shape(1, 10), eval.Logits.Shape);
        Assert.IsNull(eval.Aux1);
        Assert.AreEqual(0, model.AuxLogits.Count, "evaluation mode runs no auxiliary head");
    }

    [TestMethod]
    public void GoogLeNetGrayscaleWithoutAuxRunsOnTorchvisionStem()
    {
        using var model = new GoogLeNet(numClasses: 5, inputChannels: 1, auxLogits: false);
        Assert.AreEqual(new Shape(64, 1, 7, 7), model.StateDict()["conv1.conv.weight"].Shape);
        ForwardBackward(model, 2, 1, 64, 5);
        Assert.AreEqual(0, model.AuxLogits.Count);
    }

    // ---- Inception v3 ---------------------------------------------------------------------------------------------

    [TestMethod]
    public void InceptionV3SmallInputTrainsWithAuxiliaryHead()
    {
        using var model = (InceptionV3)ModelZoo.Create("inception_v3", new ModelOptions(NumClasses: 10, SmallInput: true));
        Assert.AreEqual(TenClassCounts["inception_v3"], model.ParameterCount(), "the small stem keeps every weight shape");
        model.Train();
        using var scope = new TensorScope();
        var (logits, aux) = model.ForwardWithAux(DeterministicWeights.Input(2, 3, 32, 32));
        Assert.AreEqual(new Shape(2, 10), logits.Shape);
        Assert.IsNotNull(aux);
        Assert.AreEqual(new Shape(2, 10), aux.Shape);
        int[] targets = [1, 9];
        (Loss.CrossEntropy(logits, targets) + 0.4f * Loss.CrossEntropy(aux, targets)).Backward();
        ModelAssert.EveryParameterHasFiniteGradient(model, model.GetType().Name);
    }

    // ---- SqueezeNet -----------------------------------------------------------------------------------------------

    [TestMethod]
    public void SqueezeNet10SmallInputGrayscaleTrains()
    {
        using var model = (FeaturesClassifierNet)ModelZoo.Create("squeezenet1_0", new ModelOptions(NumClasses: 10, InputChannels: 1, SmallInput: true));
        Assert.AreEqual(new Shape(96, 1, 3, 3), model.StateDict()["features.0.weight"].Shape);
        Assert.IsInstanceOfType<Identity>(model.Features[2]);
        ForwardBackward(model, 2, 1, 32, 10);
    }

    [TestMethod]
    public void SqueezeNetTorchvisionStemsRunAndCount()
    {
        using (var model = ModelZoo.Create("squeezenet1_0", new ModelOptions(NumClasses: 10)))
        {
            Assert.AreEqual(TenClassCounts["squeezenet1_0"], model.ParameterCount());
            ForwardBackward(model, 2, 3, 64, 10);
        }
        using (var model = ModelZoo.Create("squeezenet1_1", new ModelOptions(NumClasses: 4, SmallInput: true)))
        {
            ForwardBackward(model, 2, 3, 28, 4);
        }
    }

    // ---- reusable blocks ------------------------------------------------------------------------------------------

    [TestMethod]
    public void InceptionModuleConcatenatesItsBranchesInOrder()
    {
        using var block = new InceptionModule(8, 3, 4, 5, 2, 6, 7);
        Assert.AreEqual(21, block.OutChannels);
        DeterministicWeights.Fill(block);
        block.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var x = DeterministicWeights.Input(2, 8, 5, 7);
        var y = block.Forward(x);
        Assert.AreEqual(new Shape(2, 21, 5, 7), y.Shape);
        var expected = Tensor.Concat([block.Branch1.Forward(x), block.Branch2.Forward(x), block.Branch3.Forward(x), block.Branch4.Forward(x)], 1);
        TensorAssert.AreClose(expected, y, 0, 0, "concatenation");
        Assert.AreEqual(new Shape(6, 2, 3, 3), block.StateDict()["branch3.1.conv.weight"].Shape, "torchvision's 3×3 in the 5×5 branch");
    }

    [TestMethod]
    public void FireModuleSqueezesThenExpands()
    {
        using var fire = new FireModule(10, 3, 4, 5);
        Assert.AreEqual(9, fire.OutChannels);
        CollectionAssert.AreEqual(
            new[] { "squeeze.weight", "squeeze.bias", "expand1x1.weight", "expand1x1.bias", "expand3x3.weight", "expand3x3.bias" },
            fire.NamedParameters().Select(p => p.Key).ToArray());
        using var scope = new TensorScope();
        var x = DeterministicWeights.Input(1, 10, 6, 5);
        var y = fire.Forward(x);
        Assert.AreEqual(new Shape(1, 9, 6, 5), y.Shape);
        Assert.IsTrue(y.ToArray().All(v => v >= 0), "both expand branches end in ReLU");
        var wrong = Assert.ThrowsExactly<ShapeMismatchException>(() => fire.Forward(DeterministicWeights.Input(1, 4, 6, 5)));
        StringAssert.Contains(wrong.Message, "Conv2d");
    }

    [TestMethod]
    public void BasicConv2dIsConvWithoutBiasBatchNormAndRelu()
    {
        using var unit = new BasicConv2d(4, 6, (1, 3), padding: (0, 1));
        Assert.IsNull(unit.Conv.Bias);
        Assert.AreEqual(0.001f, unit.Bn.Eps);
        CollectionAssert.AreEquivalent(
            new[] { "conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" },
            unit.StateDict().Keys.ToArray());
        DeterministicWeights.Fill(unit);
        unit.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var x = DeterministicWeights.Input(2, 4, 3, 5);
        var expected = Functional.Relu(unit.Bn.Forward(Functional.Conv2d(x, unit.Conv.Weight, null, (1, 1), (0, 1), (1, 1))));
        var y = unit.Forward(x);
        Assert.AreEqual(new Shape(2, 6, 3, 5), y.Shape);
        TensorAssert.AreClose(expected, y, 0, 0, "BasicConv2d");
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /// <summary>Training-mode forward on a deterministic batch, cross-entropy, backward; every parameter must get a finite gradient.</summary>
    private static void ForwardBackward(Module model, int batch, int channels, int size, int classes)
    {
        model.Train();
        using var scope = new TensorScope();
        var y = model.Forward(DeterministicWeights.Input(batch, channels, size, size));
        Assert.AreEqual(new Shape(batch, classes), y.Shape);
        AssertFinite(y, model.GetType().Name);
        var targets = Enumerable.Range(0, batch).Select(i => i % classes).ToArray();
        Loss.CrossEntropy(y, targets).Backward();
        ModelAssert.EveryParameterHasFiniteGradient(model, model.GetType().Name);
    }

    private static void AssertFinite(Tensor t, string what)
    {
        foreach (float v in t.ToArray())
        {
            Assert.IsTrue(float.IsFinite(v), $"{what}: non-finite value {v.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>The output shape of every module of <c>features</c> for <paramref name="input"/> (no gradients).</summary>
    private static Shape[] FeatureShapes(FeaturesClassifierNet model, Tensor input)
    {
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var shapes = new Shape[model.Features.Count];
        var x = input;
        for (int i = 0; i < shapes.Length; i++)
        {
            x = model.Features[i].Forward(x);
            shapes[i] = x.Shape;
        }
        return shapes;
    }
}
