using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using PoolParams = Microsoft.ML.ConvNet.Tests.Infrastructure.NaiveOps.PoolParams;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

[TestClass]
public sealed class PoolingTests
{
    /// <summary>(N, C, H, W, kernel, stride, padding, dilation, ceil mode).</summary>
    private static readonly (int N, int C, int H, int W, int K, int S, int P, int D, bool Ceil)[] Cases =
    [
        (2, 3, 8, 8, 2, 2, 0, 1, false),     // 2×2 stride 2 halves
        (1, 1, 7, 7, 3, 2, 1, 1, false),     // overlapping 3×3 stride 2, padding, batch 1
        (2, 2, 9, 11, 3, 2, 0, 1, true),     // ceil mode, odd sizes
        (1, 3, 10, 7, 3, 1, 1, 1, false),    // stride 1 (contiguous sweep)
        (1, 2, 6, 5, 2, 2, 1, 1, true),      // ceil mode with padding: windows run past the input
        (3, 4, 5, 5, 5, 1, 2, 1, false),     // kernel as large as the input
        (1, 1, 1, 1, 1, 1, 0, 1, false),     // single element
        (1, 2, 10, 10, 2, 3, 0, 1, true),    // stride larger than the kernel (gaps)
        (1, 2, 13, 4, 4, 2, 2, 1, true),     // even kernel, half-kernel padding, ceil
        (2, 16, 33, 33, 3, 2, 1, 1, true),   // large enough to run in parallel
        (2, 2, 12, 13, 3, 2, 1, 2, false),   // dilation (max only)
        (1, 2, 9, 9, 3, 1, 1, 2, false),     // dilation with stride 1
        (2, 3, 10, 9, 2, 2, 1, 3, true),     // dilation with ceil mode
    ];

    [TestMethod]
    public void MaxPoolMatchesNaiveForwardAndBackward()
    {
        var rng = new Random(11);
        foreach (var (n, c, h, w, k, s, p, d, ceil) in Cases)
        {
            string what = $"MaxPool2d x[{n},{c},{h},{w}] k{k} s{s} p{p} d{d} ceil={ceil}";
            var param = PoolParams.Square(k, s, p, d, ceil);
            var xv = RandomValues(rng, n * c * h * w);
            var expected = NaiveOps.MaxPool2d(xv, n, c, h, w, param, out int oh, out int ow);
            var dyv = RandomValues(rng, expected.Length);
            var expectedDx = NaiveOps.MaxPool2dBackward(xv, dyv, n, c, h, w, param);

            using var scope = new TensorScope();
            var x = Tensor.FromArray(xv, new Shape(n, c, h, w));
            x.RequiresGrad = true;
            var y = Functional.MaxPool2d(x, k, s, p, d, ceil);
            TensorAssert.AreClose(expected, new Shape(n, c, oh, ow), y, 0, 0, what);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(expectedDx, x.Grad!.ToArray(), 1e-6, 1e-6, what + " dx");
            x.ClearGrad();
        }
    }

    [TestMethod]
    public void HalvingMaxPoolMatchesNaiveWithOddSizesTiesAndNaN()
    {
        // 2×2 stride 2: odd sizes leave a row/column no window covers (its gradient must be zero), ties go to the
        // first element of the window in scan order.
        var rng = new Random(13);
        foreach (var (n, c, h, w) in new[] { (1, 1, 2, 2), (2, 3, 7, 9), (1, 4, 28, 28), (3, 2, 5, 4), (64, 6, 10, 10) })
        {
            string what = $"MaxPool2d 2x2 x[{n},{c},{h},{w}]";
            var param = PoolParams.Square(2, 2, 0, 1, false);
            var xv = RandomValues(rng, n * c * h * w);
            for (int i = 0; i < xv.Length; i += 7)
            {
                xv[i] = MathF.Round(xv[i]); // many ties
            }
            var expected = NaiveOps.MaxPool2d(xv, n, c, h, w, param, out int oh, out int ow);
            var dyv = RandomValues(rng, expected.Length);
            var expectedDx = NaiveOps.MaxPool2dBackward(xv, dyv, n, c, h, w, param);

            using var scope = new TensorScope();
            var x = Tensor.FromArray(xv, new Shape(n, c, h, w));
            x.RequiresGrad = true;
            var y = Functional.MaxPool2d(x, 2, 2);
            TensorAssert.AreClose(expected, new Shape(n, c, oh, ow), y, 0, 0, what);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(expectedDx, x.Grad!.ToArray(), 0, 0, what + " dx");
            x.ClearGrad();
        }

        // A window holding NaN outputs NaN (as PyTorch does) and routes its gradient to its first NaN.
        using (new TensorScope())
        {
            var x = Tensor.FromArray([1f, float.NaN, 2f, 0f, 3f, float.NaN, 5f, 4f], new Shape(1, 1, 2, 4));
            x.RequiresGrad = true;
            var y = Functional.MaxPool2d(x, 2, 2);
            var yv = y.ToArray();
            Assert.IsTrue(float.IsNaN(yv[0]), "window with NaN");
            Assert.AreEqual(5f, yv[1], "window without NaN");
            y.Backward(Tensor.FromArray([10f, 20f], y.Shape));
            CollectionAssert.AreEqual(new[] { 0f, 10f, 0f, 0f, 0f, 0f, 20f, 0f }, x.Grad!.ToArray());
        }
    }

    [TestMethod]
    public void OverlappingMaxPoolSendsEachGradientToTheFirstMaximumOfItsWindow()
    {
        // ResNet's 3×3 stride-2 pool (and stride 1, and a dilated one) on rows wide enough for the vector paths, with
        // many ties inside windows and windows overlapping; then NaN maxima, whose gradient goes to the window's first NaN.
        var rng = new Random(17);
        foreach (var (h, w, k, s, p, d) in new[] { (9, 112, 3, 2, 1, 1), (6, 57, 3, 2, 1, 1), (5, 40, 3, 1, 1, 1), (7, 45, 3, 2, 1, 2) })
        {
            string what = $"MaxPool2d x[2,3,{h},{w}] k{k} s{s} p{p} d{d}";
            var param = PoolParams.Square(k, s, p, d, false);
            var xv = RandomValues(rng, 2 * 3 * h * w).Select(v => MathF.Round(v * 2)).ToArray();
            var expected = NaiveOps.MaxPool2d(xv, 2, 3, h, w, param, out int oh, out int ow);
            var dyv = RandomValues(rng, expected.Length);
            var expectedDx = NaiveOps.MaxPool2dBackward(xv, dyv, 2, 3, h, w, param);

            using var scope = new TensorScope();
            var x = Tensor.FromArray(xv, new Shape(2, 3, h, w));
            x.RequiresGrad = true;
            var y = Functional.MaxPool2d(x, k, s, p, d);
            TensorAssert.AreClose(expected, new Shape(2, 3, oh, ow), y, 0, 0, what);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(expectedDx, x.Grad!.ToArray(), 1e-6, 1e-6, what + " dx");
        }

        using (new TensorScope())
        {
            // One row of 5: windows [−1, 2), [1, 4), [3, 6) with stride 2; the middle one holds a NaN after a larger value.
            var x = Tensor.FromArray([1f, 7f, float.NaN, 2f, 3f], new Shape(1, 1, 1, 5));
            x.RequiresGrad = true;
            var y = Functional.MaxPool2d(x, 3, 2, 1);
            var yv = y.ToArray();
            Assert.AreEqual(7f, yv[0]);
            Assert.IsTrue(float.IsNaN(yv[1]), "window with NaN");
            y.Backward(Tensor.FromArray([10f, 20f, 30f], y.Shape));
            CollectionAssert.AreEqual(new[] { 0f, 10f, 20f, 0f, 30f }, x.Grad!.ToArray());
        }
    }

    [TestMethod]
    public void AvgPoolMatchesNaiveForwardAndBackwardBothDivisors()
    {
        var rng = new Random(12);
        foreach (var (n, c, h, w, k, s, p, d, ceil) in Cases)
        {
            if (d != 1)
            {
                continue;
            }
            foreach (bool includePad in new[] { true, false })
            {
                string what = $"AvgPool2d x[{n},{c},{h},{w}] k{k} s{s} p{p} ceil={ceil} countIncludePad={includePad}";
                var param = PoolParams.Square(k, s, p, 1, ceil);
                var xv = RandomValues(rng, n * c * h * w);
                var expected = NaiveOps.AvgPool2d(xv, n, c, h, w, param, includePad, out int oh, out int ow);
                var dyv = RandomValues(rng, expected.Length);
                var expectedDx = NaiveOps.AvgPool2dBackward(dyv, n, c, h, w, param, includePad);

                using var scope = new TensorScope();
                var x = Tensor.FromArray(xv, new Shape(n, c, h, w));
                x.RequiresGrad = true;
                var y = Functional.AvgPool2d(x, k, s, p, ceil, includePad);
                TensorAssert.AreClose(expected, new Shape(n, c, oh, ow), y, 1e-5, 1e-5, what);
                y.Backward(Tensor.FromArray(dyv, y.Shape));
                TensorAssert.AreClose(expectedDx, x.Grad!.ToArray(), 1e-5, 1e-5, what + " dx");
                x.ClearGrad();
            }
        }
    }

    [TestMethod]
    public void AsymmetricWindowsMatchNaive()
    {
        // Exercised through the backend directly: 1×3 and 3×2 windows with different strides per axis.
        var rng = new Random(13);
        var cases = new[]
        {
            (H: 5, W: 9, P: new PoolParams(1, 3, 1, 2, 0, 1)),
            (H: 8, W: 7, P: new PoolParams(3, 2, 2, 1, 1, 1, CeilMode: true)),
            (H: 9, W: 8, P: new PoolParams(2, 3, 3, 2, 1, 1, 2, 1, CeilMode: true)),
        };
        var backend = Microsoft.ML.ConvNet.Backends.Cpu.CpuBackend.Instance;
        foreach (var (h, w, p) in cases)
        {
            using var scope = new TensorScope();
            var xv = RandomValues(rng, 2 * 3 * h * w);
            var x = Tensor.FromArray(xv, new Shape(2, 3, h, w));
            var g = Microsoft.ML.ConvNet.Backends.PoolGeometry.Create(x.Shape, p.KernelH, p.KernelW, p.StrideH, p.StrideW,
                p.PadH, p.PadW, p.DilationH, p.DilationW, p.CeilMode, "test");
            var y = Tensor.Empty(new Shape(2, 3, g.OH, g.OW));
            var dx = Tensor.Empty(x.Shape);
            var expectedMax = NaiveOps.MaxPool2d(xv, 2, 3, h, w, p, out int oh, out int ow);
            Assert.AreEqual((oh, ow), (g.OH, g.OW), $"output size {p}");
            backend.Pool2dForward(Microsoft.ML.ConvNet.Backends.PoolKind.Max, x, y, g);
            TensorAssert.AreClose(expectedMax, y.ToArray(), 0, 0, $"max {p}");
            var dyv = RandomValues(rng, y.Size);
            var dy = Tensor.FromArray(dyv, y.Shape);
            backend.Pool2dBackward(Microsoft.ML.ConvNet.Backends.PoolKind.Max, x, y, dy, dx, g);
            TensorAssert.AreClose(NaiveOps.MaxPool2dBackward(xv, dyv, 2, 3, h, w, p), dx.ToArray(), 1e-6, 1e-6, $"max dx {p}");
            if (p.DilationH == 1 && p.DilationW == 1)
            {
                backend.Pool2dForward(Microsoft.ML.ConvNet.Backends.PoolKind.AvgExcludePad, x, y, g);
                TensorAssert.AreClose(NaiveOps.AvgPool2d(xv, 2, 3, h, w, p, false, out _, out _), y.ToArray(), 1e-5, 1e-5, $"avg {p}");
                backend.Pool2dBackward(Microsoft.ML.ConvNet.Backends.PoolKind.AvgExcludePad, x, y, dy, dx, g);
                TensorAssert.AreClose(NaiveOps.AvgPool2dBackward(dyv, 2, 3, h, w, p, false), dx.ToArray(), 1e-5, 1e-5, $"avg dx {p}");
            }
        }
    }

    [TestMethod]
    public void TwoByTwoStrideTwoHalvesTheSpatialSize()
    {
        using var scope = new TensorScope();
        var x = Tensor.Arange(0, 2 * 3 * 8 * 6).Reshape(2, 3, 8, 6);
        Assert.AreEqual(new Shape(2, 3, 4, 3), Functional.MaxPool2d(x, 2, 2).Shape);
        Assert.AreEqual(new Shape(2, 3, 4, 3), Functional.AvgPool2d(x, 2, 2).Shape);

        var small = Tensor.Arange(0, 16).Reshape(1, 1, 4, 4);
        TensorAssert.AreClose([5f, 7f, 13f, 15f], new Shape(1, 1, 2, 2), Functional.MaxPool2d(small, 2), 0, 0, "max of arange");
        TensorAssert.AreClose([2.5f, 4.5f, 10.5f, 12.5f], new Shape(1, 1, 2, 2), Functional.AvgPool2d(small, 2), 0, 0, "avg of arange");
    }

    [TestMethod]
    public void OutputSizesFollowPyTorch()
    {
        // (H, kernel, stride, padding, dilation, ceil) → output size, as printed by torch.nn.functional.max_pool2d.
        var cases = new[] { (7, 2, 2, 0, 1, false, 3), (7, 2, 2, 0, 1, true, 4), (6, 2, 2, 1, 1, true, 4), (5, 3, 2, 1, 1, true, 3), (10, 3, 3, 1, 2, true, 4) };
        using var scope = new TensorScope();
        foreach (var (h, k, s, p, d, ceil, expected) in cases)
        {
            var x = Tensor.Zeros(new Shape(1, 1, h, h));
            var y = Functional.MaxPool2d(x, k, s, p, d, ceil);
            Assert.AreEqual(new Shape(1, 1, expected, expected), y.Shape, $"H={h} k={k} s={s} p={p} d={d} ceil={ceil}");
            Assert.AreEqual(expected, NaiveOps.PoolOutputSize(h, k, s, p, d, ceil), "oracle output size");
        }
    }

    [TestMethod]
    public void CeilModeDivisorsAndDilationMatchPyTorchValues()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Pattern(30, 0.4), new Shape(1, 1, 5, 6));
        TensorAssert.AreClose(AvgCeilIncludePad, new Shape(1, 1, 3, 4), Functional.AvgPool2d(x, 3, 2, 1, ceilMode: true, countIncludePad: true), 1e-6, 1e-5, "avg include pad");
        TensorAssert.AreClose(AvgCeilExcludePad, new Shape(1, 1, 3, 4), Functional.AvgPool2d(x, 3, 2, 1, ceilMode: true, countIncludePad: false), 1e-6, 1e-5, "avg exclude pad");
        TensorAssert.AreClose(MaxDilated, new Shape(1, 1, 5, 6), Functional.MaxPool2d(x, 2, 1, 1, 2, ceilMode: true), 1e-6, 1e-6, "max dilated");
        TensorAssert.AreClose(AdaptiveThreeByFour, new Shape(1, 1, 3, 4), Functional.AdaptiveAvgPool2d(x, 3, 4), 1e-6, 1e-5, "adaptive");
    }

    [TestMethod]
    public void MaxPoolGradientGoesToTheFirstMaximumOnTies()
    {
        using var scope = new TensorScope();
        var x = Tensor.Ones(new Shape(1, 1, 4, 4)).Unscope();
        x.RequiresGrad = true;
        // Overlapping windows (3×3 stride 1): every window's first element gets its dy.
        Functional.MaxPool2d(x, 3, 1).Sum().Backward();
        var expected = NaiveOps.MaxPool2dBackward(Enumerable.Repeat(1f, 16).ToArray(), [1f, 1f, 1f, 1f], 1, 1, 4, 4, PoolParams.Square(3, 1));
        TensorAssert.AreClose([1f, 1f, 0f, 0f, 1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f], expected, 0, 0, "oracle on ties");
        TensorAssert.AreClose(expected, x.Grad!.ToArray(), 0, 0, "ties");
        x.Dispose();

        // Random ties from a small value set, several configurations, against the oracle.
        var rng = new Random(5);
        foreach (var (k, s, p) in new[] { (2, 2, 0), (3, 2, 1), (3, 1, 1) })
        {
            var xv = Enumerable.Range(0, 2 * 2 * 7 * 6).Select(_ => (float)rng.Next(3)).ToArray();
            var t = Tensor.FromArray(xv, new Shape(2, 2, 7, 6));
            t.RequiresGrad = true;
            var y = Functional.MaxPool2d(t, k, s, p);
            var dyv = RandomValues(rng, y.Size);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(NaiveOps.MaxPool2dBackward(xv, dyv, 2, 2, 7, 6, PoolParams.Square(k, s, p)), t.Grad!.ToArray(), 1e-6, 1e-6, $"ties k{k} s{s} p{p}");
            t.ClearGrad();
        }
    }

    [TestMethod]
    public void MaxPoolPropagatesNaN()
    {
        using var scope = new TensorScope();
        var values = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        values[5] = float.NaN;
        var x = Tensor.FromArray(values, new Shape(1, 1, 4, 4));
        var y = Functional.MaxPool2d(x, 2).ToArray();
        Assert.IsTrue(float.IsNaN(y[0]), "window holding NaN");
        Assert.AreEqual(7f, y[1]);
        var z = Functional.MaxPool2d(x, 2, 1).ToArray();
        Assert.IsTrue(float.IsNaN(z[0]) && float.IsNaN(z[1]) && float.IsNaN(z[3]) && float.IsNaN(z[4]), "stride-1 windows holding NaN");
        Assert.AreEqual(7f, z[2]);
    }

    [TestMethod]
    public void MaxPool1dEqualsMaxPool2dOverOneRow()
    {
        var rng = new Random(14);
        foreach (var (n, c, l, k, s, p, d, ceil) in new[] { (2, 3, 11, 3, 2, 1, 1, false), (1, 4, 9, 2, 2, 1, 2, true), (3, 1, 5, 5, 1, 2, 1, false) })
        {
            using var scope = new TensorScope();
            var xv = RandomValues(rng, n * c * l);
            var param = new PoolParams(1, k, 1, s, 0, p, 1, d, ceil);
            var expected = NaiveOps.MaxPool2d(xv, n, c, 1, l, param, out _, out int ol);
            var x = Tensor.FromArray(xv, new Shape(n, c, l));
            x.RequiresGrad = true;
            var y = Functional.MaxPool1d(x, k, s, p, d, ceil);
            TensorAssert.AreClose(expected, new Shape(n, c, ol), y, 0, 0, $"MaxPool1d L={l} k{k} s{s} p{p} d{d}");
            var dyv = RandomValues(rng, y.Size);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(NaiveOps.MaxPool2dBackward(xv, dyv, n, c, 1, l, param), x.Grad!.ToArray(), 1e-6, 1e-6, "MaxPool1d dx");
            x.ClearGrad();
        }
    }

    [TestMethod]
    public void AdaptiveAvgPoolMatchesNaive()
    {
        var rng = new Random(15);
        // Non-dividing sizes (overlapping windows), identity, output larger than input, global, parallel-sized.
        foreach (var (n, c, h, w, oh, ow) in new[] { (2, 3, 7, 9, 3, 4), (1, 2, 5, 5, 5, 5), (1, 1, 4, 6, 6, 4), (2, 3, 6, 7, 1, 1), (2, 32, 30, 30, 7, 7), (1, 1, 13, 1, 5, 1) })
        {
            using var scope = new TensorScope();
            string what = $"AdaptiveAvgPool2d [{n},{c},{h},{w}] → ({oh}, {ow})";
            var xv = RandomValues(rng, n * c * h * w);
            var x = Tensor.FromArray(xv, new Shape(n, c, h, w));
            x.RequiresGrad = true;
            var y = Functional.AdaptiveAvgPool2d(x, oh, ow);
            TensorAssert.AreClose(NaiveOps.AdaptiveAvgPool2d(xv, n, c, h, w, oh, ow), new Shape(n, c, oh, ow), y, 1e-5, 1e-5, what);
            var dyv = RandomValues(rng, y.Size);
            y.Backward(Tensor.FromArray(dyv, y.Shape));
            TensorAssert.AreClose(NaiveOps.AdaptiveAvgPool2dBackward(dyv, n, c, h, w, oh, ow), x.Grad!.ToArray(), 1e-5, 1e-5, what + " dx");
            x.ClearGrad();
        }
        using (new TensorScope())
        {
            var x = Tensor.FromArray(RandomValues(rng, 2 * 3 * 5 * 4), new Shape(2, 3, 5, 4));
            var mean = x.Reshape(2, 3, 20).Mean(2).ToArray();
            TensorAssert.AreClose(mean, Functional.GlobalAvgPool2d(x).ToArray(), 1e-6, 1e-5, "global average");
        }
    }

    [TestMethod]
    public void InvalidArgumentsFailWithClearErrors()
    {
        using var scope = new TensorScope();
        var x = Tensor.Zeros(new Shape(1, 2, 6, 6));
        var padding = Assert.ThrowsExactly<ArgumentException>(() => Functional.MaxPool2d(x, 2, 2, padding: 2));
        StringAssert.Contains(padding.Message, "MaxPool2d");
        var rank = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.AvgPool2d(Tensor.Zeros(new Shape(2, 6, 6)), 2));
        StringAssert.Contains(rank.Message, "[2, 6, 6]");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, 2, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, 0));
        var small = Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.MaxPool2d(Tensor.Zeros(new Shape(1, 1, 2, 2)), 3));
        StringAssert.Contains(small.Message, "[1, 1, 2, 2]");
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.MaxPool1d(x, 2));
        Assert.ThrowsExactly<ShapeMismatchException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros(new Shape(2, 3)), 1, 1));
    }

    // ---- gradient checks (central differences) ----------------------------------------------------

    [TestMethod]
    public void MaxPoolGradCheck()
    {
        // Distinct values 0.05 apart: the ±0.01 probes cannot change which element is the maximum.
        using var x = DistinctLeaf(new Random(21), 2, 2, 7, 6);
        GradCheck.Check(t => Functional.MaxPool2d(t[0], 3, 2, 1, ceilMode: true), [x]);
        GradCheck.Check(t => Functional.MaxPool2d(t[0], 2, 1, 1, 2), [x]);
        using var x1 = DistinctLeaf(new Random(22), 2, 3, 9);
        GradCheck.Check(t => Functional.MaxPool1d(t[0], 3, 2, 1), [x1]);
    }

    [TestMethod]
    public void AvgPoolGradCheck()
    {
        var rng = new Random(23);
        using var x = GradCheck.Leaf(rng, 2, 2, 7, 6);
        GradCheck.Check(t => Functional.AvgPool2d(t[0], 3, 2, 1, ceilMode: true, countIncludePad: true), [x]);
        GradCheck.Check(t => Functional.AvgPool2d(t[0], 3, 2, 1, ceilMode: true, countIncludePad: false), [x]);
        GradCheck.Check(t => Functional.AvgPool2d(t[0], 2), [x]);
    }

    [TestMethod]
    public void AdaptiveAvgPoolGradCheck()
    {
        var rng = new Random(24);
        using var x = GradCheck.Leaf(rng, 2, 3, 7, 5);
        GradCheck.Check(t => Functional.AdaptiveAvgPool2d(t[0], 3, 4), [x]);
        GradCheck.Check(t => Functional.GlobalAvgPool2d(t[0]), [x]);
    }

    private static Tensor DistinctLeaf(Random rng, params int[] shape)
    {
        var s = new Shape(shape);
        var values = Enumerable.Range(0, s.Size).OrderBy(_ => rng.Next()).Select(i => (i - s.Size / 2) * 0.05f).ToArray();
        var t = Tensor.FromArray(values, s).Unscope();
        t.RequiresGrad = true;
        return t;
    }

    private static float[] RandomValues(Random rng, int count)
    {
        var v = new float[count];
        Tensor.FillNormal(v, rng, 0f, 1f);
        return v;
    }

    /// <summary>sin(0.37·i + phase)·2 + 0.1·(i mod 5), the inputs the PyTorch reference values were computed from.</summary>
    private static float[] Pattern(int count, double phase)
        => Enumerable.Range(0, count).Select(i => (float)(Math.Sin(0.37 * i + phase) * 2 + 0.1 * (i % 5))).ToArray();

    // torch 1.13: x = Pattern(30, 0.4).reshape(1, 1, 5, 6)
    // F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True / False)
    private static readonly float[] AvgCeilIncludePad = [0.4299618f, 0.6071604f, 0.2188268f, -0.0475647f, 0.2535888f, 0.3194115f, 0.1506561f, 0.0724201f, 0.4629821f, 0.3676203f, 0.04023601f, -0.0495456f];
    private static readonly float[] AvgCeilExcludePad = [0.967414f, 0.9107406f, 0.3282402f, -0.1426941f, 0.3803833f, 0.3194115f, 0.1506561f, 0.1448402f, 1.04171f, 0.5514304f, 0.06035401f, -0.1486368f];

    // F.max_pool2d(x, 2, 1, 1, 2, ceil_mode=True)
    private static readonly float[] MaxDilated = [0.5020254f, 1.096523f, 0.5020254f, -0.1333502f, -0.7100738f, -1.636554f, 1.49227f, 2.017267f, 2.296305f, 2.305152f, 2.296305f, 2.305152f, 2.222916f, 1.997087f, 2.222916f, 1.997087f, 2.000961f, 1.747549f, -0.4466456f, 0.6885454f, -0.4466456f, 0.1736128f, 0.991372f, 0.1736128f, 2.222916f, 1.997087f, 2.222916f, 1.997087f, 2.000961f, 1.747549f];

    // F.adaptive_avg_pool2d(x, (3, 4))
    private static readonly float[] AdaptiveThreeByFour = [0.967414f, 0.9695532f, 0.5637074f, 0.09580249f, 0.3803833f, 0.3729877f, 0.1535641f, 0.1198546f, 1.04171f, 0.6879931f, 0.1648494f, -0.04862151f];
}
