using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Layers;

[TestClass]
public sealed class ConvFunctionalTests
{
    // ---- gradients ---------------------------------------------------------------------------------

    [TestMethod]
    public void Conv2dGradients()
    {
        var rng = new Random(1);
        using var x = GradCheck.Leaf(rng, 2, 3, 6, 5);
        using var w = GradCheck.Leaf(rng, 4, 3, 3, 3);
        using var b = GradCheck.Leaf(rng, 4);
        GradCheck.Check(t => Functional.Conv2d(t[0], t[1], t[2], padding: 1), [x, w, b]);
    }

    [TestMethod]
    public void Conv2dGradientsWithStrideDilationAndGroups()
    {
        var rng = new Random(2);
        using var x = GradCheck.Leaf(rng, 2, 4, 7, 8);
        using var w = GradCheck.Leaf(rng, 6, 2, 3, 2);
        using var b = GradCheck.Leaf(rng, 6);
        GradCheck.Check(t => Functional.Conv2d(t[0], t[1], t[2], (2, 1), (1, 0), (1, 2), groups: 2), [x, w, b]);
    }

    [TestMethod]
    public void DepthwiseAndPointwiseConv2dGradients()
    {
        var rng = new Random(3);
        using var x = GradCheck.Leaf(rng, 2, 3, 6, 6);
        using var dw = GradCheck.Leaf(rng, 3, 1, 3, 3);
        using var pw = GradCheck.Leaf(rng, 5, 3, 1, 1);
        GradCheck.Check(t => Functional.Conv2d(Functional.Conv2d(t[0], t[1], null, stride: 2, padding: 1, groups: 3), t[2], null), [x, dw, pw]);
    }

    [TestMethod]
    public void Conv1dGradients()
    {
        var rng = new Random(4);
        using var x = GradCheck.Leaf(rng, 2, 3, 10);
        using var w = GradCheck.Leaf(rng, 5, 3, 3);
        using var b = GradCheck.Leaf(rng, 5);
        GradCheck.Check(t => Functional.Conv1d(t[0], t[1], t[2], stride: 2, padding: 1, dilation: 2), [x, w, b]);
    }

    [TestMethod]
    public void ConvTranspose2dGradients()
    {
        var rng = new Random(5);
        using var x = GradCheck.Leaf(rng, 2, 4, 3, 4);
        using var w = GradCheck.Leaf(rng, 4, 3, 2, 3);
        using var b = GradCheck.Leaf(rng, 6);
        GradCheck.Check(t => Functional.ConvTranspose2d(t[0], t[1], t[2], stride: 2, padding: 1, outputPadding: 1, groups: 2), [x, w, b]);
    }

    [TestMethod]
    public void ConvTranspose2dGradientsWithOutputPaddingBelowDilation()
    {
        var rng = new Random(6);
        using var x = GradCheck.Leaf(rng, 2, 2, 3, 4);
        using var w = GradCheck.Leaf(rng, 2, 3, 2, 2);
        GradCheck.Check(t => Functional.ConvTranspose2d(t[0], t[1], null, stride: 1, padding: 0, outputPadding: 1, dilation: 2), [x, w]);
    }

    [TestMethod]
    public void LinearGradients()
    {
        var rng = new Random(7);
        using var x = GradCheck.Leaf(rng, 5, 7);
        using var w = GradCheck.Leaf(rng, 3, 7);
        using var b = GradCheck.Leaf(rng, 3);
        GradCheck.Check(t => Functional.Linear(t[0], t[1], t[2]), [x, w, b]);
        using var x3 = GradCheck.Leaf(rng, 2, 3, 7);
        GradCheck.Check(t => Functional.Linear(t[0], t[1], null), [x3, w]);
    }

    [TestMethod]
    public void OnlyInputsThatNeedGradientsGetThem()
    {
        var rng = new Random(8);
        using var scope = new TensorScope();
        using var x = GradCheck.Leaf(rng, 1, 2, 5, 5);
        var w = Tensor.RandomNormal(new Shape(3, 2, 3, 3), rng);
        var b = Tensor.RandomNormal(new Shape(3), rng);
        Functional.Conv2d(x, w, b, padding: 1).Sum().Backward();
        Assert.IsNotNull(x.Grad);
        Assert.IsNull(w.Grad);
        Assert.IsNull(b.Grad);
    }

    // ---- shapes and textbook values ----------------------------------------------------------------

    [TestMethod]
    [DataRow(7, 3, 0, 1, 5)]
    [DataRow(7, 3, 0, 2, 3)]
    [DataRow(7, 3, 1, 2, 4)]
    [DataRow(32, 5, 2, 1, 32)]
    [DataRow(227, 11, 0, 4, 55)]
    [DataRow(224, 7, 3, 2, 112)]
    public void OutputSizeIsInputMinusFilterPlusTwicePaddingOverStridePlusOne(int w1, int f, int p, int s, int expected)
    {
        Assert.AreEqual(expected, (w1 - f + 2 * p) / s + 1, "formula");
        using var scope = new TensorScope();
        var x = Tensor.Zeros(new Shape(1, 2, w1, w1));
        var w = Tensor.Zeros(new Shape(3, 2, f, f));
        var y = Functional.Conv2d(x, w, null, stride: s, padding: p);
        Assert.AreEqual(new Shape(1, 3, expected, expected), y.Shape);
    }

    /// <summary>6×6 image, left half 10 and right half 0 (or mirrored).</summary>
    private static Tensor EdgeImage(bool mirrored)
    {
        var data = new float[36];
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 6; j++)
            {
                data[i * 6 + j] = (j < 3) != mirrored ? 10f : 0f;
            }
        }
        return Tensor.FromArray(data, new Shape(1, 1, 6, 6));
    }

    private static void AssertRowsAre(Tensor y, float[] row)
    {
        Assert.AreEqual(new Shape(1, 1, 4, 4), y.Shape);
        var expected = Enumerable.Repeat(row, 4).SelectMany(r => r).ToArray();
        TensorAssert.AreClose(expected, y.ToArray(), 1e-5, 0, "edge detector output");
    }

    [TestMethod]
    public void VerticalEdgeDetectorFindsTheEdge()
    {
        using var scope = new TensorScope();
        var vertical = Tensor.FromArray([1, 0, -1, 1, 0, -1, 1, 0, -1], new Shape(1, 1, 3, 3));
        AssertRowsAre(Functional.Conv2d(EdgeImage(mirrored: false), vertical, null), [0, 30, 30, 0]);
        AssertRowsAre(Functional.Conv2d(EdgeImage(mirrored: true), vertical, null), [0, -30, -30, 0]);
    }

    [TestMethod]
    public void SobelFilterWeightsTheCentreRow()
    {
        using var scope = new TensorScope();
        var sobel = Tensor.FromArray([1, 0, -1, 2, 0, -2, 1, 0, -1], new Shape(1, 1, 3, 3));
        AssertRowsAre(Functional.Conv2d(EdgeImage(mirrored: false), sobel, null), [0, 40, 40, 0]);
    }

    [TestMethod]
    public void LinearMatchesHandComputedValues()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray([1, 2, 3, 4], new Shape(2, 2));
        var w = Tensor.FromArray([1, 0, 0, 1, 1, 1], new Shape(3, 2));
        var b = Tensor.FromArray([0.5f, -1, 0], new Shape(3));
        TensorAssert.AreClose([1.5f, 1, 3, 3.5f, 3, 7], new Shape(2, 3), Functional.Linear(x, w, b), 0, 0, "Linear");
        TensorAssert.AreClose([1, 2, 3], new Shape(3), Functional.Linear(Tensor.FromArray([1, 2], new Shape(2)), w, null), 0, 0, "Linear of a vector");
    }

    [TestMethod]
    public void Conv1dIsConv2dOverOneRow()
    {
        var rng = new Random(9);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 3, 11), rng);
        var w = Tensor.RandomNormal(new Shape(4, 3, 3), rng);
        var b = Tensor.RandomNormal(new Shape(4), rng);
        var y = Functional.Conv1d(x, w, b, stride: 2, padding: 2, dilation: 2);
        var g = ConvGeometry.Create(new Shape(2, 3, 1, 11), new Shape(4, 3, 1, 3), 1, 2, 0, 2, 1, 2, 1);
        var expected = NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), b.ToArray(), g);
        TensorAssert.AreClose(expected, new Shape(2, 4, 6), y, 1e-5, 1e-5, "Conv1d");
    }

    // ---- transposed convolution ----------------------------------------------------------------------

    private static float[] Pattern(int length, int modulus, float scale)
        => Enumerable.Range(0, length).Select(i => (i % modulus - modulus / 2) * scale).ToArray();

    [TestMethod]
    public void ConvTranspose2dMatchesPyTorch()
    {
        using var scope = new TensorScope();
        // torch.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2) with
        // x = ((arange(36) % 7) − 3)/4 as [1, 4, 3, 3], w = ((arange(72) % 5) − 2)/2 as [4, 3, 2, 3].
        var x = Tensor.FromArray(Pattern(36, 7, 0.25f), new Shape(1, 4, 3, 3));
        var w = Tensor.FromArray(Pattern(72, 5, 0.5f), new Shape(4, 3, 2, 3));
        var b = Tensor.FromArray([0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.5f], new Shape(6));
        float[] expected =
        [
            -0.25f, 0.875f, 0f, 0.75f, 0.25f, 0.875f, 1f, 0.125f, 1.125f, -1.125f, -0.5f, 1.25f, 0.5f, 0.5f, 0.75f, 1.25f, 1f, -0.375f,
            -0.375f, 1.625f, 0.625f, 1.25f, 0.75f, 0.5f, 1.25f, -0.75f, -0.25f, 0.875f, 0f, 1f, -0.375f, -1.375f, -0.5f, -1f, -0.625f, -0.625f,
            -1.5f, -0.625f, -1.75f, -2.25f, -0.25f, -0.375f, -0.75f, -0.25f, -0.875f, 0.125f, -1.875f, -2f, -0.5f, -0.25f, -0.75f, -1f, -1f, -1.25f,
            -2f, -2.625f, -0.375f, -1.375f, -0.5f, -0.75f, 0.375f, 1f, 0.5f, 0.625f, 0.625f, 0f, 0f, -0.5f, 0f, 1.25f, 0.875f, 0.75f,
            0.75f, -0.125f, 0.875f, -1.375f, -0.75f, 1f, 0.875f, 1.25f, 0f, -0.5f, 0f, -0.25f, -0.625f, 1.375f, 0.375f, 1f, 0.5f, 0.25f,
            2.125f, 3.125f, 1.125f, 1.75f, 1f, 1.125f, 2.25f, 2f, 2f, 2.125f, 1.75f, 1.75f, 2.625f, 1.625f, 2.5f, 2f, 2.375f, 2.375f,
            1.5f, 2.375f, 1.25f, 0.75f, 2.75f, 2.625f, 2.25f, 2.75f, 2.125f, 3.125f, 1.125f, 1f, 0.125f, -2.125f, -1.5f, -0.75f, -1.375f, 0f,
            -0.75f, -1.25f, -0.75f, -1.25f, -0.75f, -0.75f, -0.375f, 0.25f, -0.25f, -0.125f, -0.125f, -0.75f, -0.75f, -1.25f, -0.75f, 0.5f, 0.125f, 0f,
            0f, -0.875f, 0.125f, -2.125f, -1.5f, 0.25f, 0.75f, 0.25f, 2.25f, 1.25f, 2f, 2.125f, 0.75f, 1.875f, 1f, 1.75f, 1.25f, 1.875f,
            1.75f, 1.5f, 1.5f, 1.625f, 1.25f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2f, 0.625f, 1f, 1.875f, 0.75f, 0.25f, 2.25f, 2.125f,
        ];
        var y = Functional.ConvTranspose2d(x, w, b, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        TensorAssert.AreClose(expected, new Shape(1, 6, 5, 6), y, 1e-6, 0, "conv_transpose2d stride 2, output padding 1, groups 2");
    }

    [TestMethod]
    public void ConvTranspose2dWithOutputPaddingBelowDilationMatchesPyTorch()
    {
        using var scope = new TensorScope();
        // conv_transpose2d(x, w, stride=1, padding=0, output_padding=1, dilation=2), x = ((arange(18) % 7) − 3)/4
        // as [1, 2, 3, 3], w = ((arange(8) % 5) − 2)/2 as [2, 1, 2, 2].
        var x = Tensor.FromArray(Pattern(18, 7, 0.25f), new Shape(1, 2, 3, 3));
        var w = Tensor.FromArray(Pattern(8, 5, 0.5f), new Shape(2, 1, 2, 2));
        float[] expected =
        [
            0.5f, 0.5f, 1.125f, 0.25f, -0.125f, 0f, 0.5f, 0.5f, -1.75f, -0.875f, 0.5f, 0f, -1.125f, 0.5f, 0.125f, 0.375f, 0.125f, 0f,
            -0.25f, -0.375f, 0.375f, 0.125f, 0.25f, 0f, 0.25f, 0.125f, 0.375f, -0.375f, -0.25f, 0f, 0f, 0f, 0f, 0f, 0f, 0f,
        ];
        var y = Functional.ConvTranspose2d(x, w, null, stride: 1, padding: 0, outputPadding: 1, dilation: 2);
        TensorAssert.AreClose(expected, new Shape(1, 1, 6, 6), y, 1e-6, 0, "conv_transpose2d dilation 2, output padding 1");
    }

    [TestMethod]
    [DataRow(2, 4, 5, 6, 3, 3, 3, 2, 1, 1, 1, 1)]
    [DataRow(1, 6, 4, 3, 2, 2, 3, 3, 0, 2, 1, 3)]
    [DataRow(3, 2, 3, 3, 5, 3, 2, 1, 2, 0, 2, 1)]
    [DataRow(2, 4, 4, 4, 1, 1, 1, 2, 0, 1, 1, 4)]
    public void ConvTranspose2dMatchesNaive(int n, int cin, int h, int w, int coutPerGroup, int r, int s, int stride, int pad, int outPad, int dilation, int groups)
    {
        var rng = new Random(n * 100 + cin);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(n, cin, h, w), rng);
        var wt = Tensor.RandomNormal(new Shape(cin, coutPerGroup, r, s), rng);
        var b = Tensor.RandomNormal(new Shape(coutPerGroup * groups), rng);
        var y = Functional.ConvTranspose2d(x, wt, b, stride, pad, outPad, dilation, groups);
        var (expected, shape) = NaiveOps.ConvTranspose2d(x.ToArray(), [n, cin, h, w], wt.ToArray(), [cin, coutPerGroup, r, s], b.ToArray(), stride, pad, outPad, dilation, groups);
        TensorAssert.AreClose(expected, new Shape(shape), y, 1e-4, 1e-4, "ConvTranspose2d");
    }

    [TestMethod]
    public void ConvTranspose2dIsTheAdjointOfConv2d()
    {
        // <conv(x), y> = <x, convT(y)> for the same filter, stride, padding and dilation.
        var rng = new Random(10);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(2, 4, 9, 8), rng);
        var w = Tensor.RandomNormal(new Shape(6, 2, 3, 3), rng);
        var cx = Functional.Conv2d(x, w, null, stride: 2, padding: 1, dilation: 1, groups: 2);
        var y = Tensor.RandomNormal(cx.Shape, rng);
        var ty = Functional.ConvTranspose2d(y, w, null, stride: 2, padding: 1, outputPadding: 0, dilation: 1, groups: 2);
        Assert.AreEqual(new Shape(2, 4, 9, 7), ty.Shape);
        // Output padding 1 recovers the full width 8 (the last column only feeds through padding).
        var ty8 = Functional.ConvTranspose2d(y, w, null, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        Assert.AreEqual(new Shape(2, 4, 10, 8), ty8.Shape);
        double left = Dot(cx.ToArray(), y.ToArray());
        var xs = x.ToArray();
        var t = ty8.ToArray();
        double right = 0;
        for (int plane = 0; plane < 8; plane++)
        {
            for (int i = 0; i < 9; i++)
            {
                for (int j = 0; j < 8; j++)
                {
                    right += (double)xs[(plane * 9 + i) * 8 + j] * t[(plane * 10 + i) * 8 + j];
                }
            }
        }
        Assert.AreEqual(left, right, 1e-3 * Math.Abs(left) + 1e-3);
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    // ---- errors ------------------------------------------------------------------------------------

    [TestMethod]
    public void MismatchedShapesNameTheOperationAndBothShapes()
    {
        using var scope = new TensorScope();
        var x = Tensor.Zeros(new Shape(1, 3, 8, 8));
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.Conv2d(x, Tensor.Zeros(new Shape(4, 2, 3, 3)), null));
        StringAssert.Contains(ex.Message, "Conv2d");
        StringAssert.Contains(ex.Message, x.Shape.ToString());
        StringAssert.Contains(ex.Message, new Shape(4, 2, 3, 3).ToString());
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.Conv2d(x, Tensor.Zeros(new Shape(4, 3, 3, 3)), Tensor.Zeros(new Shape(3))));
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.Conv2d(x, Tensor.Zeros(new Shape(4, 3, 9, 9)), null));
        var lin = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.Linear(Tensor.Zeros(new Shape(2, 5)), Tensor.Zeros(new Shape(3, 4)), null));
        StringAssert.Contains(lin.Message, "Linear");
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.Conv1d(x, Tensor.Zeros(new Shape(4, 3, 3)), null));
        Assert.ThrowsExactly<ArgumentException>(() => Functional.ConvTranspose2d(x, Tensor.Zeros(new Shape(3, 2, 3, 3)), null, stride: 2, outputPadding: 2));
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.ConvTranspose2d(x, Tensor.Zeros(new Shape(2, 2, 3, 3)), null));
    }
}
