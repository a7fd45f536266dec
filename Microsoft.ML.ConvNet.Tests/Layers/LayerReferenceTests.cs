using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Tests.Reference;
using static Microsoft.ML.ConvNet.Tests.Reference.ReferenceInputs;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>
/// Each layer, with weights loaded by PyTorch name, against PyTorch's output for the same settings
/// (build/reference/layers_losses_optimizers.py): checks that the layer passes its settings to the right op.
/// </summary>
[TestClass]
public sealed class LayerReferenceTests
{
    private const double Atol = 2e-5, Rtol = 1e-4;

    private static void Load(Module m, params (string Name, float[] Values)[] entries)
        => m.LoadStateDict(entries.ToDictionary(e => e.Name, e => e.Values), strict: false);

    private static void Check(Module m, Tensor x, float[] expected, int[] shape, string what)
    {
        using var scope = new TensorScope();
        TensorAssert.AreClose(expected, new Shape(shape), m.Forward(x), Atol, Rtol, what);
    }

    [TestMethod]
    public void Conv2dWithPairsStrideGroupsAndDilation()
    {
        using var m = new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2);
        Load(m, ("weight", Seq(72, 0.1, 0.5)), ("bias", Seq(6, 0.2, 0.1)));
        using var x = SeqTensor([2, 4, 7, 6], 0.3);
        Check(m, x, LayerReference.Conv2dY, LayerReference.Conv2dYShape, "Conv2d");
    }

    [TestMethod]
    public void Conv1dStridedWithoutBias()
    {
        using var m = new Conv1d(3, 4, 3, stride: 2, padding: 1, bias: false);
        Assert.IsNull(m.Bias);
        Load(m, ("weight", Seq(36, 0.1, 0.5)));
        using var x = SeqTensor([2, 3, 9], 0.3);
        Check(m, x, LayerReference.Conv1dY, LayerReference.Conv1dYShape, "Conv1d");
    }

    [TestMethod]
    public void ConvTranspose2dWithOutputPaddingAndGroups()
    {
        using var m = new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        Assert.AreEqual(new Shape(4, 1, 3, 3), m.Weight.Shape);
        Load(m, ("weight", Seq(36, 0.1, 0.5)), ("bias", Seq(2, 0.2, 0.1)));
        using var x = SeqTensor([1, 4, 3, 3], 0.3);
        Check(m, x, LayerReference.ConvTranspose2dY, LayerReference.ConvTranspose2dYShape, "ConvTranspose2d");
    }

    [TestMethod]
    public void LinearOnMatrixAndHigherRankInput()
    {
        using var m = new Linear(5, 3);
        Load(m, ("weight", Seq(15, 0.1, 0.5)), ("bias", Seq(3, 0.2, 0.1)));
        using var x2 = SeqTensor([3, 5], 0.3);
        using var x3 = SeqTensor([2, 4, 5], 0.3);
        Check(m, x2, LayerReference.LinearY2d, LayerReference.LinearY2dShape, "Linear [N, in]");
        Check(m, x3, LayerReference.LinearY3d, LayerReference.LinearY3dShape, "Linear [B, T, in]");
    }

    [TestMethod]
    public void BatchNorm2dTrainingUpdatesRunningStatisticsAndEvaluationUsesThem()
    {
        using var m = new BatchNorm2d(3);
        Load(m, ("weight", Seq(3, 0.1, 0.5, 1.0)), ("bias", Seq(3, 0.2, 0.1)));
        using var x1 = SeqTensor([4, 3, 2, 2], 0.3, 2.0);
        using var x2 = SeqTensor([4, 3, 2, 2], 1.3, 1.5, 0.5);
        using (new TensorScope())
        {
            m.Forward(x1);
        }
        Check(m, x2, LayerReference.BatchNorm2dTrainY, LayerReference.BatchNorm2dTrainYShape, "BatchNorm2d train (batch statistics)");
        TensorAssert.AreClose(LayerReference.BatchNorm2dRunningMean, m.RunningMean!.ToArray(), Atol, Rtol, "running_mean");
        TensorAssert.AreClose(LayerReference.BatchNorm2dRunningVar, m.RunningVar!.ToArray(), Atol, Rtol, "running_var");
        Assert.AreEqual(2f, m.NumBatchesTracked!.ToScalar(), "num_batches_tracked");

        m.Eval();
        Check(m, x1, LayerReference.BatchNorm2dEvalY, LayerReference.BatchNorm2dEvalYShape, "BatchNorm2d eval (running statistics)");
        Assert.AreEqual(2f, m.NumBatchesTracked!.ToScalar(), "evaluation does not count batches");
        TensorAssert.AreClose(LayerReference.BatchNorm2dRunningMean, m.RunningMean!.ToArray(), Atol, Rtol, "evaluation leaves running_mean alone");
    }

    [TestMethod]
    public void BatchNorm2dWithoutMomentumKeepsACumulativeAverage()
    {
        using var m = new BatchNorm2d(3, momentum: null);
        using (new TensorScope())
        {
            m.Forward(SeqTensor([4, 3, 2, 2], 0.3, 2.0));
            m.Forward(SeqTensor([4, 3, 2, 2], 1.3, 1.5, 0.5));
            m.Forward(SeqTensor([4, 3, 2, 2], 2.3, 1.0));
        }
        TensorAssert.AreClose(LayerReference.BatchNorm2dCumulativeRunningMean, m.RunningMean!.ToArray(), Atol, Rtol, "running_mean");
        TensorAssert.AreClose(LayerReference.BatchNorm2dCumulativeRunningVar, m.RunningVar!.ToArray(), Atol, Rtol, "running_var");
    }

    [TestMethod]
    public void BatchNorm2dWithoutTrackingUsesBatchStatisticsInEvaluation()
    {
        using var m = new BatchNorm2d(3, affine: false, trackRunningStats: false);
        Assert.AreEqual(0, m.StateDict().Count);
        m.Eval();
        using var x = SeqTensor([4, 3, 2, 2], 0.3, 2.0);
        Check(m, x, LayerReference.BatchNorm2dNoTrackingEvalY, LayerReference.BatchNorm2dNoTrackingEvalYShape, "BatchNorm2d without running statistics");
    }

    [TestMethod]
    public void BatchNorm1dOnMatrixAndSequenceInput()
    {
        using var m = new BatchNorm1d(4);
        Load(m, ("weight", Seq(4, 0.1, 0.5, 1.0)), ("bias", Seq(4, 0.2, 0.1)));
        using var x2 = SeqTensor([6, 4], 0.3, 2.0);
        using var x3 = SeqTensor([3, 4, 5], 0.7);
        Check(m, x2, LayerReference.BatchNorm1d2dY, LayerReference.BatchNorm1d2dYShape, "BatchNorm1d [N, C]");
        Check(m, x3, LayerReference.BatchNorm1d3dY, LayerReference.BatchNorm1d3dYShape, "BatchNorm1d [N, C, L]");
        TensorAssert.AreClose(LayerReference.BatchNorm1dRunningMean, m.RunningMean!.ToArray(), Atol, Rtol, "running_mean");
        TensorAssert.AreClose(LayerReference.BatchNorm1dRunningVar, m.RunningVar!.ToArray(), Atol, Rtol, "running_var");
    }

    [TestMethod]
    public void LayerNormOverTwoTrailingAxes()
    {
        using var m = new LayerNorm([3, 4]);
        Load(m, ("weight", Seq(12, 0.1, 0.5, 1.0)), ("bias", Seq(12, 0.2, 0.1)));
        using var x = SeqTensor([2, 3, 4], 0.3, 2.0);
        Check(m, x, LayerReference.LayerNormY, LayerReference.LayerNormYShape, "LayerNorm");
    }

    [TestMethod]
    public void GroupNormTwoGroups()
    {
        using var m = new GroupNorm(2, 4);
        Load(m, ("weight", Seq(4, 0.1, 0.5, 1.0)), ("bias", Seq(4, 0.2, 0.1)));
        using var x = SeqTensor([2, 4, 3, 3], 0.3, 2.0);
        Check(m, x, LayerReference.GroupNormY, LayerReference.GroupNormYShape, "GroupNorm");
    }

    [TestMethod]
    public void LocalResponseNormSettings()
    {
        using var m = new LocalResponseNorm(3, alpha: 0.01f, beta: 0.75f, k: 2f);
        using var x = SeqTensor([2, 5, 3, 3], 0.3, 4.0);
        Check(m, x, LayerReference.LocalResponseNormY, LayerReference.LocalResponseNormYShape, "LocalResponseNorm");
    }

    [TestMethod]
    public void PoolingLayersPassTheirSettings()
    {
        using var x1 = SeqTensor([1, 2, 7, 7], 0.3);
        using var x2 = SeqTensor([1, 1, 6, 6], 0.3);
        using var x3 = SeqTensor([1, 2, 6, 6], 0.3);
        using var x4 = SeqTensor([1, 2, 5, 5], 0.3);
        using var x5 = SeqTensor([2, 3, 8], 0.3);
        using var x6 = SeqTensor([1, 2, 7, 5], 0.3);
        using var x7 = SeqTensor([2, 3, 4, 5], 0.3);
        Check(new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true), x1, LayerReference.MaxPool2dCeilY, LayerReference.MaxPool2dCeilYShape, "MaxPool2d ceil");
        Check(new MaxPool2d(2, stride: 1, padding: 1, dilation: 2), x2, LayerReference.MaxPool2dDilatedY, LayerReference.MaxPool2dDilatedYShape, "MaxPool2d dilated");
        Check(new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false), x3, LayerReference.AvgPool2dY, LayerReference.AvgPool2dYShape, "AvgPool2d");
        Check(new AvgPool2d(2, padding: 1), x4, LayerReference.AvgPool2dIncludePadY, LayerReference.AvgPool2dIncludePadYShape, "AvgPool2d include pad");
        Check(new MaxPool1d(3, stride: 2, padding: 1), x5, LayerReference.MaxPool1dY, LayerReference.MaxPool1dYShape, "MaxPool1d");
        Check(new AdaptiveAvgPool2d(3, 2), x6, LayerReference.AdaptiveAvgPool2dY, LayerReference.AdaptiveAvgPool2dYShape, "AdaptiveAvgPool2d");
        Check(new GlobalAvgPool2d(), x7, LayerReference.GlobalAvgPool2dY, LayerReference.GlobalAvgPool2dYShape, "GlobalAvgPool2d");
    }

    [TestMethod]
    public void ActivationModules()
    {
        using var x = SeqTensor([2, 3, 4], 0.3, 3.0);
        using var big = SeqTensor([2, 3, 4], 0.3, 8.0);
        Check(new ReLU6(), big, LayerReference.ReLU6Y, LayerReference.ReLU6YShape, "ReLU6");
        Check(new LeakyReLU(0.2f), x, LayerReference.LeakyReLUY, LayerReference.LeakyReLUYShape, "LeakyReLU");
        Check(new ELU(0.5f), x, LayerReference.ELUY, LayerReference.ELUYShape, "ELU");
        Check(new SELU(), x, LayerReference.SELUY, LayerReference.SELUYShape, "SELU");
        Check(new GELU(), x, LayerReference.GELUY, LayerReference.GELUYShape, "GELU");
        Check(new Sigmoid(), x, LayerReference.SigmoidY, LayerReference.SigmoidYShape, "Sigmoid");
        Check(new Tanh(), x, LayerReference.TanhY, LayerReference.TanhYShape, "Tanh");
        Check(new SiLU(), x, LayerReference.SiLUY, LayerReference.SiLUYShape, "SiLU");
        Check(new Hardswish(), x, LayerReference.HardswishY, LayerReference.HardswishYShape, "Hardswish");
        Check(new Hardsigmoid(), x, LayerReference.HardsigmoidY, LayerReference.HardsigmoidYShape, "Hardsigmoid");
        Check(new Softmax(1), x, LayerReference.SoftmaxY, LayerReference.SoftmaxYShape, "Softmax");
        Check(new LogSoftmax(1), x, LayerReference.LogSoftmaxY, LayerReference.LogSoftmaxYShape, "LogSoftmax");
        Check(new Identity(), x, x.ToArray(), [2, 3, 4], "Identity");
        using var relu = new ReLU();
        using (new TensorScope())
        {
            CollectionAssert.AreEqual(x.ToArray().Select(v => Math.Max(v, 0f)).ToArray(), relu.Forward(x).ToArray(), "ReLU");
        }
    }

    [TestMethod]
    public void PReLUPerChannelSlopes()
    {
        using var m = new PReLU(3, 0.1f);
        CollectionAssert.AreEqual(new[] { 0.1f, 0.1f, 0.1f }, m.Weight.ToArray(), "initial slope");
        Load(m, ("weight", Seq(3, 0.1, 0.5)));
        using var x = SeqTensor([2, 3, 4], 0.3, 3.0);
        Check(m, x, LayerReference.PReLUY, LayerReference.PReLUYShape, "PReLU");
        using var scope = new TensorScope();
        m.Forward(x).Sum().Backward();
        Assert.IsNotNull(m.Weight.Grad, "the slopes are trained");
    }

    [TestMethod]
    public void FlattenKeepsTheBatchAxisByDefault()
    {
        using var scope = new TensorScope();
        var x = SeqTensor([2, 3, 4, 5]);
        Assert.AreEqual(new Shape(2, 60), new Flatten().Forward(x).Shape);
        Assert.AreEqual(new Shape(2, 12, 5), new Flatten(1, 2).Forward(x).Shape);
        Assert.AreEqual(new Shape(120), new Flatten(0).Forward(x).Shape);
        Assert.AreEqual(new Shape(2, 3, 20), new Flatten(-2).Forward(x).Shape);
        CollectionAssert.AreEqual(x.ToArray(), new Flatten().Forward(x).ToArray());
        Assert.ThrowsExactly<ShapeMismatchException>(() => new Flatten(3, 1).Forward(x));
        Assert.ThrowsExactly<ShapeMismatchException>(() => new Flatten(5).Forward(x));
    }

    [TestMethod]
    public void LayerGradientsReachEveryParameter()
    {
        using var model = new Sequential(
            new Conv2d(2, 4, 3, padding: 1), new ReLU(), new BatchNorm2d(4), new MaxPool2d(2),
            new Flatten(), new Linear(4 * 3 * 3, 5), new LayerNorm(5));
        using var x = SeqTensor([3, 2, 6, 6], 0.3);
        using (new TensorScope())
        {
            model.Forward(x).Square().Sum().Backward();
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.IsNotNull(p.Grad, $"{name} got no gradient");
            Assert.IsTrue(p.Grad.ToArray().Any(v => v != 0f), $"{name} got an all-zero gradient");
        }
    }
}
