using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>Which SIMD micro-kernel <see cref="Sgemm"/> uses.</summary>
internal enum GemmKernel
{
    /// <summary>The widest one the hardware accelerates.</summary>
    Auto,
    /// <summary>8×32 tiles with 512-bit FMA (AVX-512).</summary>
    Vector512,
    /// <summary>6×16 tiles with 256-bit vectors (AVX2/FMA).</summary>
    Vector256,
    /// <summary>4×8 tiles with 128-bit vectors (SSE, NEON, or software).</summary>
    Vector128,
}

/// <summary>
/// Supplies op(A) [m, k] to <see cref="Sgemm"/>: packs a block of rows into MR-row micro-panels.
/// </summary>
internal unsafe interface IGemmPackA
{
    /// <summary>
    /// Packs rows [i0, i0 + rows) and columns [p0, p0 + kc) of op(A) into <paramref name="dst"/> laid out as
    /// [kc][mr] (element (i0 + r, p0 + p) at dst[p·mr + r]); rows r ≥ <paramref name="rows"/> are written as zero.
    /// </summary>
    void Pack(float* dst, int i0, int rows, int p0, int kc, int mr);

    /// <summary>
    /// The micro-panels of rows [i0, …) and depth [p0, p0 + kc) when op(A) is already packed (<see cref="PackedA"/>),
    /// consecutive MR-row panels kc·MR floats apart; null when they must be packed with <see cref="Pack"/>.
    /// </summary>
    float* Packed(int i0, int p0, int kc) => null;
}

/// <summary>
/// Supplies op(B) [k, n] to <see cref="Sgemm"/>: packs a block of columns into NR-column micro-panels.
/// </summary>
internal unsafe interface IGemmPackB
{
    /// <summary>
    /// Packs rows [p0, p0 + kc) and columns [j0, j0 + cols) of op(B) into <paramref name="dst"/> as ⌈cols/nr⌉
    /// micro-panels of [kc][nr]: element (p0 + p, j0 + q·nr + j) at dst[q·kc·nr + p·nr + j]. Columns of the last
    /// panel beyond <paramref name="cols"/> are written as zero.
    /// </summary>
    void Pack(float* dst, int p0, int kc, int j0, int cols, int nr);

    /// <summary>
    /// Where element (p0, j0) of op(B) lies when the micro-kernel can read op(B) in place, its rows
    /// <paramref name="ldb"/> floats apart and each row's columns contiguous; null when it must be packed.
    /// </summary>
    float* InPlace(int p0, int j0, out nint ldb)
    {
        ldb = 0;
        return null;
    }

    /// <summary>
    /// The micro-panels of depth [p0, p0 + kc) and columns [j0, …) when op(B) is already packed (<see cref="PackedB"/>),
    /// consecutive NR-column panels kc·NR floats apart; null when they must be packed with <see cref="Pack"/>.
    /// </summary>
    float* Packed(int p0, int j0, int kc) => null;
}

/// <summary>A register-tile kernel: C[MR×NR] = alpha · Ap·Bp + beta · C over kc packed steps.</summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of the tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the tile.</summary>
    static abstract int NR { get; }

    /// <summary>
    /// c[r·ldc + j] = alpha · Σ_p a[p·MR + r]·b[p·ldb + j] + beta · c[r·ldc + j]; with beta = 0, C is not read. A packed
    /// B micro-panel has ldb = NR; B read in place, its row stride.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta);
}

/// <summary>
/// Single-precision GEMM, row-major: C = alpha · op(A)·op(B) + beta · C. Goto/BLIS structure: op(B) is packed into
/// KC×NC blocks of NR-wide micro-panels (L3/L2), op(A) into MC×KC blocks of MR-high micro-panels (L2), and a
/// register-blocked SIMD micro-kernel computes MR×NR tiles of C with the B micro-panel resident in L1.
/// Transposes and operands that are not plain matrices (im2col views) are handled entirely by the packers. When all of
/// op(A) fits one MC block, a plain op(B) is read in place instead of packed (<see cref="IGemmPackB.InPlace"/>).
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>Depth of a packed block (the k extent kept in cache).</summary>
    internal const int KC = 256;

    /// <summary>Rows of op(A) packed at once (sized for L2).</summary>
    internal const int MC = 144;

    /// <summary>Columns of op(B) packed at once (sized for L3).</summary>
    internal const int NC = 2048;

    /// <summary>Below this many multiply-adds a GEMM runs on the calling thread.</summary>
    internal const long ParallelThreshold = 1L << 21;

    /// <summary>The micro-kernel chosen for this machine.</summary>
    internal static GemmKernel Best { get; } =
        Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernel.Vector256
        : GemmKernel.Vector128;

    /// <summary>True when <paramref name="kernel"/> runs in hardware here.</summary>
    internal static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Vector512 => Vector512.IsHardwareAccelerated,
        GemmKernel.Vector256 => Vector256.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>
    /// C = alpha · op(A)·op(B) + beta · C on spans: op(A) is [m, k] (A stored [m, lda] or, transposed, [k, lda]),
    /// op(B) is [k, n] (B stored [k, ldb] or, transposed, [n, ldb]), C is [m, ldc]. Validates that every operand
    /// fits its span. <paramref name="parallel"/> lets large products use all cores.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        bool parallel = true, GemmKernel kernel = GemmKernel.Auto)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentException($"Gemm: negative size m={m}, n={n}, k={k}.");
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        CheckOperand("A", transA ? k : m, transA ? m : k, lda, a.Length, k == 0);
        CheckOperand("B", transB ? n : k, transB ? k : n, ldb, b.Length, k == 0);
        CheckOperand("C", m, n, ldc, c.Length, false);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (m == 1 && !transA && transB && k > 0)
            {
                // One row times a transposed B (a fully connected layer on one image): dot products with B's rows,
                // which packing would copy for a single use.
                RowTimesRows(pa, pb, ldb, n, k, alpha, beta, pc, parallel);
                return;
            }
            var packA = new DenseA(pa, lda, transA);
            var packB = new DenseB(pb, ldb, transB);
            Run(ref packA, ref packB, m, n, k, alpha, beta, pc, ldc, parallel, kernel);
        }
    }

    /// <summary>c[j] = alpha · Σ_p a[p]·b[j·ldb + p] + beta · c[j] for j &lt; n (c not read when beta = 0), in parallel over j.</summary>
    private static void RowTimesRows(float* a, float* b, int ldb, int n, int k, float alpha, float beta, float* c, bool parallel)
    {
        int chunks = parallel && !CpuParallel.InParallelRegion && (long)n * k >= ParallelThreshold / 8 ? Math.Min(n, 2 * CpuParallel.Threads) : 1;
        nint ap = (nint)a, bp = (nint)b, cp = (nint)c;
        CpuParallel.For(chunks, t =>
        {
            int from = (int)((long)n * t / chunks), to = (int)((long)n * (t + 1) / chunks);
            for (int j = from; j < to; j++)
            {
                float dot = alpha * System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>((float*)ap, k), new ReadOnlySpan<float>((float*)bp + (nint)j * ldb, k));
                ((float*)cp)[j] = beta == 0f ? dot : dot + beta * ((float*)cp)[j];
            }
        });
    }

    private static void CheckOperand(string name, int rows, int cols, int ld, int length, bool empty)
    {
        if (empty)
        {
            return;
        }
        if (ld < Math.Max(cols, 1))
        {
            throw new ArgumentException($"Gemm: leading dimension of {name} is {ld} but its rows have {cols} elements.");
        }
        long needed = (long)(rows - 1) * ld + cols;
        if (needed > length)
        {
            throw new ArgumentException($"Gemm: {name} needs {needed} elements ({rows}×{cols}, leading dimension {ld}) but only {length} are available after its offset.");
        }
    }

    /// <summary>
    /// C = alpha · op(A)·op(B) + beta · C with op(A) and op(B) supplied by packers; C[i, j] is c[i·ldc + j].
    /// The caller guarantees every element the packers and C touch is valid and pinned.
    /// </summary>
    public static void Run<TA, TB>(ref TA a, ref TB b, int m, int n, int k, float alpha, float beta, float* c, int ldc,
        bool parallel = true, GemmKernel kernel = GemmKernel.Auto)
        where TA : struct, IGemmPackA
        where TB : struct, IGemmPackB
        => Run(ref a, ref b, m, n, k, alpha, beta, c, ldc, default, parallel, kernel);

    /// <summary>
    /// C = <paramref name="epilogue"/>(op(A)·op(B)): row i of C is output channel i of the epilogue, and element (i, j)
    /// is element i·ldc + j of its residual. The epilogue runs on each strip of C as the last depth block finishes it,
    /// while the strip is still in cache.
    /// </summary>
    public static void Run<TA, TB>(ref TA a, ref TB b, int m, int n, int k, float* c, int ldc, in ConvEpilogue epilogue,
        bool parallel = true)
        where TA : struct, IGemmPackA
        where TB : struct, IGemmPackB
        => Run(ref a, ref b, m, n, k, 1f, 0f, c, ldc, epilogue, parallel, GemmKernel.Auto);

    private static void Run<TA, TB>(ref TA a, ref TB b, int m, int n, int k, float alpha, float beta, float* c, int ldc,
        in ConvEpilogue epilogue, bool parallel, GemmKernel kernel)
        where TA : struct, IGemmPackA
        where TB : struct, IGemmPackB
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }
        if (k == 0 || alpha == 0f)
        {
            ScaleC(c, ldc, m, n, beta);
            if (!epilogue.IsEmpty)
            {
                for (int i = 0; i < m; i++)
                {
                    epilogue.Row(c + (nint)i * ldc, c + (nint)i * ldc, i, (nint)i * ldc, n);
                }
            }
            return;
        }
        if (kernel == GemmKernel.Auto || !IsSupported(kernel))
        {
            kernel = Best;
        }
        switch (kernel)
        {
            case GemmKernel.Vector512:
                Dispatch<TA, TB, Kernel8x32>(ref a, ref b, m, n, k, alpha, beta, c, ldc, epilogue, parallel);
                break;
            case GemmKernel.Vector256:
                Dispatch<TA, TB, Kernel6x16>(ref a, ref b, m, n, k, alpha, beta, c, ldc, epilogue, parallel);
                break;
            default:
                Dispatch<TA, TB, Kernel4x8>(ref a, ref b, m, n, k, alpha, beta, c, ldc, epilogue, parallel);
                break;
        }
    }

    private static void Dispatch<TA, TB, TK>(ref TA a, ref TB b, int m, int n, int k, float alpha, float beta, float* c, int ldc,
        in ConvEpilogue epilogue, bool parallel)
        where TA : struct, IGemmPackA
        where TB : struct, IGemmPackB
        where TK : struct, IGemmMicroKernel
    {
        int threads = parallel && !CpuParallel.InParallelRegion ? CpuParallel.Threads : 1;
        long work = (long)m * n * k;
        if (threads > 1 && work >= ParallelThreshold)
        {
            // Split the larger dimension into contiguous, tile-aligned ranges, two per thread so that a thread
            // slowed by other work hands its second range to a free one. An op(A) packed beforehand (kept filters) is
            // split along N as soon as each thread gets a strip of columns: each thread then packs only its own
            // columns of op(B) (an im2col gather on a small map costs a third of the product) instead of all of them.
            int splitN = n / TK.NR, splitM = m / TK.MR, tilesN = (n + TK.NR - 1) / TK.NR;
            bool alongN = splitN >= threads || splitN >= splitM || (tilesN >= threads && a.Packed(0, 0, Math.Min(k, KC)) != null);
            int tiles = alongN ? tilesN : (m + TK.MR - 1) / TK.MR;
            int chunks = Math.Min(2 * threads, tiles);
            if (chunks > 1)
            {
                var pa = a;
                var pb = b;
                var ep = epilogue;
                nint cp = (nint)c;
                CpuParallel.For(chunks, t =>
                {
                    int from = (int)((long)tiles * t / chunks), to = (int)((long)tiles * (t + 1) / chunks);
                    var la = pa;
                    var lb = pb;
                    if (alongN)
                    {
                        Block<TA, TB, TK>(ref la, ref lb, 0, m, from * TK.NR, Math.Min(n, to * TK.NR), k, alpha, beta, (float*)cp, ldc, ep);
                    }
                    else
                    {
                        Block<TA, TB, TK>(ref la, ref lb, from * TK.MR, Math.Min(m, to * TK.MR), 0, n, k, alpha, beta, (float*)cp, ldc, ep);
                    }
                });
                return;
            }
        }
        Block<TA, TB, TK>(ref a, ref b, 0, m, 0, n, k, alpha, beta, c, ldc, epilogue);
    }

    /// <summary>Depth of the packed blocks for a product of depth k: equal blocks of at most KC, so that none is much
    /// shallower than the others.</summary>
    private static int DepthStep(int k) => (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);

    /// <summary>Rows of the micro-panels of the micro-kernel <c>Run</c> picks by default.</summary>
    internal static int BestMR => Best switch
    {
        GemmKernel.Vector512 => Kernel8x32.MR,
        GemmKernel.Vector256 => Kernel6x16.MR,
        _ => Kernel4x8.MR,
    };

    /// <summary>Columns of the micro-panels of the micro-kernel <c>Run</c> picks by default.</summary>
    internal static int BestNR => Best switch
    {
        GemmKernel.Vector512 => Kernel8x32.NR,
        GemmKernel.Vector256 => Kernel6x16.NR,
        _ => Kernel4x8.NR,
    };

    /// <summary>Floats of an op(A) [m, k] packed whole for the default micro-kernel (<see cref="PackedA"/>).</summary>
    public static int PackedSize(int m, int k) => (m + BestMR - 1) / BestMR * BestMR * k;

    /// <summary>Floats of an op(B) [k, n] packed whole for the default micro-kernel (<see cref="PackedB"/>).</summary>
    public static int PackedSizeB(int k, int n) => (n + BestNR - 1) / BestNR * BestNR * k;

    /// <summary>
    /// Where depth step p of an op(A) [m, k] packed whole (<see cref="PackedA"/>) starts: element (r, p) lies at
    /// that offset + (r / MR)·MR·kc + r mod MR, with kc the depth of p's block. The layout is block by block of
    /// depth, MR-row panel by panel, each panel [kc][MR]; rows m … up to a multiple of MR are zero.
    /// </summary>
    public static nint PackedDepthOffset(int m, int k, int p, out int kc)
    {
        int mr = BestMR, rows = (m + mr - 1) / mr * mr, kStep = DepthStep(k), pc = p / kStep * kStep;
        kc = Math.Min(kStep, k - pc);
        return (nint)pc * rows + (nint)(p - pc) * mr;
    }

    /// <summary>
    /// Packs the row-major A [m, k] (row i at a + i·lda) whole for the default micro-kernel into
    /// <paramref name="dst"/> (<see cref="PackedSize"/>(m, k) floats), to be multiplied as <see cref="PackedA"/>.
    /// </summary>
    public static void PackWhole(float* a, int lda, int m, int k, float* dst)
    {
        int mr = BestMR, rows = (m + mr - 1) / mr * mr, kStep = DepthStep(k);
        var dense = new DenseA(a, lda, trans: false);
        for (int pc = 0; pc < k; pc += kStep)
        {
            int kc = Math.Min(kStep, k - pc);
            for (int ir = 0; ir < rows; ir += mr)
            {
                dense.Pack(dst + (nint)pc * rows + (nint)ir * kc, ir, Math.Min(mr, m - ir), pc, kc, mr);
            }
        }
    }

    /// <summary>
    /// Packs op(B) [k, n] whole for the default micro-kernel into <paramref name="dst"/> (<see cref="PackedSizeB"/>(k, n)
    /// floats), to be multiplied as <see cref="PackedB"/>: block by block of depth, NR-column panel by panel, each
    /// panel [kc][NR]; columns n … up to a multiple of NR are zero.
    /// </summary>
    public static void PackWholeB<TB>(ref TB b, int k, int n, float* dst)
        where TB : struct, IGemmPackB
    {
        int nr = BestNR, cols = (n + nr - 1) / nr * nr, kStep = DepthStep(k);
        for (int pc = 0; pc < k; pc += kStep)
        {
            b.Pack(dst + (nint)pc * cols, pc, Math.Min(kStep, k - pc), 0, n, nr);
        }
    }

    /// <summary>Buffer sizes (floats) of the packed blocks for kernel TK, plus room to align to 64 bytes.</summary>
    private static int PackedASize<TK>() where TK : IGemmMicroKernel => ((MC + TK.MR - 1) / TK.MR) * TK.MR * KC + 16;

    private static int PackedBSize<TK>() where TK : IGemmMicroKernel => ((NC + TK.NR - 1) / TK.NR) * TK.NR * KC + 16;

    /// <summary>C[i0:i1, j0:j1] on the calling thread, each MC×NR strip finished by the epilogue after its last depth block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TA, TB, TK>(ref TA a, ref TB b, int i0, int i1, int j0, int j1, int k, float alpha, float beta, float* c, int ldc,
        in ConvEpilogue epilogue)
        where TA : struct, IGemmPackA
        where TB : struct, IGemmPackB
        where TK : struct, IGemmMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        int kStep = DepthStep(k);
        float* tile = stackalloc float[TK.MR * TK.NR];
        float* packA = Align64(PackBuffer(ref _packA, PackedASize<TK>()));
        float* packB = Align64(PackBuffer(ref _packB, PackedBSize<TK>()));
        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kc = Math.Min(kStep, k - pc);
                float betaK = pc == 0 ? beta : 1f;
                bool finish = pc + kc >= k && !epilogue.IsEmpty;
                // With all of M in one block, each column strip of B is read by one run of micro-panels: it is read in
                // place, where it can be, and stays in L1 for the panels after the first, instead of being copied
                // once for so few uses. Row strides of a multiple of 256 floats would put its rows in a few cache sets.
                nint ldbInPlace = 0;
                float* panelsB = b.Packed(pc, jc, kc);
                float* inPlace = panelsB == null && i1 - i0 <= MC ? b.InPlace(pc, jc, out ldbInPlace) : null;
                if (inPlace != null && ldbInPlace % 256 == 0)
                {
                    inPlace = null;
                }
                if (panelsB == null)
                {
                    panelsB = packB;
                    if (inPlace == null)
                    {
                        b.Pack(packB, pc, kc, jc, nc, nr);
                    }
                }
                for (int ic = i0; ic < i1; ic += MC)
                {
                    int mc = Math.Min(MC, i1 - ic);
                    float* panels = a.Packed(ic, pc, kc);
                    if (panels == null)
                    {
                        panels = packA;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            a.Pack(packA + ir * kc, ic + ir, Math.Min(mr, mc - ir), pc, kc, mr);
                        }
                    }
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* bp = panelsB + jr * kc;
                        nint ldb = nr;
                        if (inPlace != null)
                        {
                            if (cols == nr)
                            {
                                bp = inPlace + jr;
                                ldb = ldbInPlace;
                            }
                            else
                            {
                                // The last, narrower strip is packed (zero-padded) on its own.
                                b.Pack(packB, pc, kc, jc + jr, cols, nr);
                                bp = packB;
                            }
                        }
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* ct = c + (nint)(ic + ir) * ldc + jc + jr;
                            if (rows == mr && cols == nr)
                            {
                                TK.Run(kc, panels + ir * kc, bp, ldb, ct, ldc, alpha, betaK);
                            }
                            else
                            {
                                TK.Run(kc, panels + ir * kc, bp, ldb, tile, nr, 1f, 0f);
                                StoreEdge(tile, nr, ct, ldc, rows, cols, alpha, betaK);
                            }
                        }
                        if (finish)
                        {
                            for (int i = ic; i < ic + mc; i++)
                            {
                                nint at = (nint)i * ldc + jc + jr;
                                epilogue.Row(c + at, c + at, i, at, cols);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A thread's working buffer (a [ThreadStatic] field), grown to at least <paramref name="size"/> floats. Pinned, so it
    /// needs no <c>fixed</c>; the packing buffers are free whenever a GEMM starts, since a thread runs one at a time.
    /// </summary>
    internal static float* PackBuffer(ref float[]? buffer, int size)
    {
        if (buffer == null || buffer.Length < size)
        {
            buffer = GC.AllocateUninitializedArray<float>(size, pinned: true);
        }
        return (float*)Unsafe.AsPointer(ref buffer[0]);
    }

    [ThreadStatic]
    private static float[]? _packA;

    [ThreadStatic]
    private static float[]? _packB;

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreEdge(float* tile, int ldt, float* c, nint ldc, int rows, int cols, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * ldt;
            float* d = c + r * ldc;
            if (beta == 0f)
            {
                for (int j = 0; j < cols; j++)
                {
                    d[j] = alpha * t[j];
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    d[j] = alpha * t[j] + beta * d[j];
                }
            }
        }
    }

    /// <summary>C = beta · C (C not read when beta is 0).</summary>
    private static void ScaleC(float* c, int ldc, int m, int n, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (nint)i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else if (beta != 1f)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    // ---- micro-kernels ---------------------------------------------------------------------------

    /// <summary>8×32 tile, 16 zmm accumulators, 512-bit FMA.</summary>
    private readonly struct Kernel8x32 : IGemmMicroKernel
    {
        public static int MR => 8;

        public static int NR => 32;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
            Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
            Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + 16);
                var a0 = Vector512.Create(a[0]);
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
                c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                var a1 = Vector512.Create(a[1]);
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
                c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                var a2 = Vector512.Create(a[2]);
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
                c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                var a3 = Vector512.Create(a[3]);
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
                c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                var a4 = Vector512.Create(a[4]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
                c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                var a5 = Vector512.Create(a[5]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
                c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                var a6 = Vector512.Create(a[6]);
                c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
                c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                var a7 = Vector512.Create(a[7]);
                c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
                c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                a += 8;
                b += ldb;
            }
            Store(c, c00, c01, alpha, beta);
            Store(c + ldc, c10, c11, alpha, beta);
            Store(c + 2 * ldc, c20, c21, alpha, beta);
            Store(c + 3 * ldc, c30, c31, alpha, beta);
            Store(c + 4 * ldc, c40, c41, alpha, beta);
            Store(c + 5 * ldc, c50, c51, alpha, beta);
            Store(c + 6 * ldc, c60, c61, alpha, beta);
            Store(c + 7 * ldc, c70, c71, alpha, beta);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector512<float> v0, Vector512<float> v1, float alpha, float beta)
        {
            var al = Vector512.Create(alpha);
            if (beta == 0f)
            {
                Vector512.Store(v0 * al, c);
                Vector512.Store(v1 * al, c + 16);
            }
            else
            {
                var be = Vector512.Create(beta);
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c), be, v0 * al), c);
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 16), be, v1 * al), c + 16);
            }
        }
    }

    /// <summary>6×16 tile, 12 ymm accumulators, 256-bit multiply-add.</summary>
    private readonly struct Kernel6x16 : IGemmMicroKernel
    {
        public static int MR => 6;

        public static int NR => 16;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector256.Load(b);
                var b1 = Vector256.Load(b + 8);
                var a0 = Vector256.Create(a[0]);
                c00 = Vector256.MultiplyAddEstimate(a0, b0, c00);
                c01 = Vector256.MultiplyAddEstimate(a0, b1, c01);
                var a1 = Vector256.Create(a[1]);
                c10 = Vector256.MultiplyAddEstimate(a1, b0, c10);
                c11 = Vector256.MultiplyAddEstimate(a1, b1, c11);
                var a2 = Vector256.Create(a[2]);
                c20 = Vector256.MultiplyAddEstimate(a2, b0, c20);
                c21 = Vector256.MultiplyAddEstimate(a2, b1, c21);
                var a3 = Vector256.Create(a[3]);
                c30 = Vector256.MultiplyAddEstimate(a3, b0, c30);
                c31 = Vector256.MultiplyAddEstimate(a3, b1, c31);
                var a4 = Vector256.Create(a[4]);
                c40 = Vector256.MultiplyAddEstimate(a4, b0, c40);
                c41 = Vector256.MultiplyAddEstimate(a4, b1, c41);
                var a5 = Vector256.Create(a[5]);
                c50 = Vector256.MultiplyAddEstimate(a5, b0, c50);
                c51 = Vector256.MultiplyAddEstimate(a5, b1, c51);
                a += 6;
                b += ldb;
            }
            Store(c, c00, c01, alpha, beta);
            Store(c + ldc, c10, c11, alpha, beta);
            Store(c + 2 * ldc, c20, c21, alpha, beta);
            Store(c + 3 * ldc, c30, c31, alpha, beta);
            Store(c + 4 * ldc, c40, c41, alpha, beta);
            Store(c + 5 * ldc, c50, c51, alpha, beta);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta)
        {
            var al = Vector256.Create(alpha);
            if (beta == 0f)
            {
                Vector256.Store(v0 * al, c);
                Vector256.Store(v1 * al, c + 8);
            }
            else
            {
                var be = Vector256.Create(beta);
                Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(c), be, v0 * al), c);
                Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(c + 8), be, v1 * al), c + 8);
            }
        }
    }

    /// <summary>4×8 tile, 8 xmm accumulators, 128-bit multiply-add (portable).</summary>
    private readonly struct Kernel4x8 : IGemmMicroKernel
    {
        public static int MR => 4;

        public static int NR => 8;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector128<float> c20 = default, c21 = default, c30 = default, c31 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector128.Load(b);
                var b1 = Vector128.Load(b + 4);
                var a0 = Vector128.Create(a[0]);
                c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
                c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
                var a1 = Vector128.Create(a[1]);
                c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
                c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
                var a2 = Vector128.Create(a[2]);
                c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
                c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
                var a3 = Vector128.Create(a[3]);
                c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
                c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
                a += 4;
                b += ldb;
            }
            Store(c, c00, c01, alpha, beta);
            Store(c + ldc, c10, c11, alpha, beta);
            Store(c + 2 * ldc, c20, c21, alpha, beta);
            Store(c + 3 * ldc, c30, c31, alpha, beta);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector128<float> v0, Vector128<float> v1, float alpha, float beta)
        {
            var al = Vector128.Create(alpha);
            if (beta == 0f)
            {
                Vector128.Store(v0 * al, c);
                Vector128.Store(v1 * al, c + 4);
            }
            else
            {
                var be = Vector128.Create(beta);
                Vector128.Store(Vector128.MultiplyAddEstimate(Vector128.Load(c), be, v0 * al), c);
                Vector128.Store(Vector128.MultiplyAddEstimate(Vector128.Load(c + 4), be, v1 * al), c + 4);
            }
        }
    }
}

/// <summary>
/// op(A) [m, k] packed beforehand for the default micro-kernel (see <see cref="Sgemm.PackedDepthOffset"/>): a left
/// operand multiplied by many right operands is packed once.
/// </summary>
internal readonly unsafe struct PackedA(float* panels, int m) : IGemmPackA
{
    private readonly int _rows = Sgemm.PackedSize(m, 1);

    public float* Packed(int i0, int p0, int kc) => panels + (nint)p0 * _rows + (nint)i0 * kc;

    public void Pack(float* dst, int i0, int rows, int p0, int kc, int mr)
        => throw new InvalidOperationException("A pre-packed operand is multiplied only with the micro-kernel it was packed for.");
}

/// <summary>op(B) [k, n] packed whole by <see cref="Sgemm.PackWholeB"/> at <paramref name="panels"/>.</summary>
internal readonly unsafe struct PackedB(float* panels, int n) : IGemmPackB
{
    private readonly int _cols = Sgemm.PackedSizeB(1, n);

    public float* Packed(int p0, int j0, int kc) => panels + (nint)p0 * _cols + (nint)j0 * kc;

    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
        => throw new InvalidOperationException("A pre-packed operand is multiplied only with the micro-kernel it was packed for.");
}

/// <summary>op(A) from a row-major matrix: A[i, p] at a[i·lda + p], or transposed at a[p·lda + i].</summary>
internal readonly unsafe struct DenseA(float* a, int lda, bool trans) : IGemmPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int i0, int rows, int p0, int kc, int mr)
    {
        if (trans)
        {
            if (rows == 8 && mr == 8 && Vector256.IsHardwareAccelerated)
            {
                // A full 8-row micro-panel: one 256-bit copy per depth step.
                float* s = a + (nint)p0 * lda + i0;
                for (int p = 0; p < kc; p++, s += lda)
                {
                    Vector256.Store(Vector256.Load(s), dst + p * 8);
                }
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + p * mr;
                FloatBlocks.Copy(a + (nint)(p0 + p) * lda + i0, d, rows);
                if (rows < mr)
                {
                    FloatBlocks.Clear(d + rows, mr - rows);
                }
            }
            return;
        }
        PackTransposed.Rows(a + (nint)i0 * lda + p0, lda, rows, kc, dst, mr);
    }
}

/// <summary>op(B) from a row-major matrix: B[p, j] at b[p·ldb + j], or transposed at b[j·ldb + p].</summary>
internal readonly unsafe struct DenseB(float* b, int ldb, bool trans) : IGemmPackB
{
    public float* InPlace(int p0, int j0, out nint rowStride)
    {
        rowStride = ldb;
        return trans ? null : b + (nint)p0 * ldb + j0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        if (trans)
        {
            for (int q = 0; q * nr < cols; q++)
            {
                PackTransposed.Rows(b + (nint)(j0 + q * nr) * ldb + p0, ldb, Math.Min(nr, cols - q * nr), kc, dst + q * kc * nr, nr);
            }
            return;
        }
        // Row by row, so that the source is read sequentially.
        int full = cols / nr, rest = cols - full * nr;
        nint panel = (nint)kc * nr;
        for (int p = 0; p < kc; p++)
        {
            float* s = b + (nint)(p0 + p) * ldb + j0;
            float* d = dst + p * nr;
            for (int q = 0; q < full; q++)
            {
                FloatBlocks.Copy(s + q * nr, d + q * panel, nr);
            }
            if (rest > 0)
            {
                FloatBlocks.Copy(s + full * nr, d + full * panel, rest);
                FloatBlocks.Clear(d + full * panel + rest, nr - rest);
            }
        }
    }
}

/// <summary>Transposing copies used by the packers.</summary>
internal static unsafe class PackTransposed
{
    /// <summary>
    /// dst[p·width + r] = src[r·ld + p] for r &lt; rows, p &lt; count; columns r in [rows, width) of dst are zeroed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(float* src, int ld, int rows, int count, float* dst, int width)
    {
        Into(src, ld, rows, count, dst, width);
        if (rows < width)
        {
            for (int p = 0; p < count; p++)
            {
                new Span<float>(dst + p * width + rows, width - rows).Clear();
            }
        }
    }

    /// <summary>
    /// dst[p·width + r] = src[r·ld + p] for r &lt; rows, p &lt; count; other columns of dst are left alone.
    /// Full groups of 8 rows go through an 8×8 register transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Into(float* src, int ld, int rows, int count, float* dst, int width)
    {
        int r = 0;
        if (Avx.IsSupported)
        {
            for (; r + 8 <= rows; r += 8)
            {
                float* s = src + (nint)r * ld;
                int p = 0;
                for (; p + 8 <= count; p += 8)
                {
                    Transpose8x8(s + p, ld, dst + p * width + r, width);
                }
                for (; p < count; p++)
                {
                    float* d = dst + p * width + r;
                    for (int q = 0; q < 8; q++)
                    {
                        d[q] = s[(nint)q * ld + p];
                    }
                }
            }
        }
        if (r < rows)
        {
            for (int p = 0; p < count; p++)
            {
                float* d = dst + p * width;
                for (int q = r; q < rows; q++)
                {
                    d[q] = src[(nint)q * ld + p];
                }
            }
        }
    }

    /// <summary>Writes the transpose of the 8×8 block at src (row stride ld) to dst (row stride dld).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, float* dst, nint dld)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * ld);
        var r3 = Avx.LoadVector256(src + 3 * ld);
        var r4 = Avx.LoadVector256(src + 4 * ld);
        var r5 = Avx.LoadVector256(src + 5 * ld);
        var r6 = Avx.LoadVector256(src + 6 * ld);
        var r7 = Avx.LoadVector256(src + 7 * ld);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dld, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dld, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dld, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dld, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dld, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dld, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dld, Avx.Permute2x128(u3, u7, 0x31));
    }
}
