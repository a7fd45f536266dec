using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Layers;

[TestClass]
public sealed class NormalizationTests
{
    private const float Eps = 1e-5f;

    // ---- values from PyTorch 1.13 ---------------------------------------------------------------

    [TestMethod]
    public void BatchNormTrainingMatchesPyTorchAndUpdatesRunningStatistics()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(24, 0.2), new Shape(2, 3, 2, 2));
        var (w, b) = BnAffine();
        var (rm, rv) = BnRunning();
        var y = Functional.BatchNorm(x, rm, rv, w, b, training: true, momentum: 0.1f, eps: Eps);
        TensorAssert.AreClose(BnTrainY, x.Shape, y, 1e-5, 1e-5, "BatchNorm training output");
        TensorAssert.AreClose(BnTrainRunningMean, rm.ToArray(), 1e-6, 1e-5, "running mean (momentum 0.1)");
        TensorAssert.AreClose(BnTrainRunningVar, rv.ToArray(), 1e-6, 1e-5, "running variance (unbiased batch variance)");
    }

    [TestMethod]
    public void BatchNormEvalUsesRunningStatisticsWithAndWithoutGradients()
    {
        using var scope = new TensorScope();
        var (w, b) = BnAffine();
        var (rm, rv) = BnRunning();
        var x = Tensor.FromArray(Pattern(24, 1.0), new Shape(2, 3, 2, 2));
        var fused = Functional.BatchNorm(x, rm, rv, w, b, training: false, eps: Eps);
        TensorAssert.AreClose(BnEvalY, x.Shape, fused, 1e-5, 1e-5, "BatchNorm eval (no gradient)");

        w.RequiresGrad = true;
        var xg = Tensor.FromArray(Pattern(24, 1.0), new Shape(2, 3, 2, 2));
        xg.RequiresGrad = true;
        var recorded = Functional.BatchNorm(xg, rm, rv, w, b, training: false, eps: Eps);
        Assert.IsTrue(recorded.RequiresGrad);
        TensorAssert.AreClose(BnEvalY, x.Shape, recorded, 1e-5, 1e-5, "BatchNorm eval (recorded)");
        TensorAssert.AreClose([0.2f, -0.1f, 0.05f], rm.ToArray(), 0, 0, "running mean untouched in eval");
        TensorAssert.AreClose([1f, 0.5f, 2f], rv.ToArray(), 0, 0, "running variance untouched in eval");

        // Eval-mode gradients: dx = dy·γ/√(var + eps), dγ = Σ dy·(x − mean)/√(var + eps), dβ = Σ dy.
        recorded.Sum().Backward();
        var gx = xg.Grad!.ToArray();
        var gw = w.Grad!.ToArray();
        float[] wv = [0.5f, 1.5f, -1.0f], mv = [0.2f, -0.1f, 0.05f], vv = [1f, 0.5f, 2f];
        var xv = Pattern(24, 1.0);
        for (int c = 0; c < 3; c++)
        {
            float inv = 1f / MathF.Sqrt(vv[c] + Eps);
            double dgamma = 0;
            for (int n = 0; n < 2; n++)
            {
                for (int s = 0; s < 4; s++)
                {
                    int i = (n * 3 + c) * 4 + s;
                    Assert.AreEqual(wv[c] * inv, gx[i], 1e-5, $"eval dx[{i}]");
                    dgamma += (xv[i] - mv[c]) * inv;
                }
            }
            Assert.AreEqual(dgamma, gw[c], 1e-4, $"eval dgamma[{c}]");
        }
    }

    [TestMethod]
    public void BatchNormOnFeatureVectorsWithoutAffineMatchesPyTorch()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(12, 0.5), new Shape(4, 3));
        var rm = Tensor.Zeros(new Shape(3));
        var rv = Tensor.Ones(new Shape(3));
        var y = Functional.BatchNorm(x, rm, rv, null, null, training: true, momentum: 0.2f, eps: Eps);
        TensorAssert.AreClose(Bn1dY, x.Shape, y, 1e-5, 1e-5, "BatchNorm [N, C] output");
        TensorAssert.AreClose(Bn1dRunningMean, rm.ToArray(), 1e-6, 1e-5, "running mean (momentum 0.2)");
        TensorAssert.AreClose(Bn1dRunningVar, rv.ToArray(), 1e-6, 1e-5, "running variance (momentum 0.2)");
    }

    [TestMethod]
    public void LayerNormMatchesPyTorch()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(24, 0.3), new Shape(2, 3, 4));
        var w = Tensor.FromArray(Pattern(12, 2.0).Select(v => v * 0.5f).ToArray(), new Shape(3, 4));
        var b = Tensor.FromArray(Pattern(12, 3.0).Select(v => v * 0.1f).ToArray(), new Shape(3, 4));
        var y = Functional.LayerNorm(x, [3, 4], w, b, Eps);
        TensorAssert.AreClose(LnY, x.Shape, y, 1e-5, 1e-5, "LayerNorm over [3, 4]");
    }

    [TestMethod]
    public void GroupNormMatchesPyTorch()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(72, 0.7), new Shape(2, 6, 2, 3));
        var w = Tensor.FromArray(Pattern(6, 1.1).Select(v => v * 0.5f).ToArray(), new Shape(6));
        var b = Tensor.FromArray(Pattern(6, 2.1).Select(v => v * 0.1f).ToArray(), new Shape(6));
        var y = Functional.GroupNorm(x, 3, w, b, Eps);
        TensorAssert.AreClose(GnY, x.Shape, y, 1e-5, 1e-5, "GroupNorm, 3 groups");
    }

    [TestMethod]
    public void LocalResponseNormMatchesPyTorchForOddAndEvenSizes()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(56, 0.9), new Shape(2, 7, 2, 2));
        TensorAssert.AreClose(LrnSize3Y, x.Shape, Functional.LocalResponseNorm(x, 3, 0.5f, 0.75f, 2f), 1e-6, 1e-5, "LRN size 3");
        TensorAssert.AreClose(LrnSize4Y, x.Shape, Functional.LocalResponseNorm(x, 4, 0.5f, 0.75f, 2f), 1e-6, 1e-5, "LRN size 4 (window 2 before, 1 after)");
    }

    // ---- large shapes (parallel paths) against compositions of tensor ops -------------------------

    [TestMethod]
    public void BatchNormMatchesCompositionOnLargeShapes()
    {
        var rng = new Random(31);
        foreach (var dims in new[] { new[] { 8, 16, 20, 20 }, [40, 2100], [6, 5, 7], [3, 4, 1, 1] })
        {
            var shape = new Shape(dims);
            int c = dims[1];
            var xv = Values(rng, shape.Size, mean: 3f);
            var wv = Values(rng, c, 1f);
            var bv = Values(rng, c, 0f);
            var dyv = Values(rng, shape.Size, 0f);
            var runningMean = new float[c];
            var runningVar = new float[c];
            using (var scope = new TensorScope())
            {
                var (x, w, b) = (Leaf(xv, shape), Leaf(wv, new Shape(c)), Leaf(bv, new Shape(c)));
                var rm = Tensor.Zeros(new Shape(c));
                var rv = Tensor.Ones(new Shape(c));
                var y = Functional.BatchNorm(x, rm, rv, w, b, training: true, momentum: 0.1f, eps: Eps);
                y.Backward(Tensor.FromArray(dyv, shape));

                var (xr, wr, br) = (Leaf(xv, shape), Leaf(wv, new Shape(c)), Leaf(bv, new Shape(c)));
                var perm = Enumerable.Range(0, dims.Length).ToArray();
                (perm[0], perm[1]) = (1, 0);
                var swapped = xr.Permute(perm);
                var rows = NormalizeRows(swapped.Reshape(c, -1));
                var channelShape = Enumerable.Repeat(1, dims.Length).ToArray();
                channelShape[1] = c;
                var yr = rows.Reshape(swapped.Shape.ToArray()).Permute(perm) * wr.Reshape(channelShape) + br.Reshape(channelShape);
                yr.Backward(Tensor.FromArray(dyv, shape));

                string what = $"BatchNorm {shape}";
                TensorAssert.AreClose(yr, y, 1e-4, 1e-4, what);
                TensorAssert.AreClose(xr.Grad!, x.Grad!, 1e-4, 1e-3, what + " dx");
                TensorAssert.AreClose(wr.Grad!, w.Grad!, 1e-3, 1e-3, what + " dweight");
                TensorAssert.AreClose(br.Grad!, b.Grad!, 1e-3, 1e-3, what + " dbias");

                // Running statistics from the same batch: mean and unbiased variance per channel.
                int spatial = shape.Size / (dims[0] * c), m = dims[0] * spatial;
                var sum = new double[c];
                var sq = new double[c];
                for (int i = 0; i < shape.Size; i++)
                {
                    sum[i / spatial % c] += xv[i];
                }
                for (int i = 0; i < shape.Size; i++)
                {
                    double d = xv[i] - sum[i / spatial % c] / m;
                    sq[i / spatial % c] += d * d;
                }
                for (int ch = 0; ch < c; ch++)
                {
                    runningMean[ch] = (float)(0.1 * sum[ch] / m);
                    runningVar[ch] = (float)(0.9 + 0.1 * sq[ch] / (m - 1));
                }
                TensorAssert.AreClose(runningMean, rm.ToArray(), 1e-5, 1e-4, what + " running mean");
                TensorAssert.AreClose(runningVar, rv.ToArray(), 1e-5, 1e-4, what + " running variance");
            }
        }
    }

    [TestMethod]
    public void LayerNormMatchesCompositionOnLargeShapes()
    {
        var rng = new Random(32);
        foreach (var (dims, normalized, affine) in new[] { (new[] { 48, 40, 24 }, new[] { 40, 24 }, true), ([48, 40, 24], [24], false), ([5, 7], [7], true), ([3, 1], [1], true) })
        {
            var shape = new Shape(dims);
            var ns = new Shape(normalized);
            var xv = Values(rng, shape.Size, mean: -2f);
            var wv = Values(rng, ns.Size, 1f);
            var bv = Values(rng, ns.Size, 0f);
            var dyv = Values(rng, shape.Size, 0f);
            using var scope = new TensorScope();
            var (x, w, b) = (Leaf(xv, shape), Leaf(wv, ns), Leaf(bv, ns));
            var y = Functional.LayerNorm(x, normalized, affine ? w : null, affine ? b : null, Eps);
            y.Backward(Tensor.FromArray(dyv, shape));

            var (xr, wr, br) = (Leaf(xv, shape), Leaf(wv, ns), Leaf(bv, ns));
            var yr = NormalizeRows(xr.Reshape(-1, ns.Size)).Reshape(dims);
            if (affine)
            {
                yr = yr * wr + br;
            }
            yr.Backward(Tensor.FromArray(dyv, shape));

            string what = $"LayerNorm {shape} over {ns} affine={affine}";
            TensorAssert.AreClose(yr, y, 1e-4, 1e-4, what);
            TensorAssert.AreClose(xr.Grad!, x.Grad!, 1e-4, 1e-3, what + " dx");
            if (affine)
            {
                TensorAssert.AreClose(wr.Grad!, w.Grad!, 1e-3, 1e-3, what + " dweight");
                TensorAssert.AreClose(br.Grad!, b.Grad!, 1e-3, 1e-3, what + " dbias");
            }
        }
    }

    [TestMethod]
    public void GroupNormMatchesCompositionOnLargeShapes()
    {
        var rng = new Random(33);
        foreach (var (dims, groups, affine) in new[] { (new[] { 4, 32, 16, 16 }, 8, true), ([2, 6, 5], 6, true), ([3, 4, 3, 3], 1, false), ([1, 8, 7, 9], 4, true) })
        {
            var shape = new Shape(dims);
            int c = dims[1];
            var xv = Values(rng, shape.Size, mean: 1.5f);
            var wv = Values(rng, c, 1f);
            var bv = Values(rng, c, 0f);
            var dyv = Values(rng, shape.Size, 0f);
            using var scope = new TensorScope();
            var (x, w, b) = (Leaf(xv, shape), Leaf(wv, new Shape(c)), Leaf(bv, new Shape(c)));
            var y = Functional.GroupNorm(x, groups, affine ? w : null, affine ? b : null, Eps);
            y.Backward(Tensor.FromArray(dyv, shape));

            var (xr, wr, br) = (Leaf(xv, shape), Leaf(wv, new Shape(c)), Leaf(bv, new Shape(c)));
            var yr = NormalizeRows(xr.Reshape(dims[0] * groups, -1)).Reshape(dims[0], c, -1);
            if (affine)
            {
                yr = yr * wr.Reshape(c, 1) + br.Reshape(c, 1);
            }
            yr = yr.Reshape(dims);
            yr.Backward(Tensor.FromArray(dyv, shape));

            string what = $"GroupNorm {shape} groups={groups} affine={affine}";
            TensorAssert.AreClose(yr, y, 1e-4, 1e-4, what);
            TensorAssert.AreClose(xr.Grad!, x.Grad!, 1e-4, 1e-3, what + " dx");
            if (affine)
            {
                TensorAssert.AreClose(wr.Grad!, w.Grad!, 1e-3, 1e-3, what + " dweight");
                TensorAssert.AreClose(br.Grad!, b.Grad!, 1e-3, 1e-3, what + " dbias");
            }
        }
    }

    [TestMethod]
    public void LocalResponseNormMatchesNaiveLoops()
    {
        var rng = new Random(34);
        // [2, 8, 40, 40] spans two spatial blocks per sample; the others are small, odd and batch 1.
        foreach (var (dims, size) in new[] { (new[] { 2, 8, 40, 40 }, 5), ([1, 5, 3, 3], 2), ([3, 4, 7], 7), ([2, 1, 4, 4], 3) })
        {
            const float alpha = 0.3f, beta = 0.75f, k = 1.5f;
            var shape = new Shape(dims);
            var xv = Values(rng, shape.Size, 0f);
            var dyv = Values(rng, shape.Size, 0f);
            var (expectedY, expectedDx) = NaiveLrn(xv, dyv, dims[0], dims[1], shape.Size / (dims[0] * dims[1]), size, alpha, beta, k);
            using var scope = new TensorScope();
            var x = Leaf(xv, shape);
            var y = Functional.LocalResponseNorm(x, size, alpha, beta, k);
            y.Backward(Tensor.FromArray(dyv, shape));
            string what = $"LRN {shape} size={size}";
            TensorAssert.AreClose(expectedY, shape, y, 1e-5, 1e-4, what);
            TensorAssert.AreClose(expectedDx, x.Grad!.ToArray(), 1e-5, 1e-4, what + " dx");
        }
    }

    // ---- gradient checks (central differences) ----------------------------------------------------

    [TestMethod]
    public void BatchNormTrainingGradCheck()
    {
        var rng = new Random(41);
        using var x = GradCheck.Leaf(rng, 4, 3, 3, 3);
        using var w = GradCheck.Leaf(rng, 3);
        using var b = GradCheck.Leaf(rng, 3);
        using var rm = Tensor.Zeros(new Shape(3)).Unscope();
        using var rv = Tensor.Ones(new Shape(3)).Unscope();
        GradCheck.Check(t => Functional.BatchNorm(t[0], rm, rv, t[1], t[2], training: true), [x, w, b]);
        using var x2 = GradCheck.Leaf(rng, 6, 4);
        GradCheck.Check(t => Functional.BatchNorm(t[0], rm, rv, null, null, training: true), [x]);
        using var rm4 = Tensor.Zeros(new Shape(4)).Unscope();
        using var rv4 = Tensor.Ones(new Shape(4)).Unscope();
        GradCheck.Check(t => Functional.BatchNorm(t[0], rm4, rv4, null, null, training: true), [x2]);
    }

    [TestMethod]
    public void BatchNormEvalGradCheck()
    {
        var rng = new Random(42);
        using var x = GradCheck.Leaf(rng, 2, 3, 4, 3);
        using var w = GradCheck.Leaf(rng, 3);
        using var b = GradCheck.Leaf(rng, 3);
        using var rm = Tensor.FromArray([0.3f, -0.2f, 0.1f], new Shape(3)).Unscope();
        using var rv = Tensor.FromArray([0.8f, 1.4f, 0.5f], new Shape(3)).Unscope();
        GradCheck.Check(t => Functional.BatchNorm(t[0], rm, rv, t[1], t[2], training: false), [x, w, b]);
        GradCheck.Check(t => Functional.BatchNorm(t[0], rm, rv, null, null, training: false), [x]);
    }

    [TestMethod]
    public void LayerNormGradCheck()
    {
        var rng = new Random(43);
        using var x = GradCheck.Leaf(rng, 3, 4, 5);
        using var w = GradCheck.Leaf(rng, 4, 5);
        using var b = GradCheck.Leaf(rng, 4, 5);
        GradCheck.Check(t => Functional.LayerNorm(t[0], [4, 5], t[1], t[2]), [x, w, b]);
        GradCheck.Check(t => Functional.LayerNorm(t[0], [5], null, null), [x]);
    }

    [TestMethod]
    public void GroupNormGradCheck()
    {
        var rng = new Random(44);
        using var x = GradCheck.Leaf(rng, 2, 6, 3, 3);
        using var w = GradCheck.Leaf(rng, 6);
        using var b = GradCheck.Leaf(rng, 6);
        GradCheck.Check(t => Functional.GroupNorm(t[0], 3, t[1], t[2]), [x, w, b]);
        GradCheck.Check(t => Functional.GroupNorm(t[0], 2, t[1], null), [x, w]);
        GradCheck.Check(t => Functional.GroupNorm(t[0], 6, null, t[1]), [x, b]);
    }

    [TestMethod]
    public void LocalResponseNormGradCheck()
    {
        var rng = new Random(45);
        using var x = GradCheck.Leaf(rng, 2, 6, 3, 3);
        GradCheck.Check(t => Functional.LocalResponseNorm(t[0], 3, 0.5f, 0.75f, 1f), [x]);
        GradCheck.Check(t => Functional.LocalResponseNorm(t[0], 4, 0.8f, 0.6f, 2f), [x]);
    }

    // ---- errors -----------------------------------------------------------------------------------

    [TestMethod]
    public void InvalidShapesFailWithClearErrors()
    {
        using var scope = new TensorScope();
        var x = Tensor.Zeros(new Shape(2, 6, 3, 3));
        var groups = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.GroupNorm(x, 4, null, null));
        StringAssert.Contains(groups.Message, "[2, 6, 3, 3]");
        StringAssert.Contains(groups.Message, "4 groups");

        var layer = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.LayerNorm(x, [4, 3], null, null));
        StringAssert.Contains(layer.Message, "[2, 6, 3, 3]");
        StringAssert.Contains(layer.Message, "[4, 3]");
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.LayerNorm(x, [3, 3], Tensor.Ones(new Shape(9)), null));

        var running = Tensor.Zeros(new Shape(6));
        var mean = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.BatchNorm(x, Tensor.Zeros(new Shape(5)), running, null, null, true));
        StringAssert.Contains(mean.Message, "[5]");
        StringAssert.Contains(mean.Message, "[2, 6, 3, 3]");
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.BatchNorm(Tensor.Zeros(new Shape(1, 2, 2, 2, 2)), running, running, null, null, true));
        var single = Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros(new Shape(1, 6)), running, running, null, null, true));
        StringAssert.Contains(single.Message, "more than one value per channel");
        Assert.AreEqual(new Shape(1, 6), Functional.BatchNorm(Tensor.Zeros(new Shape(1, 6)), running, running, null, null, false).Shape);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.LocalResponseNorm(x, 0));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>(x − mean)/√(var + eps) per row of [R, M], composed from recorded tensor ops.</summary>
    private static Tensor NormalizeRows(Tensor rows)
    {
        var mean = rows.Mean(1, keepDim: true);
        var d = rows + (-mean);
        var variance = (d * d).Mean(1, keepDim: true);
        return d / (variance + Eps).Sqrt();
    }

    private static (float[] Y, float[] Dx) NaiveLrn(float[] x, float[] dy, int n, int c, int s, int size, float alpha, float beta, float k)
    {
        int before = size / 2, after = (size - 1) / 2;
        var y = new float[x.Length];
        var dx = new double[x.Length];
        var den = new double[x.Length];
        int At(int b, int ch, int p) => (b * c + ch) * s + p;
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int p = 0; p < s; p++)
                {
                    double sum = 0;
                    for (int j = ch - before; j <= ch + after; j++)
                    {
                        if (j >= 0 && j < c)
                        {
                            sum += (double)x[At(b, j, p)] * x[At(b, j, p)];
                        }
                    }
                    den[At(b, ch, p)] = k + alpha / size * sum;
                    y[At(b, ch, p)] = (float)(x[At(b, ch, p)] * Math.Pow(den[At(b, ch, p)], -beta));
                }
            }
        }
        // dx_j = Σ_c dy_c·∂y_c/∂x_j, ∂y_c/∂x_j = [c = j]·D_c^−β − β·x_c·D_c^(−β−1)·(2α/size)·x_j for j in c's window.
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int p = 0; p < s; p++)
                {
                    double d = den[At(b, ch, p)];
                    double g = dy[At(b, ch, p)];
                    for (int j = ch - before; j <= ch + after; j++)
                    {
                        if (j < 0 || j >= c)
                        {
                            continue;
                        }
                        double partial = -beta * x[At(b, ch, p)] * Math.Pow(d, -beta - 1) * 2 * alpha / size * x[At(b, j, p)];
                        if (j == ch)
                        {
                            partial += Math.Pow(d, -beta);
                        }
                        dx[At(b, j, p)] += g * partial;
                    }
                }
            }
        }
        return (y, dx.Select(v => (float)v).ToArray());
    }

    private static Tensor Leaf(float[] values, Shape shape)
    {
        var t = Tensor.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }

    private static float[] Values(Random rng, int count, float mean)
    {
        var v = new float[count];
        Tensor.FillNormal(v, rng, mean, 1f);
        return v;
    }

    private static (Tensor Weight, Tensor Bias) BnAffine()
        => (Tensor.FromArray([0.5f, 1.5f, -1.0f], new Shape(3)), Tensor.FromArray([0.1f, -0.2f, 0.3f], new Shape(3)));

    private static (Tensor Mean, Tensor Var) BnRunning()
        => (Tensor.FromArray([0.2f, -0.1f, 0.05f], new Shape(3)), Tensor.FromArray([1f, 0.5f, 2f], new Shape(3)));

    /// <summary>sin(0.37·i + phase)·2 + 0.1·(i mod 5), the inputs the PyTorch reference values were computed from.</summary>
    private static float[] Pattern(int count, double phase)
        => Enumerable.Range(0, count).Select(i => (float)(Math.Sin(0.37 * i + phase) * 2 + 0.1 * (i % 5))).ToArray();

    // torch 1.13, float32. BatchNorm: x = Pattern(24, 0.2).reshape(2, 3, 2, 2), weight [0.5, 1.5, −1], bias [0.1, −0.2, 0.3],
    // running mean [0.2, −0.1, 0.05], running var [1, 0.5, 2], momentum 0.1, eps 1e-5; F.batch_norm(training=True).
    private static readonly float[] BnTrainY = [0.2310098f, 0.4912881f, 0.7029433f, 0.8418339f, 1.911136f, 0.7382734f, 0.06219557f, -0.9558066f, 0.498102f, 0.9222428f, 1.618032f, 1.84488f, -0.4986715f, -0.4378622f, -0.2909095f, -0.2396319f, -3.085432f, -1.487586f, 0.003971738f, 1.213246f, -0.6450181f, -0.7480198f, -0.6672702f, -0.4229484f];
    private static readonly float[] BnTrainRunningMean = [0.180376f, 0.03840443f, 0.1003057f];
    private static readonly float[] BnTrainRunningVar = [1.15786f, 0.5203244f, 2.044691f];

    // Same parameters and initial running statistics, x = Pattern(24, 1.0); F.batch_norm(training=False).
    private static readonly float[] BnEvalY = [0.8414673f, 1.029903f, 1.085714f, 1.008113f, 3.467193f, 1.231784f, -0.1080503f, -1.402907f, 1.15568f, 1.364583f, 1.749457f, 1.589386f, -0.6467617f, -0.3057219f, 0.09699772f, 0.2636594f, 2.747067f, 4.021951f, 4.811546f, 5.037694f, -0.873227f, -0.5965852f, -0.2033801f, 0.2435998f];

    // x = Pattern(12, 0.5).reshape(4, 3), no affine, running mean 0, var 1, momentum 0.2.
    private static readonly float[] Bn1dY = [0.1177188f, 0.6704272f, 1.138257f, 1.307266f, 1.067801f, 0.7069147f, 0.08182427f, -0.1984456f, -0.4214388f, -1.506809f, -1.539783f, -1.423733f];
    private static readonly float[] Bn1dRunningMean = [0.1652563f, 0.1211761f, 0.06543232f];
    private static readonly float[] Bn1dRunningVar = [1.13819f, 1.42062f, 1.440743f];

    // x = Pattern(24, 0.3).reshape(2, 3, 4), weight = 0.5·Pattern(12, 2.0), bias = 0.1·Pattern(12, 3.0); F.layer_norm(x, [3, 4]).
    private static readonly float[] LnY = [-0.0432395f, 0.3259847f, 0.3587896f, 0.07969068f, -0.3186416f, -0.6742402f, -0.5185299f, -0.1090325f, 0.3543151f, 0.6178389f, 0.9917095f, 0.451526f, -1.448044f, -1.116638f, -0.6316797f, -0.309129f, -0.102117f, -0.3127592f, -0.7414171f, -1.084255f, -0.8420855f, -0.5905257f, -0.4204766f, 0.05059864f];

    // x = Pattern(72, 0.7).reshape(2, 6, 2, 3), weight = 0.5·Pattern(6, 1.1), bias = 0.1·Pattern(6, 2.1); F.group_norm(x, 3).
    private static readonly float[] GnY = [0.6638377f, 0.9995857f, 1.194471f, 1.230147f, 1.109812f, 0.5611685f, 0.1894881f, -0.2523916f, -0.6664317f, -0.9871799f, -1.509586f, -1.50505f, -1.962154f, -1.515317f, -0.9069815f, -0.6350409f, 0.07169196f, 0.7020059f, 1.003603f, 1.251199f, 0.9109678f, 0.7523435f, 0.424751f, -0.01712038f, 0.237176f, -0.4075782f, -0.6775313f, -0.822949f, -0.8161702f, -0.650133f, -0.2978037f, -0.1882393f, -0.06265848f, 0.06401616f, 0.1767141f, 0.1856278f, 1.423995f, 1.453306f, 1.32937f, 1.076877f, 0.4455537f, 0.07391078f, -0.3871192f, -0.698783f, -0.8648437f, -1.196333f, -0.9999294f, -0.6357214f, -1.450106f, -0.5564934f, -0.2017052f, 0.5964529f, 1.200106f, 1.542293f, 1.370036f, 0.6713656f, 0.2469188f, -0.3202236f, -0.9401034f, -1.515625f, -0.8034306f, -0.9153993f, -0.905293f, -0.7681065f, -0.5160337f, -0.4122687f, -0.1395812f, -0.0386049f, 0.05078367f, 0.118143f, 0.09480758f, 0.09971959f];

    // x = Pattern(56, 0.9).reshape(2, 7, 2, 2); F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=2.0) for size 3 and 4.
    private static readonly float[] LrnSize3Y = [0.6982651f, 0.9360732f, 1.012381f, 0.9798729f, 0.7602386f, 0.3279807f, 0.05637988f, -0.1953462f, -0.4419187f, -0.6872186f, -0.9537005f, -0.8911373f, -0.6703112f, -0.349338f, -0.001406571f, 0.1288295f, 0.4819686f, 0.7810535f, 0.9792536f, 1.052466f, 0.8409664f, 0.6175906f, 0.376622f, 0.1286003f, -0.1461774f, -0.6380666f, -0.8148677f, -0.8861115f, -0.8218967f, -0.601599f, -0.4895501f, -0.1406396f, 0.2267902f, 0.5568834f, 0.8088f, 0.8760501f, 0.9722614f, 0.8714433f, 0.6734486f, 0.4760873f, 0.006732936f, -0.2458981f, -0.4924074f, -0.7033505f, -0.8189686f, -0.8958437f, -0.6990848f, -0.3810471f, -0.03232419f, 0.2909732f, 0.4215455f, 0.7603595f, 0.9932584f, 1.012687f, 0.9657777f, 0.627026f];
    private static readonly float[] LrnSize4Y = [0.7431876f, 0.988062f, 1.070605f, 1.034857f, 0.8154204f, 0.3514075f, 0.06130693f, -0.2114741f, -0.4367671f, -0.6188662f, -0.8509469f, -0.8005663f, -0.632839f, -0.3645512f, -0.001529107f, 0.1394561f, 0.4994067f, 0.7833723f, 0.9212384f, 1.009141f, 0.8275838f, 0.6513467f, 0.4091346f, 0.1395808f, -0.145398f, -0.5994294f, -0.7221497f, -0.7601631f, -0.8537352f, -0.6267971f, -0.518782f, -0.147283f, 0.2443922f, 0.5997178f, 0.8744361f, 0.9281498f, 0.937723f, 0.8875082f, 0.7035568f, 0.5110961f, 0.007164831f, -0.2523699f, -0.4663962f, -0.6527703f, -0.7222301f, -0.8284653f, -0.6718335f, -0.3889447f, -0.0347623f, 0.3143362f, 0.4391563f, 0.7508356f, 0.9598899f, 0.9595895f, 0.9570367f, 0.6449236f];
}
