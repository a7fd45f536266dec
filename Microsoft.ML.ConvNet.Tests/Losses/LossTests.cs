using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Tests.Reference;
using static Microsoft.ML.ConvNet.Tests.Reference.ReferenceInputs;

namespace Microsoft.ML.ConvNet.Tests.Losses;

/// <summary>Losses against PyTorch's values and gradients (build/reference/layers_losses_optimizers.py), gradchecks and errors.</summary>
[TestClass]
public sealed class LossTests
{
    private const double Atol = 1e-5, Rtol = 1e-4;
    private static readonly int[] Targets = [1, 0, 4, 2];
    private static readonly float[] Weights = [0.5f, 1f, 2f, 0.3f, 1.5f];

    /// <summary>Evaluates <paramref name="loss"/> on fresh leaves, compares the value and (for scalars) every input's gradient.</summary>
    private static void Check(Func<Tensor[], Tensor> loss, Tensor[] inputs, float[] expected, int[] shape, float[][]? grads, string what)
    {
        var leaves = inputs.Select(t =>
        {
            var l = Tensor.FromArray(t.ToArray(), t.Shape).Unscope();
            l.RequiresGrad = true;
            return l;
        }).ToArray();
        try
        {
            using (var scope = new TensorScope())
            {
                var y = loss(leaves);
                TensorAssert.AreClose(expected, new Shape(shape), y, Atol, Rtol, what);
                if (grads != null)
                {
                    y.Backward();
                }
            }
            for (int i = 0; grads != null && i < grads.Length; i++)
            {
                Assert.IsNotNull(leaves[i].Grad, $"{what}: input {i} got no gradient");
                TensorAssert.AreClose(grads[i], leaves[i].Grad!.ToArray(), Atol, Rtol, $"{what}: gradient of input {i}");
            }
        }
        finally
        {
            foreach (var l in leaves)
            {
                l.ClearGrad();
                l.Dispose();
            }
        }
    }

    [TestMethod]
    public void CrossEntropyMatchesPyTorch()
    {
        using var x = SeqTensor([4, 5], 0.4, 2.0);
        Check(t => Loss.CrossEntropy(t[0], Targets), [x], LossReference.CrossEntropyMean, [], [LossReference.CrossEntropyMeanGrad0], "mean");
        Check(t => Loss.CrossEntropy(t[0], Targets, reduction: Reduction.Sum), [x], LossReference.CrossEntropySum, [], [LossReference.CrossEntropySumGrad0], "sum");
        Check(t => Loss.CrossEntropy(t[0], Targets, reduction: Reduction.None), [x], LossReference.CrossEntropyNone, [4], null, "none");
        Check(t => Loss.CrossEntropy(t[0], Targets, Weights), [x], LossReference.CrossEntropyWeighted, [], [LossReference.CrossEntropyWeightedGrad0], "class weights");
    }

    [TestMethod]
    public void CrossEntropyLabelSmoothingMatchesPyTorch()
    {
        using var x = SeqTensor([4, 5], 0.4, 2.0);
        Check(t => Loss.CrossEntropy(t[0], Targets, labelSmoothing: 0.1f), [x], LossReference.CrossEntropySmoothed, [],
            [LossReference.CrossEntropySmoothedGrad0], "smoothing");
        Check(t => Loss.CrossEntropy(t[0], Targets, Weights, 0.2f), [x], LossReference.CrossEntropyWeightedSmoothed, [],
            [LossReference.CrossEntropyWeightedSmoothedGrad0], "weights and smoothing");
        Check(t => Loss.CrossEntropy(t[0], Targets, Weights, 0.2f, Reduction.Sum), [x], LossReference.CrossEntropyWeightedSmoothedSum, [],
            [LossReference.CrossEntropyWeightedSmoothedSumGrad0], "weights and smoothing, sum");
        Check(t => Loss.CrossEntropy(t[0], Targets, Weights, 0.2f, Reduction.None), [x], LossReference.CrossEntropyWeightedSmoothedNone, [4],
            null, "weights and smoothing, none");
    }

    [TestMethod]
    public void NllLossMatchesPyTorch()
    {
        using var x = SeqTensor([4, 5], 0.9, 1.5, -2.0);
        Check(t => Loss.NllLoss(t[0], Targets), [x], LossReference.NllMean, [], [LossReference.NllMeanGrad0], "mean");
        Check(t => Loss.NllLoss(t[0], Targets, Weights), [x], LossReference.NllWeighted, [], [LossReference.NllWeightedGrad0], "weighted mean");
        Check(t => Loss.NllLoss(t[0], Targets, Weights, Reduction.Sum), [x], LossReference.NllWeightedSum, [], [LossReference.NllWeightedSumGrad0], "weighted sum");
        Check(t => Loss.NllLoss(t[0], Targets, Weights, Reduction.None), [x], LossReference.NllWeightedNone, [4], null, "weighted none");
    }

    [TestMethod]
    public void BinaryCrossEntropyWithLogitsMatchesPyTorch()
    {
        using var x = SeqTensor([3, 4], 0.2, 40.0); // large logits: the stable form must not overflow
        using var target = Tensor.FromArray(Seq(12, 1.1, 0.5, 0.5).Select(v => Math.Clamp(v, 0f, 1f)).ToArray(), new Shape(3, 4));
        using var posWeight = Tensor.FromArray([1f, 2f, 0.5f, 3f], new Shape(4));
        Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], target), [x], LossReference.BceMean, [], [LossReference.BceMeanGrad0], "mean");
        Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], target, reduction: Reduction.None), [x], LossReference.BceNone, [3, 4], null, "none");
        Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], target, posWeight), [x], LossReference.BcePosWeight, [], [LossReference.BcePosWeightGrad0], "posWeight");
        Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], target, posWeight, Reduction.Sum), [x], LossReference.BcePosWeightSum, [],
            [LossReference.BcePosWeightSumGrad0], "posWeight, sum");
        using var small = SeqTensor([3, 4], 0.2, 2.0);
        Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], t[1], posWeight), [small, target], LossReference.BceSmallMean, [],
            [LossReference.BceSmallMeanGrad0, LossReference.BceSmallMeanGrad1], "gradient with respect to the targets too");
    }

    [TestMethod]
    public void MseMatchesPyTorch()
    {
        using var x = SeqTensor([3, 4], 0.2, 2.0);
        using var t1 = SeqTensor([3, 4], 1.7);
        Check(t => Loss.Mse(t[0], t[1]), [x, t1], LossReference.MseMean, [], [LossReference.MseMeanGrad0, LossReference.MseMeanGrad1], "mean");
        Check(t => Loss.Mse(t[0], t[1], Reduction.Sum), [x, t1], LossReference.MseSum, [], [LossReference.MseSumGrad0, LossReference.MseSumGrad1], "sum");
        Check(t => Loss.Mse(t[0], t[1], Reduction.None), [x, t1], LossReference.MseNone, [3, 4], null, "none");
    }

    [TestMethod]
    public void MultiMarginMatchesPyTorch()
    {
        using var x = SeqTensor([4, 5], 0.6, 1.2);
        Check(t => Loss.MultiMargin(t[0], Targets), [x], LossReference.MultiMarginMean, [], [LossReference.MultiMarginMeanGrad0], "p=1");
        Check(t => Loss.MultiMargin(t[0], Targets, 0.5f, 2), [x], LossReference.MultiMarginP2, [], [LossReference.MultiMarginP2Grad0], "p=2, margin 0.5");
        Check(t => Loss.MultiMargin(t[0], Targets, reduction: Reduction.Sum), [x], LossReference.MultiMarginSum, [], [LossReference.MultiMarginSumGrad0], "sum");
        Check(t => Loss.MultiMargin(t[0], Targets, 0.5f, 2, Reduction.None), [x], LossReference.MultiMarginNone, [4], null, "none");
    }

    [TestMethod]
    public void GradCheckEveryLoss()
    {
        var rng = new Random(3);
        using var logits = GradCheck.Leaf(rng, 5, 4);
        int[] targets = [3, 0, 1, 3, 2];
        float[] weights = [0.7f, 1.3f, 2f, 0.4f];
        GradCheck.Check(t => Loss.CrossEntropy(t[0], targets, weights, 0.15f), [logits], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.CrossEntropy(t[0], targets, reduction: Reduction.None), [logits], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.NllLoss(t[0], targets, weights, Reduction.Sum), [logits], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.MultiMargin(t[0], targets, 0.3f, 2), [logits], eps: 1e-3, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.MultiMargin(t[0], targets, 0.3f, 1, Reduction.None), [logits], eps: 1e-3, atol: 2e-3, rtol: 2e-2);

        using var x = GradCheck.Leaf(rng, 3, 4);
        using var target = GradCheck.Leaf(rng, 3, 4);
        using var posWeight = GradCheck.Leaf(rng, 4);
        GradCheck.Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], t[1], t[2]), [x, target, posWeight], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.BinaryCrossEntropyWithLogits(t[0], t[1], reduction: Reduction.None), [x, target], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
        GradCheck.Check(t => Loss.Mse(t[0], t[1]), [x, target], eps: 1e-2, atol: 2e-3, rtol: 2e-2);
    }

    [TestMethod]
    public void StableForExtremeLogits()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray([-200f, -30f, 0f, 30f, 200f], new Shape(5));
        var t = Tensor.FromArray([0f, 1f, 0.5f, 0f, 1f], new Shape(5));
        var bce = Loss.BinaryCrossEntropyWithLogits(x, t, reduction: Reduction.None).ToArray();
        TensorAssert.AreClose([0f, 30f, MathF.Log(2f), 30f, 0f], bce, 1e-5, 1e-6, "BCE with logits at ±200");
        var logits = Tensor.FromArray([1000f, -1000f, 0f, 0f, 0f, 500f], new Shape(2, 3));
        var ce = Loss.CrossEntropy(logits, [0, 1], reduction: Reduction.None).ToArray();
        TensorAssert.AreClose([0f, 500f], ce, 1e-4, 1e-6, "cross-entropy with logits of ±1000");
    }

    [TestMethod]
    public void ErrorsNameTheRowsAndShapes()
    {
        using var scope = new TensorScope();
        var logits = Tensor.Zeros(new Shape(4, 5));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logits, [1, 0, 7, 2]));
        StringAssert.Contains(e.Message, "CrossEntropy: target 7 at row 2 is outside the 5 classes [0, 5)");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Loss.NllLoss(logits, [-1, 0, 1, 2]));
        StringAssert.Contains(e.Message, "target -1 at row 0");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Loss.MultiMargin(logits, [0, 0, 0, 5]));
        StringAssert.Contains(e.Message, "MultiMargin: target 5 at row 3");

        var s = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.CrossEntropy(logits, [1, 0, 2]));
        StringAssert.Contains(s.Message, "[4, 5]");
        StringAssert.Contains(s.Message, "4 row(s) but 3 target(s)");
        s = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.CrossEntropy(Tensor.Zeros(new Shape(4, 5, 2)), [1, 0, 2, 3]));
        StringAssert.Contains(s.Message, "expected scores [N, C], got [4, 5, 2]");
        s = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.Mse(logits, Tensor.Zeros(new Shape(5, 4))));
        StringAssert.Contains(s.Message, "Mse: shapes [4, 5] and [5, 4]");
        s = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.BinaryCrossEntropyWithLogits(logits, Tensor.Zeros(new Shape(4, 1))));
        StringAssert.Contains(s.Message, "[4, 5] and [4, 1]");
        s = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.BinaryCrossEntropyWithLogits(logits, logits, Tensor.Ones(new Shape(3))));
        StringAssert.Contains(s.Message, "positive weight");

        var a = Assert.ThrowsExactly<ArgumentException>(() => Loss.CrossEntropy(logits, [1, 0, 2, 3], [1f, 2f]));
        StringAssert.Contains(a.Message, "2 class weight(s) given for 5 classes");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logits, [1, 0, 2, 3], labelSmoothing: 1.5f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Loss.MultiMargin(logits, [1, 0, 2, 3], p: 3));
    }

    [TestMethod]
    public void TargetsArrayMayChangeAfterTheForwardPass()
    {
        using var x = GradCheck.Leaf(new Random(1), 2, 3);
        int[] targets = [0, 2];
        using (new TensorScope())
        {
            var loss = Loss.CrossEntropy(x, targets, reduction: Reduction.Sum);
            targets[0] = 1;
            loss.Backward();
        }
        var g = x.Grad!.ToArray();
        Assert.IsTrue(g[0] < 0 && g[1] > 0, "the gradient uses the targets of the forward pass");
        x.ClearGrad();
    }
}
