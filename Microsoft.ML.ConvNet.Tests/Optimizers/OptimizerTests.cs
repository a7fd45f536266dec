using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Tests.Reference;
using static Microsoft.ML.ConvNet.Tests.Reference.ReferenceInputs;

namespace Microsoft.ML.ConvNet.Tests.Optimizers;

/// <summary>
/// Optimizers against torch.optim: two parameters, four steps with gradients from Seq
/// (build/reference/layers_losses_optimizers.py), compared after the last step.
/// </summary>
[TestClass]
public sealed class OptimizerTests
{
    private const double Atol = 2e-6, Rtol = 2e-5;

    private static Tensor Param(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, new Shape(shape)).Unscope();
        t.RequiresGrad = true;
        return t;
    }

    private static void SetGrad(Tensor p, float[]? values)
    {
        if (values == null)
        {
            p.ClearGrad();
            return;
        }
        if (p.Grad == null)
        {
            // Gradients arrive through backward, as in training: Σ p·g has gradient g.
            using var scope = new TensorScope();
            using var g = Tensor.FromArray(values, p.Shape);
            (p * g).Sum().Backward();
        }
        else
        {
            p.Grad.CopyFrom(values);
        }
    }

    private static float[] GradAt(int step, int size, int index) => Seq(size, 0.5 + 0.9 * step + 0.3 * index, 1.0 + 0.5 * step);

    private static void Run(Func<IReadOnlyList<Tensor>, Optimizer> make, float[] expected0, float[] expected1, string what, bool skipFirst = false)
    {
        using var p0 = Param(Seq(6, 0.1, 1.0), 2, 3);
        using var p1 = Param(Seq(5, 0.7, 0.8), 5);
        using var opt = make([p0, p1]);
        for (int k = 0; k < 4; k++)
        {
            SetGrad(p0, GradAt(k, 6, 0));
            SetGrad(p1, skipFirst && k == 0 ? null : GradAt(k, 5, 1));
            opt.Step();
        }
        Assert.AreEqual(4, opt.StepCount);
        TensorAssert.AreClose(expected0, p0.ToArray(), Atol, Rtol, $"{what}: first parameter");
        TensorAssert.AreClose(expected1, p1.ToArray(), Atol, Rtol, $"{what}: second parameter");
        p0.ClearGrad();
        p1.ClearGrad();
    }

    [TestMethod]
    public void SgdMatchesTorch()
    {
        Run(p => new Sgd(p, 0.1f), OptimizerReference.SgdPlainP0, OptimizerReference.SgdPlainP1, "plain");
        Run(p => new Sgd(p, 0.1f, weightDecay: 0.05f), OptimizerReference.SgdPlainWeightDecayP0, OptimizerReference.SgdPlainWeightDecayP1, "weight decay");
        Run(p => new Sgd(p, 0.1f, momentum: 0.9f), OptimizerReference.SgdMomentumP0, OptimizerReference.SgdMomentumP1, "momentum");
        Run(p => new Sgd(p, 0.1f, momentum: 0.9f, dampening: 0.3f), OptimizerReference.SgdDampeningP0, OptimizerReference.SgdDampeningP1, "dampening");
        Run(p => new Sgd(p, 0.1f, momentum: 0.9f, nesterov: true), OptimizerReference.SgdNesterovP0, OptimizerReference.SgdNesterovP1, "Nesterov");
        Run(p => new Sgd(p, 0.1f, momentum: 0.8f, weightDecay: 0.05f), OptimizerReference.SgdWeightDecayP0, OptimizerReference.SgdWeightDecayP1, "momentum and weight decay");
    }

    [TestMethod]
    public void AdamAndAdamWMatchTorch()
    {
        Run(p => new Adam(p, 0.01f), OptimizerReference.AdamP0, OptimizerReference.AdamP1, "Adam");
        Run(p => new Adam(p, 0.01f, 0.8f, 0.99f, 1e-6f, 0.1f), OptimizerReference.AdamWeightDecayP0, OptimizerReference.AdamWeightDecayP1, "Adam with L2 decay");
        Run(p => new AdamW(p, 0.01f), OptimizerReference.AdamWP0, OptimizerReference.AdamWP1, "AdamW");
        Run(p => new AdamW(p, 0.05f, weightDecay: 0.5f), OptimizerReference.AdamWStrongP0, OptimizerReference.AdamWStrongP1, "AdamW strong decay");
    }

    [TestMethod]
    public void AdamCountsStepsPerParameter()
    {
        // The second parameter has no gradient on the first step: its bias correction starts one step later.
        Run(p => new Adam(p, 0.01f), OptimizerReference.AdamSkipFirstP0, OptimizerReference.AdamSkipFirstP1, "Adam, late parameter", skipFirst: true);
    }

    [TestMethod]
    public void RmsPropMatchesTorch()
    {
        Run(p => new RmsProp(p, 0.01f), OptimizerReference.RmsPropP0, OptimizerReference.RmsPropP1, "RMSprop");
        Run(p => new RmsProp(p, 0.01f, 0.9f, 1e-6f, 0.05f, 0.9f), OptimizerReference.RmsPropMomentumP0, OptimizerReference.RmsPropMomentumP1, "RMSprop with momentum and weight decay");
    }

    [TestMethod]
    public void StepLRScheduleMatchesTorch()
    {
        using var p = Param([0f], 1);
        using var opt = new Sgd([p], 0.2f);
        var sched = new StepLR(opt, stepSize: 3, gamma: 0.5f);
        Assert.AreEqual(0.2f, sched.LastLearningRate);
        var rates = new float[10];
        for (int epoch = 0; epoch < 10; epoch++)
        {
            rates[epoch] = opt.LearningRate;
            sched.Step();
        }
        TensorAssert.AreClose(OptimizerReference.StepLRRates, rates, 1e-9, 1e-6, "learning rate per epoch");
        Assert.AreEqual(OptimizerReference.StepLRLast[0], sched.LastLearningRate, 1e-8f);
        Assert.AreEqual(10, sched.LastEpoch);
        Assert.AreEqual(0.2f, opt.InitialLearningRate);
        Assert.AreEqual(0.2f * 0.125f, sched.LearningRateAt(9), 1e-8f);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new StepLR(opt, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new StepLR(opt, 2, 0f));
    }

    [TestMethod]
    public void SgdUnderStepLRMatchesTorch()
    {
        using var p0 = Param(Seq(6, 0.1, 1.0), 2, 3);
        using var opt = new Sgd([p0], 0.1f, momentum: 0.9f);
        var sched = new StepLR(opt, 2, 0.5f);
        for (int k = 0; k < 5; k++)
        {
            SetGrad(p0, GradAt(k, 6, 0));
            opt.Step();
            sched.Step();
        }
        TensorAssert.AreClose(OptimizerReference.SgdStepLRP0, p0.ToArray(), Atol, Rtol, "SGD with momentum under StepLR");
        p0.ClearGrad();
    }

    [TestMethod]
    public void FrozenParametersAndParametersWithoutGradientsStay()
    {
        using var frozen = Param([1f, 2f], 2);
        using var noGrad = Param([3f, 4f], 2);
        using var live = Param([5f, 6f], 2);
        using var opt = new Adam([frozen, noGrad, live], 0.1f);
        SetGrad(frozen, [1f, 1f]);
        SetGrad(live, [1f, 1f]);
        frozen.RequiresGrad = false;
        opt.Step();
        CollectionAssert.AreEqual(new[] { 1f, 2f }, frozen.ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 4f }, noGrad.ToArray());
        Assert.AreEqual(0, opt.ParameterStepCount(0));
        Assert.AreEqual(1, opt.ParameterStepCount(2));
        TensorAssert.AreClose([4.9f, 5.9f], live.ToArray(), 1e-6, 1e-6, "the first Adam step moves by lr·sign(g)");
        frozen.ClearGrad();
        live.ClearGrad();
    }

    [TestMethod]
    public void ZeroGradKeepsTheBuffers()
    {
        using var p = Param([1f, 2f], 2);
        using var opt = new Sgd([p], 0.5f);
        SetGrad(p, [1f, 1f]);
        var buffer = p.Grad;
        opt.ZeroGrad();
        Assert.AreSame(buffer, p.Grad);
        CollectionAssert.AreEqual(new[] { 0f, 0f }, p.Grad!.ToArray());
        p.ClearGrad();
    }

    [TestMethod]
    public void ArgumentsAreChecked()
    {
        using var p = Param([1f], 1);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Sgd([p], 0f));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd([p], 0.1f, nesterov: true));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd([p], 0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Sgd([p], 0.1f, momentum: -1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AdamW([p], weightDecay: -0.1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RmsProp([p], momentum: -0.5f));
        Assert.AreEqual("AdamW(lr=0.001, betas=(0.9, 0.999), eps=1E-08, weight_decay=0.01)", new AdamW([p]).ToString());
    }
}
