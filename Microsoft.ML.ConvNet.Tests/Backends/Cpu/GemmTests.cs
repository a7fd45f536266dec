using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

[TestClass]
public sealed class GemmTests
{
    private static readonly GemmKernel[] Kernels = [GemmKernel.Vector512, GemmKernel.Vector256, GemmKernel.Vector128];

    private static float[] Random(Random rng, int length)
    {
        var a = new float[length];
        Tensor.FillNormal(a, rng, 0, 1);
        return a;
    }

    /// <summary>Runs the fast GEMM and the naive one on the same operands (in bigger buffers, at offsets) and compares C.</summary>
    private static void Compare(Random rng, bool transA, bool transB, int m, int n, int k, float alpha, float beta,
        GemmKernel kernel = GemmKernel.Auto, bool parallel = true, int pad = 0, int offset = 0)
    {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        var a = Random(rng, offset + (transA ? k : m) * lda);
        var b = Random(rng, offset + (transB ? n : k) * ldb);
        var c = Random(rng, offset + m * ldc + 5);
        if (beta == 0f)
        {
            // C must not be read when beta is 0.
            for (int i = offset; i < offset + m * ldc; i++)
            {
                c[i] = float.NaN;
            }
        }
        var expected = (float[])c.Clone();
        NaiveOps.Gemm(transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta, expected, offset, ldc);
        Sgemm.Multiply(transA, transB, m, n, k, alpha, a.AsSpan(offset), lda, b.AsSpan(offset), ldb, beta, c.AsSpan(offset), ldc, parallel, kernel);
        // Elements of C outside the [m, n] window (padding columns and the tail) must be left alone.
        if (beta == 0f)
        {
            for (int i = 0; i < m; i++)
            {
                for (int j = n; j < ldc; j++)
                {
                    Assert.IsTrue(float.IsNaN(c[offset + i * ldc + j]), $"padding column {j} of row {i} was written");
                    c[offset + i * ldc + j] = expected[offset + i * ldc + j] = 0f;
                }
            }
        }
        TensorAssert.AreClose(expected, c, 2e-5 * (k + 1), 1e-4,
            $"Gemm {(transA ? "T" : "N")}{(transB ? "T" : "N")} m={m} n={n} k={k} alpha={alpha} beta={beta} kernel={kernel} parallel={parallel} pad={pad} offset={offset}");
    }

    [TestMethod]
    public void AllTransposesMatchNaiveOnOddShapes()
    {
        var rng = new Random(1);
        int[][] shapes = [[1, 1, 1], [7, 5, 3], [9, 33, 17], [33, 65, 40], [65, 31, 129], [17, 100, 300], [150, 70, 20]];
        foreach (var s in shapes)
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    Compare(rng, ta, tb, s[0], s[1], s[2], 1f, 0f);
                }
            }
        }
    }

    [TestMethod]
    public void EveryMicroKernelMatchesNaive()
    {
        var rng = new Random(2);
        foreach (var kernel in Kernels)
        {
            if (!Sgemm.IsSupported(kernel))
            {
                continue;
            }
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    Compare(rng, ta, tb, 37, 53, 29, 1f, 0f, kernel);
                    Compare(rng, ta, tb, 6, 16, 260, 0.5f, 1f, kernel, parallel: false);
                }
            }
        }
        Assert.IsTrue(Sgemm.IsSupported(GemmKernel.Vector128), "the portable kernel must always run");
    }

    [TestMethod]
    public void AlphaAndBetaCombine()
    {
        var rng = new Random(3);
        foreach (var (alpha, beta) in new[] { (1f, 1f), (0.5f, 0f), (-2f, 0.25f), (1f, -1f), (0f, 0.5f), (0f, 0f) })
        {
            Compare(rng, false, false, 19, 45, 300, alpha, beta);
            Compare(rng, true, true, 12, 40, 8, alpha, beta);
        }
    }

    [TestMethod]
    public void OffsetsAndLeadingDimensionsAddressSubMatrices()
    {
        var rng = new Random(4);
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                Compare(rng, ta, tb, 23, 41, 37, 1f, 0f, pad: 3, offset: 11);
                Compare(rng, ta, tb, 10, 70, 9, 0.75f, 2f, pad: 16, offset: 1);
            }
        }
    }

    [TestMethod]
    public void BlockBoundariesAndParallelSplitsMatchNaive()
    {
        var rng = new Random(5);
        // Several K blocks (KC), M blocks (MC) and both parallel split directions, with ragged edges.
        Compare(rng, false, false, Sgemm.MC + 13, 97, Sgemm.KC + 45, 1f, 0f);
        Compare(rng, true, false, 300, 20, 400, 1f, 0.5f);
        Compare(rng, false, true, 8, 1000, 300, 1f, 0f);
        Compare(rng, false, false, Sgemm.MC + 13, 97, Sgemm.KC + 45, 1f, 0f, parallel: false);
        // One row times a transposed B (a fully connected layer on one image): dot products, in parallel.
        Compare(rng, false, true, 1, 1000, 1280, 1f, 0f);
        Compare(rng, false, true, 1, 37, 70, 0.5f, 0.25f, pad: 3, offset: 2);
        Compare(rng, false, true, 1, 9, 5, 1f, 1f, parallel: false);
        // More columns than one packed B block (NC).
        Compare(rng, false, false, 3, Sgemm.NC + 70, 5, 1f, 0f);
        Compare(rng, false, true, 3, Sgemm.NC + 70, 5, 1f, 1f, parallel: false);
    }

    [TestMethod]
    public unsafe void PrePackedOperandsSplitThinProductsAlongTheColumns()
    {
        // A packed whole beforehand (kept filters) times a B of one to two column strips: the threads split N.
        var rng = new Random(8);
        foreach (var (m, n, k) in new[] { (512, 49, 600), (70, 33, 300), (Sgemm.MC + 13, 64, Sgemm.KC + 45), (40, 17, 50) })
        {
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var expected = new float[m * n];
            NaiveOps.Gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0, n);
            var packed = new float[Sgemm.PackedSize(m, k)];
            var c = new float[m * n];
            fixed (float* pa = a)
            fixed (float* pp = packed)
            fixed (float* pb = b)
            fixed (float* pc = c)
            {
                Sgemm.PackWhole(pa, k, m, k, pp);
                var left = new PackedA(pp, m);
                var right = new DenseB(pb, n, trans: false);
                Sgemm.Run(ref left, ref right, m, n, k, 1f, 0f, pc, n, parallel: true);
            }
            TensorAssert.AreClose(expected, c, 2e-5 * (k + 1), 1e-4, $"packed A, m={m} n={n} k={k}");
        }
    }

    [TestMethod]
    public unsafe void BothOperandsPackedWholeMatchNaive()
    {
        // Positions as rows times kept filters as columns: a few rows, many columns split between the threads, several
        // depth blocks, ragged edges on every side; and a B wider than one packed block (NC).
        var rng = new Random(9);
        foreach (var (m, n, k) in new[] { (49, 512, 600), (17, 70, Sgemm.KC + 45), (Sgemm.MC + 13, 33, 300), (3, Sgemm.NC + 70, 5) })
        {
            var a = Random(rng, m * k);
            var b = Random(rng, n * k);
            var expected = new float[m * n];
            NaiveOps.Gemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, expected, 0, n);
            var packedA = new float[Sgemm.PackedSize(m, k)];
            var packedB = new float[Sgemm.PackedSizeB(k, n)];
            var c = new float[m * n];
            fixed (float* pa = a)
            fixed (float* ppa = packedA)
            fixed (float* pb = b)
            fixed (float* ppb = packedB)
            fixed (float* pc = c)
            {
                Sgemm.PackWhole(pa, k, m, k, ppa);
                var columns = new DenseB(pb, k, trans: true);
                Sgemm.PackWholeB(ref columns, k, n, ppb);
                var left = new PackedA(ppa, m);
                var right = new PackedB(ppb, n);
                Sgemm.Run(ref left, ref right, m, n, k, 1f, 0f, pc, n, parallel: true);
            }
            TensorAssert.AreClose(expected, c, 2e-5 * (k + 1), 1e-4, $"packed A and B, m={m} n={n} k={k}");
        }
    }

    [TestMethod]
    public void EmptyDepthScalesC()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Sgemm.Multiply(false, false, 2, 3, 0, 1f, [], 1, [], 3, 0.5f, c, 3);
        CollectionAssert.AreEqual(new float[] { 0.5f, 1, 1.5f, 2, 2.5f, 3 }, c);
        var nan = new[] { float.NaN, float.NaN };
        Sgemm.Multiply(false, false, 1, 2, 0, 1f, [], 1, [], 2, 0f, nan, 2);
        CollectionAssert.AreEqual(new float[] { 0, 0 }, nan);
    }

    [TestMethod]
    public void BackendGemmUsesTensorOffsets()
    {
        var rng = new Random(6);
        // Two 3×4 matrices and two 4×5 ones stacked; multiply the second pair into the second half of C.
        using var a = Tensor.RandomNormal(new Shape(2, 3, 4), rng);
        using var b = Tensor.RandomNormal(new Shape(2, 4, 5), rng);
        using var c = Tensor.Zeros(new Shape(2, 3, 5));
        CpuBackend.Instance.Gemm(false, false, 3, 5, 4, 1f, a, 12, 4, b, 20, 5, 0f, c, 15, 5);
        var expected = new float[30];
        NaiveOps.Gemm(false, false, 3, 5, 4, 1f, a.ToArray(), 12, 4, b.ToArray(), 20, 5, 0f, expected, 15, 5);
        TensorAssert.AreClose(expected, c.ToArray(), 1e-5, 1e-5, "backend Gemm with offsets");
    }

    [TestMethod]
    public void MatMulMatchesNaive()
    {
        var rng = new Random(7);
        using var scope = new TensorScope();
        var a = Tensor.RandomNormal(new Shape(13, 21), rng);
        var b = Tensor.RandomNormal(new Shape(21, 34), rng);
        var expected = new float[13 * 34];
        NaiveOps.Gemm(false, false, 13, 34, 21, 1f, a.ToArray(), 0, 21, b.ToArray(), 0, 34, 0f, expected, 0, 34);
        TensorAssert.AreClose(expected, new Shape(13, 34), a.MatMul(b), 1e-4, 1e-4, "MatMul");
    }

    [TestMethod]
    public void OperandsTooSmallAreRejected()
    {
        var small = new float[10];
        var big = new float[100];
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Sgemm.Multiply(false, false, 4, 4, 4, 1f, small, 4, big, 4, 0f, big, 4));
        StringAssert.Contains(ex.Message, "Gemm");
        StringAssert.Contains(ex.Message, "A needs 16");
        Assert.ThrowsExactly<ArgumentException>(() => Sgemm.Multiply(false, true, 4, 4, 4, 1f, big, 3, big, 4, 0f, big, 4));
        using var t = Tensor.Zeros(new Shape(4, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CpuBackend.Instance.Gemm(false, false, 4, 4, 4, 1f, t, 17, 4, t, 0, 4, 0f, t, 0, 4));
    }
}
