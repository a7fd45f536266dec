using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Reference;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>Parameter names and counts, state dictionaries, freezing, training mode and error messages of the layers.</summary>
[TestClass]
public sealed class ModuleTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>LeNet-5 as a flat sequence: 61 706 parameters, as torchvision-style LeNet in PyTorch.</summary>
    private static Sequential LeNet(Random? random = null) => new(
        new Conv2d(1, 6, 5, padding: 2, random: random), new ReLU(), new MaxPool2d(2),
        new Conv2d(6, 16, 5, random: random), new ReLU(), new MaxPool2d(2),
        new Flatten(),
        new Linear(16 * 5 * 5, 120, random: random), new ReLU(),
        new Linear(120, 84, random: random), new ReLU(),
        new Linear(84, 10, random: random));

    [TestMethod]
    public void SequentialNamesParametersLikePyTorch()
    {
        using var model = LeNet(new Random(1));
        var names = model.NamedParameters().Select(p => p.Key).ToArray();
        CollectionAssert.AreEqual(
            new[] { "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias", "11.weight", "11.bias" },
            names);
        Assert.AreEqual(61_706L, model.ParameterCount());
        Assert.AreEqual(new Shape(6, 1, 5, 5), model.StateDict()["0.weight"].Shape);
        Assert.AreEqual(new Shape(120, 400), model.StateDict()["7.weight"].Shape);
        Assert.AreEqual(12, model.Count);
        Assert.IsInstanceOfType<Linear>(model[11]);
        Assert.AreEqual("7", model.NamedChildren().ElementAt(7).Key);
    }

    [TestMethod]
    public void NestedSequentialAndBatchNormBuffers()
    {
        using var model = new Sequential()
            .Add(new Sequential(new Conv2d(3, 8, 3, bias: false), new BatchNorm2d(8), new ReLU()))
            .Add(new GroupNorm(2, 8))
            .Add(new PReLU(8));
        CollectionAssert.AreEqual(
            new[] { "0.0.weight", "0.1.weight", "0.1.bias", "1.weight", "1.bias", "2.weight" },
            model.NamedParameters().Select(p => p.Key).ToArray());
        CollectionAssert.AreEqual(
            new[] { "0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked" },
            model.NamedBuffers().Select(p => p.Key).ToArray());
        var bn = model.StateDict();
        Assert.AreEqual(new Shape(), bn["0.1.num_batches_tracked"].Shape);
        CollectionAssert.AreEqual(new float[8], bn["0.1.running_mean"].ToArray());
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 8).ToArray(), bn["0.1.running_var"].ToArray());
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 8).ToArray(), bn["0.1.weight"].ToArray());
        CollectionAssert.AreEqual(new float[8], bn["0.1.bias"].ToArray());
        Assert.AreEqual(8 * 3 * 9 + 8 * 2 + 8 * 2 + 8, model.ParameterCount());

        using var plain = new BatchNorm1d(4, affine: false);
        CollectionAssert.AreEqual(new[] { "running_mean", "running_var", "num_batches_tracked" }, plain.StateDict().Keys.ToArray());
        using var ln = new LayerNorm(6, elementwiseAffine: false);
        Assert.AreEqual(0L, ln.ParameterCount());
    }

    [TestMethod]
    public void StateDictRoundTripThroughAFile()
    {
        string dir = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), "state-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "lenet.cnsd");
            using var source = new Sequential(new Conv2d(1, 4, 3, random: new Random(1)), new BatchNorm2d(4), new Linear(4, 2, random: new Random(2)));
            source.StateDict()["1.running_mean"].CopyFrom([0.5f, -1f, 2f, 3f]);
            source.StateDict()["1.num_batches_tracked"].CopyFrom([7f]);
            source.SaveStateDict(path);
            CollectionAssert.AreEqual(new[] { "lenet.cnsd" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "only the final file remains");

            using var target = new Sequential(new Conv2d(1, 4, 3, random: new Random(9)), new BatchNorm2d(4), new Linear(4, 2, random: new Random(8)));
            CollectionAssert.AreNotEqual(source.StateDict()["0.weight"].ToArray(), target.StateDict()["0.weight"].ToArray());
            target.LoadStateDict(path);
            foreach (var (name, t) in source.StateDict())
            {
                Assert.AreEqual(t.Shape, target.StateDict()[name].Shape, name);
                CollectionAssert.AreEqual(t.ToArray(), target.StateDict()[name].ToArray(), name);
            }

            // Saving again over the file replaces it atomically.
            target.StateDict()["2.bias"].CopyFrom([1f, 2f]);
            target.SaveStateDict(path);
            using var third = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new Linear(4, 2));
            third.LoadStateDict(path);
            CollectionAssert.AreEqual(new[] { 1f, 2f }, third.StateDict()["2.bias"].ToArray());
            Assert.AreEqual(1, Directory.GetFiles(dir).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void LoadingAMismatchedStateDictNamesTheEntries()
    {
        using var a = new Sequential(new Linear(4, 3, random: new Random(1)));
        using var b = new Sequential(new Linear(4, 3, random: new Random(1)), new BatchNorm1d(3));
        using var ms = new MemoryStream();
        a.SaveStateDict(ms);
        ms.Position = 0;
        var e = Assert.ThrowsExactly<InvalidDataException>(() => b.LoadStateDict(ms));
        StringAssert.Contains(e.Message, "1.running_mean");

        using var c = new Sequential(new Linear(5, 3));
        ms.Position = 0;
        var s = Assert.ThrowsExactly<ShapeMismatchException>(() => c.LoadStateDict(ms));
        StringAssert.Contains(s.Message, "0.weight");
    }

    [TestMethod]
    public void FreezeStopsGradientsAndUnfreezeRestoresThem()
    {
        using var model = new Sequential(new PReLU(3), new Sequential(new PReLU(3), new Tanh(), new PReLU(1)));
        var head = (Sequential)model[1];
        Assert.AreEqual(3L + 3 + 1, model.ParameterCount(trainableOnly: true));
        model[0].Freeze();
        Assert.AreEqual(3L + 1, model.ParameterCount(trainableOnly: true));
        Assert.AreEqual(3L + 3 + 1, model.ParameterCount());
        CollectionAssert.AreEqual(new[] { "1.0.weight", "1.2.weight" },
            model.NamedParameters().Where(p => p.Value.RequiresGrad).Select(p => p.Key).ToArray());

        using var x = ReferenceInputs.SeqTensor([2, 3, 4], 0.3, 2.0);
        using (new TensorScope())
        {
            model.Forward(x).Square().Sum().Backward();
        }
        Assert.IsNull(((PReLU)model[0]).Weight.Grad, "a frozen parameter gets no gradient");
        Assert.IsNotNull(((PReLU)head[0]).Weight.Grad);

        model.Unfreeze();
        Assert.AreEqual(model.ParameterCount(), model.ParameterCount(trainableOnly: true));
        using (new TensorScope())
        {
            model.Forward(x).Square().Sum().Backward();
        }
        Assert.IsNotNull(((PReLU)model[0]).Weight.Grad);
    }

    [TestMethod]
    public void FreezingTheBackboneOfAConvNet()
    {
        using var model = LeNet(new Random(3));
        for (int i = 0; i < 7; i++)
        {
            model[i].Freeze();
        }
        Assert.AreEqual(61_706L - (6 * 25 + 6) - (16 * 6 * 25 + 16), model.ParameterCount(trainableOnly: true));
        using var x = ReferenceInputs.SeqTensor([2, 1, 28, 28], 0.3);
        using (new TensorScope())
        {
            model.Forward(x).Sum().Backward();
        }
        Assert.IsNull(model.StateDict()["0.weight"].Grad);
        Assert.IsNull(model.StateDict()["3.bias"].Grad);
        Assert.IsNotNull(model.StateDict()["7.weight"].Grad);
        Assert.IsNotNull(model.StateDict()["11.bias"].Grad);
    }

    [TestMethod]
    public void TrainAndEvalReachEveryDescendant()
    {
        using var model = new Sequential(new Dropout(0.5f), new Sequential(new BatchNorm2d(2), new Dropout(0.2f)));
        Assert.IsTrue(model.NamedModules().All(m => m.Value.IsTraining));
        model.Eval();
        Assert.IsTrue(model.NamedModules().All(m => !m.Value.IsTraining));
        model.Train();
        Assert.IsTrue(model.NamedModules().All(m => m.Value.IsTraining));
    }

    [TestMethod]
    public void DropoutZeroesAndScalesInTrainingAndPassesThroughInEvaluation()
    {
        using var dropout = new Dropout(0.25f, new Random(5));
        using var x = Tensor.Ones(new Shape(100, 100));
        using (new TensorScope())
        {
            var y = dropout.Forward(x).ToArray();
            int zeros = y.Count(v => v == 0f);
            Assert.IsTrue(y.All(v => v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6f), "kept values are scaled by 1/(1 − p)");
            Assert.IsTrue(Math.Abs(zeros / 10_000.0 - 0.25) < 0.02, $"dropped fraction {zeros / 10_000.0}");
        }
        dropout.Eval();
        using (new TensorScope())
        {
            var y = dropout.Forward(x);
            CollectionAssert.AreEqual(x.ToArray(), y.ToArray());
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(-0.1f));
    }

    [TestMethod]
    public void DropoutWithoutAGeneratorFollowsTheSharedSeed()
    {
        using var dropout = new Dropout(0.5f);
        using var x = Tensor.Ones(new Shape(64));
        float[] First()
        {
            using var scope = new TensorScope();
            RandomSource.ManualSeed(11);
            return dropout.Forward(x).ToArray();
        }
        CollectionAssert.AreEqual(First(), First());
    }

    [TestMethod]
    public void ShapeErrorsNameTheLayerAndTheShapes()
    {
        using var conv = new Conv2d(3, 16, 3);
        using var x = Tensor.Zeros(new Shape(8, 1, 28, 28));
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => conv.Forward(x));
        Assert.AreEqual("Conv2d(3→16, kernel=3): input [8, 1, 28, 28] has 1 channel(s), expected 3.", e.Message);

        using var flat = Tensor.Zeros(new Shape(8, 3));
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => conv.Forward(flat));
        StringAssert.Contains(e.Message, "Conv2d(3→16, kernel=3): expected input [N, 3, H, W], got [8, 3]");

        using var linear = new Linear(400, 120);
        using var wrongFeatures = Tensor.Zeros(new Shape(8, 256));
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => linear.Forward(wrongFeatures));
        Assert.AreEqual("Linear(400→120): input [8, 256] has 256 feature(s) in its last axis, expected 400.", e.Message);

        using var bn = new BatchNorm2d(16);
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => bn.Forward(x));
        StringAssert.Contains(e.Message, "BatchNorm2d(16): input [8, 1, 28, 28] has 1 channel(s), expected 16");
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => new BatchNorm1d(3).Forward(x));
        StringAssert.Contains(e.Message, "BatchNorm1d(3): expected input [N, 3] or [N, 3, L], got [8, 1, 28, 28]");

        e = Assert.ThrowsExactly<ShapeMismatchException>(() => new MaxPool2d(2).Forward(flat));
        StringAssert.Contains(e.Message, "MaxPool2d(kernel=2)");
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => new LayerNorm(5).Forward(flat));
        StringAssert.Contains(e.Message, "does not end with the normalised shape [5]");
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => new GroupNorm(2, 4).Forward(x));
        StringAssert.Contains(e.Message, "GroupNorm(2, 4): input [8, 1, 28, 28] has 1 channel(s), expected 4");
        e = Assert.ThrowsExactly<ShapeMismatchException>(() => new PReLU(3).Forward(x));
        StringAssert.Contains(e.Message, "PReLU(num_parameters=3)");

        using var training = new BatchNorm2d(1);
        using var single = Tensor.Zeros(new Shape(1, 1, 1, 1));
        var a = Assert.ThrowsExactly<ArgumentException>(() => training.Forward(single));
        StringAssert.Contains(a.Message, "more than 1 value per channel");
    }

    [TestMethod]
    public void ErrorsFromTheOperationAreWrappedWithTheLayer()
    {
        using var conv = new Conv2d(1, 1, 5);
        using var tiny = Tensor.Zeros(new Shape(1, 1, 3, 3));
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => conv.Forward(tiny));
        StringAssert.StartsWith(e.Message, "Conv2d(1→1, kernel=5) with input [1, 1, 3, 3]: ");
        Assert.IsInstanceOfType<ShapeMismatchException>(e.InnerException);
    }

    [TestMethod]
    public void ConstructorArgumentsAreChecked()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new Conv2d(3, 16, 3, groups: 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Conv2d(3, 16, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Conv2d(3, 16, 3, stride: (1, 0)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Conv2d(3, 16, 3, padding: -1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ConvTranspose2d(3, 16, 3, stride: 2, outputPadding: 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Linear(0, 3));
        Assert.ThrowsExactly<ArgumentException>(() => new GroupNorm(3, 8));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MaxPool2d(2, padding: 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchNorm2d(4, momentum: 1.5f));
        Assert.ThrowsExactly<ArgumentException>(() => new LayerNorm(Array.Empty<int>()));
    }

    [TestMethod]
    public void DescriptionsShowNonDefaultSettings()
    {
        using var conv = new Conv2d(3, 16, (3, 1), stride: 2, padding: (1, 0), groups: 1, bias: false);
        Assert.AreEqual("Conv2d(3→16, kernel=(3, 1), stride=2, padding=(1, 0), bias=false)", conv.ToString());
        using var deconv = new ConvTranspose2d(16, 8, 3, stride: 2, padding: 1, outputPadding: 1);
        Assert.AreEqual("ConvTranspose2d(16→8, kernel=3, stride=2, padding=1, output_padding=1)", deconv.ToString());
        Assert.AreEqual("Conv1d(8→4, kernel=5, dilation=2, groups=4)", new Conv1d(8, 4, 5, dilation: 2, groups: 4).ToString());
        Assert.AreEqual("Linear(400→120)", new Linear(400, 120).ToString());
        Assert.AreEqual("BatchNorm2d(16)", new BatchNorm2d(16).ToString());
        Assert.AreEqual("BatchNorm1d(4, eps=0.001, momentum=cumulative, affine=false)", new BatchNorm1d(4, 1e-3f, null, affine: false).ToString());
        Assert.AreEqual("MaxPool2d(kernel=3, stride=2, padding=1, ceil_mode=true)", new MaxPool2d(3, 2, 1, ceilMode: true).ToString());
        Assert.AreEqual("AvgPool2d(kernel=2, count_include_pad=false)", new AvgPool2d(2, countIncludePad: false).ToString());
        Assert.AreEqual("Dropout(p=0.3)", new Dropout(0.3f).ToString());
        Assert.AreEqual("LeakyReLU(negative_slope=0.2)", new LeakyReLU(0.2f).ToString());
        using var seq = new Sequential(new Linear(4, 2), new Sequential(new ReLU()));
        Assert.AreEqual("Sequential(\n  (0): Linear(4→2)\n  (1): Sequential(\n    (0): ReLU()\n  )\n)", seq.ToString());
    }
}
