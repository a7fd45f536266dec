using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// Winograd F(2×2, 3×3) for ungrouped 3×3 stride-1 convolutions (Lavin &amp; Gray, 2015): every 2×2 block of outputs
/// ("tile") is computed from its 4×4 input patch d and the filter g as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 multiplications
/// instead of 36. Summed over the input channels, the element-wise product becomes 16 independent GEMMs, one per
/// position ξ of the 4×4 transformed domain: M_ξ [K, tiles] = U_ξ [K, C] · V_ξ [C, tiles].
/// <list type="bullet">
/// <item>Forward: U = G g Gᵀ, V = Bᵀ d B, output Aᵀ M A.</item>
/// <item>Backward data: the same correlation of dy with the filters rotated by 180° and transposed (K ↔ C), padded by
/// 2 − pad, gives dx.</item>
/// <item>Backward filter, F(3×3, 2×2) (the transposed algorithm): per tile, the 3×3 filter gradient is
/// Gᵀ[(A e Aᵀ) ⊙ (Bᵀ d B)]G with e the tile's 2×2 output gradient, so the sum over tiles and images is again 16
/// GEMMs, M_ξ [K, C] = E_ξ [K, tiles] · V_ξᵀ [tiles, C], followed by one Gᵀ M G per filter.</item>
/// </list>
/// Forward and backward data use the larger F(4×4, 3×3) for wide layers with many tiles: 4×4 output tiles from
/// 6×6 patches, 36 products per 16 outputs (2.25 multiplications an output against F(2×2, 3×3)'s 4 and the direct
/// convolution's 9), with Bᵀ, G and Aᵀ built on the points 0, ±1, ±2 (Lavin &amp; Gray). Its rounding error is larger;
/// the oracle tests bound it.
/// Tiles of the whole batch are numbered image by image, row by row, and processed in blocks sized so that a block's
/// transformed data stays in cache; blocks run in parallel. Results do not depend on which thread ran a block.
/// </summary>
internal static unsafe class Winograd
{
    /// <summary>Positions of the transformed domain of F(2×2, 3×3) (4×4).</summary>
    private const int Positions = 16;

    /// <summary>Positions of the transformed domain of F(4×4, 3×3) (6×6).</summary>
    private const int LargePositions = 36;

    /// <summary>Runs the transforms as without AVX-512, patches gathered and outputs put tile by tile, on this thread (tests of that path).</summary>
    [ThreadStatic]
    internal static bool GatherPatches;

    /// <summary>
    /// Fewest tiles in a tile row for which the input transforms read image rows (the output transforms always work on
    /// rows where they can): each vector then holds tiles of one row, so narrower maps leave most lanes empty and their
    /// patches are gathered instead. Measured at batch 32, 2 threads. With 7 tiles a row, by rows against gathered (the
    /// outputs then scattered tile by tile too): F(2×2, 3×3) 256→256 at 14×14 15.5 against 19.6 ms, F(4×4, 3×3) 128→128
    /// at 28×28 15.6 against 18.1 ms. With 4 tiles a row, input by rows against gathered, outputs by rows in both:
    /// F(4×4, 3×3) 256→256 at 14×14 14.4 against 13.6 ms, F(2×2, 3×3) 512→512 at 7×7 17.2 against 16.7 ms.
    /// </summary>
    private const int MinRowTiles = 7;

    /// <summary>
    /// Whether the transforms of a call may work on image rows (<see cref="TransformInputRows"/>,
    /// <see cref="TransformInputLargeRows"/>, <see cref="TransformOutputRows"/>): with AVX-512, unless a test gathers the
    /// patches; read by the calling thread.
    /// </summary>
    private static bool TransformsByRows => Avx512F.IsSupported && !GatherPatches;

    /// <summary>Which tiles forward and backward data use on this thread (tests and measurements force one or the other).</summary>
    [ThreadStatic]
    internal static WinogradTiles Tiles;

    /// <summary>
    /// Floats of a block's transformed inputs, products and gathering scratch in the forward and backward-data passes
    /// (1 MiB, to stay in L2). Every layer rents work buffers of this one size, so they are shared through the pool.
    /// </summary>
    private const int BlockFloats = 1 << 18;

    /// <summary>
    /// Floats of a block's transformed inputs and output gradients for the filter gradient (4 MiB). Its tiles are the
    /// depth of the products, which add into all 16·K·C sums once per block, so its blocks are made deeper.
    /// </summary>
    private const int FilterBlockFloats = 1 << 20;

    /// <summary>
    /// Fewest channels on either side taken here: the transforms cost per channel what the GEMMs save per pair of
    /// channels. Measured at 28×28, batch 64, one core (forward + both gradients, against the im2col path): 16→16 is
    /// 25% slower, 32→32 even, 64→64 15% faster.
    /// </summary>
    internal const int MinChannels = 32;

    /// <summary>
    /// Fewest 2×2 tiles over the batch taken here: every call transforms all K·C filters, which few tiles do not repay.
    /// Measured at batch 1 (forward, 2 threads): 512→512 at 7×7 (16 tiles) took 4.5 ms here against 2.2 ms with im2col;
    /// 256→256 at 14×14 (49 tiles) 1.42 ms against 1.59 ms.
    /// </summary>
    internal const int MinTiles = 32;

    /// <summary>
    /// Fewest channels on either side, and fewest 4×4 tiles over the batch, for F(4×4, 3×3); below them F(2×2, 3×3) is
    /// faster. Measured forward, 2 threads: batch 1, 64→64 at 56×56 (196 tiles) 1.33 ms against 1.09 ms; batch 4, 128→128
    /// at 28×28 (196 tiles) 3.6 against 3.3 ms and 512→512 at 7×7 (16 tiles) 12.5 against 6.2 ms; batch 32, 512→512 at 7×7
    /// (128 tiles) 21–22 ms against 35–36 ms.
    /// </summary>
    internal const int MinLargeChannels = 128, MinLargeTiles = 128;

    /// <summary>
    /// Fewest channels on either side for F(4×4, 3×3) on maps whose output rows hold at least
    /// <see cref="MinWideLargeTiles"/> 4×4 tiles, whose transforms read whole runs of 16 tiles from the image rows
    /// (<see cref="MinRowTiles"/>). Measured on 2 threads, best of 6 to 25 alternating calls, against F(2×2, 3×3):
    /// 64→64 at 56×56 0.63 against 0.69 ms at batch 1, 2.27 against 2.44 ms at batch 4 and 17.7 against 19.4 ms at batch
    /// 32; at 28×28 (7 tiles a row) F(2×2, 3×3) stays faster from batch 1 to 32 (0.18 against 0.24 ms, 5.7 against 6.1 ms).
    /// On maps 13 to 24 wide, where F(2×2, 3×3)'s tiles are read by rows and F(4×4, 3×3)'s are gathered, F(2×2, 3×3)
    /// stays: 256→256 at 14×14, batch 32, 13.7 against 15.2 ms, 128→128 4.5 against 7.3 ms.
    /// </summary>
    internal const int MinWideLargeChannels = 64, MinWideLargeTiles = 14;

    /// <summary>
    /// Fewest channels on either side for the filter gradient where its input patches are gathered one by one, whose
    /// F(2×2, 3×3) transforms of both the input and the output gradient then cost per tile what C + K channels cost,
    /// against products that grow with C·K. Measured on 2 cores, best of 6, against the GEMM path: 64→64 at 56×56, batch
    /// 32, 32.0 against 26.2 ms, and at 28×28, batch 64, 19.9 against 14.5 ms; 128→128 at 28×28, batch 32, 23.5 against
    /// 24.4 ms, and at 14×14, batch 64, 12.9 against 14.1 ms; 512→512 at 4×4, batch 64, 13.2 against 17.6 ms. Where the
    /// transforms read image rows (<see cref="MinRowTiles"/>) they cost far less, and the filter gradient is taken here from
    /// <see cref="MinChannels"/> on: batch 32, 64→64 at 56×56, 22–25 against 27–33 ms; batch 64, 64→64 at 28×28, 13.1
    /// against 19.4–20.2 ms, 32→32 4.6 against 7.1 ms, and at 14×14 1.6 against 2.2 ms.
    /// </summary>
    internal const int MinFilterGradientChannels = 128;

    /// <summary>Takes the filter gradient here from <see cref="MinChannels"/> on, on this thread (tests of the kernel).</summary>
    [ThreadStatic]
    internal static bool FilterGradientFromMinChannels;

    /// <summary>
    /// True for the convolutions computed here: 3×3 filters, stride 1, no dilation, one group, padding 0 to 2, at least
    /// <see cref="MinChannels"/> input and output channels, and at least <see cref="MinTiles"/> tiles.
    /// </summary>
    public static bool Applies(in ConvGeometry g)
        => g.R == 3 && g.S == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
            && g.Groups == 1 && g.PadH <= 2 && g.PadW <= 2 && g.C >= MinChannels && g.K >= MinChannels
            && g.OH >= 1 && g.OW >= 1 && (long)g.N * ((g.OH + 1) / 2) * ((g.OW + 1) / 2) >= MinTiles;

    /// <summary>
    /// True for the filter gradients computed here: <see cref="Applies"/>, with at least
    /// <see cref="MinFilterGradientChannels"/> input and output channels unless the input's transforms read image rows.
    /// </summary>
    public static bool AppliesToFilterGradient(in ConvGeometry g)
        => Applies(g) && (FilterGradientFromMinChannels || (TransformsByRows && (g.OW + 1) / 2 >= MinRowTiles)
            || Math.Min(g.C, g.K) >= MinFilterGradientChannels);

    /// <summary>Whether a correlation producing n maps of oh×ow from c to k channels uses F(4×4, 3×3).</summary>
    private static bool UsesLargeTiles(int n, int c, int k, int oh, int ow)
    {
        if (Tiles != WinogradTiles.Measured)
        {
            return Tiles == WinogradTiles.Large;
        }
        // Where only F(2×2, 3×3)'s tile rows are long enough to be read by rows (maps 13 to 24 wide), it is the faster.
        int across = (ow + 3) / 4;
        bool largeByRows = TransformsByRows && across >= MinRowTiles, smallByRows = TransformsByRows && (ow + 1) / 2 >= MinRowTiles;
        return Math.Min(c, k) >= (largeByRows && across >= MinWideLargeTiles ? MinWideLargeChannels : MinLargeChannels)
            && (long)n * ((oh + 3) / 4) * across >= MinLargeTiles && (largeByRows || !smallByRows);
    }

    /// <summary>
    /// y = epilogue(conv(x, w)); <paramref name="transformed"/> holds the filters already transformed
    /// (<see cref="TransformForward"/>), or is null and they are transformed for this call.
    /// </summary>
    public static void Forward(float* x, float* w, float* transformed, in ConvEpilogue epilogue, float* y, in ConvGeometry g)
    {
        bool large = UsesLargeTiles(g);
        if (transformed != null)
        {
            CorrelateBlocks(x, transformed, Sgemm.PackedSize(g.K, g.C), epilogue, y, g.N, g.C, g.H, g.W, g.K, g.OH, g.OW, g.PadH, g.PadW, large);
            return;
        }
        Correlate(x, w, rotated: false, epilogue, y, g.N, g.C, g.H, g.W, g.K, g.OH, g.OW, g.PadH, g.PadW, large);
    }

    /// <summary>Whether the forward pass of <paramref name="g"/> uses F(4×4, 3×3).</summary>
    public static bool UsesLargeTiles(in ConvGeometry g) => UsesLargeTiles(g.N, g.C, g.K, g.OH, g.OW);

    /// <summary>Floats of the forward filters transformed for <paramref name="g"/> (<see cref="TransformForward"/>).</summary>
    public static int TransformedSize(in ConvGeometry g, bool large) => (large ? LargePositions : Positions) * Sgemm.PackedSize(g.K, g.C);

    /// <summary>The forward filters w [K, C, 3, 3] transformed and packed as <see cref="Forward"/> multiplies them.</summary>
    public static void TransformForward(float* w, float* transformed, in ConvGeometry g, bool large)
        => TransformFilters(w, transformed, Sgemm.PackedSize(g.K, g.C), g.K, g.C, transposeAndRotate: false, large);

    /// <summary>dx = the correlation of dy with the 180°-rotated, transposed filters, padded by 2 − pad.</summary>
    public static void BackwardData(float* dy, float* w, float* dx, in ConvGeometry g)
        => Correlate(dy, w, rotated: true, default, dx, g.N, g.K, g.OH, g.OW, g.C, g.H, g.W, 2 - g.PadH, 2 - g.PadW, UsesLargeTiles(g.N, g.K, g.C, g.H, g.W));

    /// <summary>
    /// dw = Σ over images and tiles of the F(3×3, 2×2) products, block of tiles by block: the cores first share the
    /// block's transforms channel by channel, then its 16 products position by position. Each position's sums are
    /// added by one core, block after block, so the result does not depend on the number of cores.
    /// </summary>
    public static void BackwardFilter(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        int k = g.K, c = g.C;
        int tilesH = (g.OH + 1) / 2, tilesW = (g.OW + 1) / 2;
        int tiles = g.N * tilesH * tilesW;
        // Deep blocks (see FilterBlockFloats), at least 2·C·K / (C + K) tiles when they fit, so that adding into
        // the sums costs less than reading the block.
        int fit = Math.Max(32, FilterBlockFloats / (Positions * (c + k)) / 32 * 32);
        int block = Math.Min(fit, Math.Max(BlockFloats / (Positions * (c + k)), (int)(2L * c * k / (c + k))));
        block = Math.Min(Math.Max(32, (block + 31) / 32 * 32), (tiles + 31) / 32 * 32);
        var sums = BufferPool.Rent(Positions * k * c);
        var work = BufferPool.Rent(Math.Max(FilterBlockFloats, Positions * (c + k) * block));
        var geo = g;
        nint xp = (nint)x, dyp = (nint)dy;
        bool byRows = TransformsByRows;
        try
        {
            fixed (float* ps = sums)
            fixed (float* pv = work)
            {
                // v [16, C, block] and e [16, K, block].
                float* pe = pv + (nint)Positions * c * block;
                nint sp = (nint)ps, vp = (nint)pv, ep = (nint)pe;
                for (int t0 = 0; t0 < tiles; t0 += block)
                {
                    int count = Math.Min(block, tiles - t0), first = t0;
                    CpuParallel.ForRanges(c + k, (from, to) =>
                    {
                        var scratch = BufferPool.Rent(Positions * block);
                        fixed (float* pscratch = scratch)
                        {
                            if (from < c)
                            {
                                TransformInput((float*)xp, c, from, Math.Min(to, c), geo.H, geo.W, tilesH, tilesW,
                                    geo.PadH, geo.PadW, first, count, pscratch, (float*)vp, (nint)c * block, block, byRows);
                            }
                            if (to > c)
                            {
                                TransformOutputGradient((float*)dyp, k, Math.Max(from, c) - c, to - c, geo.OH, geo.OW,
                                    tilesH, tilesW, first, count, pscratch, (float*)ep, (nint)k * block, block, byRows);
                            }
                        }
                        BufferPool.Return(scratch);
                    });
                    // M_ξ [K, C] (+)= E_ξ [K, tiles] · V_ξᵀ, V_ξ stored [C, tiles].
                    CpuParallel.For(Positions, xi =>
                    {
                        var a = new DenseA((float*)ep + (nint)xi * k * block, block, trans: false);
                        var b = new DenseB((float*)vp + (nint)xi * c * block, block, trans: true);
                        Sgemm.Run(ref a, ref b, k, c, count, 1f, first == 0 ? 0f : 1f, (float*)sp + (nint)xi * k * c, c, parallel: false);
                    });
                }
                FilterGradientFromProducts(ps, dw, k, c);
            }
        }
        finally
        {
            BufferPool.Return(sums);
            BufferPool.Return(work);
        }
    }

    /// <summary>
    /// Tiles per block of the forward and backward-data passes: as many as fit their transformed inputs, products and
    /// scratch (16·(C + K + 1) floats a tile) in <see cref="BlockFloats"/>, a multiple of the micro-kernel width, and
    /// few enough to give every core two blocks.
    /// </summary>
    private static int BlockTiles(int inChannels, int outChannels, int tiles, int positions)
    {
        int fit = BlockFloats / (positions * (inChannels + outChannels + 1)) / 32 * 32;
        int share = (tiles + 2 * CpuParallel.Threads - 1) / (2 * CpuParallel.Threads);
        return Math.Max(32, Math.Min(fit, (share + 31) / 32 * 32));
    }

    /// <summary>
    /// y[n, k] = epilogue(Σ_c correlate(x[n, c], filter[k, c])): x is [n, c, h, w] padded by (padH, padW), y is
    /// [n, k, oh, ow] with oh = h + 2·padH − 2. The filters are the convolution's weights [k, c, 3, 3], or, when
    /// <paramref name="rotated"/>, its weights [c, k, 3, 3] taken transposed and turned by 180° (backward data); they
    /// are transformed and packed once (<see cref="TransformFilters"/>) and shared by all blocks.
    /// </summary>
    private static void Correlate(float* x, float* filters, bool rotated, in ConvEpilogue epilogue, float* y, int n, int c,
        int h, int w, int k, int oh, int ow, int padH, int padW, bool large)
    {
        int packedSize = Sgemm.PackedSize(k, c);
        var packed = BufferPool.Rent((large ? LargePositions : Positions) * packedSize);
        try
        {
            fixed (float* pu = packed)
            {
                TransformFilters(filters, pu, packedSize, rotated ? c : k, rotated ? k : c, rotated, large);
                CorrelateBlocks(x, pu, packedSize, epilogue, y, n, c, h, w, k, oh, ow, padH, padW, large);
            }
        }
        finally
        {
            BufferPool.Return(packed);
        }
    }

    /// <summary><see cref="Correlate"/> over blocks of tiles, with the filters packed (packedSize floats a position).</summary>
    private static void CorrelateBlocks(float* x, float* packed, int packedSize, ConvEpilogue epilogue, float* y, int n, int c,
        int h, int w, int k, int oh, int ow, int padH, int padW, bool large)
    {
        int tile = large ? 4 : 2, positions = large ? LargePositions : Positions;
        int tilesH = (oh + tile - 1) / tile, tilesW = (ow + tile - 1) / tile;
        int tiles = n * tilesH * tilesW;
        int block = BlockTiles(c, k, tiles, positions);
        int blocks = (tiles + block - 1) / block;
        bool inner = blocks < CpuParallel.Threads, byRows = TransformsByRows;
        nint xp = (nint)x, up = (nint)packed, yp = (nint)y;
        // One work buffer per thread: the transformed inputs v [positions, C, block], the products m [positions, K, block]
        // and the gathering scratch [positions, block].
        int size = Math.Max(BlockFloats, positions * (c + k + 1) * block);
        CpuParallel.ForRanges(blocks, (from, to) =>
        {
            var work = BufferPool.Rent(size);
            try
            {
                fixed (float* pv = work)
                {
                    float* pm = pv + (nint)positions * c * block, pscratch = pm + (nint)positions * k * block;
                    for (int b = from; b < to; b++)
                    {
                        int t0 = b * block, count = Math.Min(block, tiles - t0);
                        if (large)
                        {
                            TransformInputLarge((float*)xp, c, h, w, tilesH, tilesW, padH, padW, t0, count, pscratch, pv, (nint)c * block, block, byRows);
                        }
                        else
                        {
                            TransformInput((float*)xp, c, 0, c, h, w, tilesH, tilesW, padH, padW, t0, count, pscratch, pv, (nint)c * block, block, byRows);
                        }
                        for (int xi = 0; xi < positions; xi++)
                        {
                            var a = new PackedA((float*)up + (nint)xi * packedSize, k);
                            var bm = new DenseB(pv + (nint)xi * c * block, block, trans: false);
                            Sgemm.Run(ref a, ref bm, k, count, c, 1f, 0f, pm + (nint)xi * k * block, block, inner);
                        }
                        if (byRows)
                        {
                            TransformOutputRows(pm, block, epilogue, (float*)yp, k, oh, ow, tilesH, tilesW, t0, count, large, pscratch);
                        }
                        else if (large)
                        {
                            TransformOutputLarge(pm, block, epilogue, (float*)yp, k, oh, ow, tilesH, tilesW, t0, count);
                        }
                        else
                        {
                            TransformOutput(pm, block, epilogue, (float*)yp, k, oh, ow, tilesH, tilesW, t0, count);
                        }
                    }
                }
            }
            finally
            {
                BufferPool.Return(work);
            }
        });
    }

    /// <summary>
    /// The filters' transforms (G g Gᵀ)_ξ, G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]], written straight into the
    /// micro-kernel's packed panels of the GEMMs' left operand (<see cref="PackedA"/>, <paramref name="packedSize"/>
    /// floats per position ξ): [K, C] from g = w[k, c] for the forward pass, [C, K] from g = w[k, c] turned by 180° for
    /// backward data.
    /// </summary>
    private static void TransformFilters(float* w, float* u, int packedSize, int k, int c, bool transposeAndRotate, bool large)
    {
        int positions = large ? LargePositions : Positions;
        // Eight neighbouring rows of the operand, whose filters lie 9·c or 9 floats apart in w, are transformed at
        // once, depth step by depth step (input channel forward, output channel backward), so that both w and the
        // panels are walked in order.
        int depth = transposeAndRotate ? k : c, rows = transposeAndRotate ? c : k;
        nint stride = transposeAndRotate ? 9 : 9 * (nint)c;
        int mr = Sgemm.BestMR;
        nint wp = (nint)w, up = (nint)u;
        if (mr != Vector256<float>.Count)
        {
            // Panel rows past the last row stay zero.
            new Span<float>(u, positions * packedSize).Clear();
        }
        int lanes = Vector256<float>.Count;
        CpuParallel.ForRanges((rows + lanes - 1) / lanes, (from, to) =>
        {
            float* g = stackalloc float[9 * lanes];
            float* o = stackalloc float[LargePositions * lanes];
            float* t = stackalloc float[18 * lanes];
            var half = Vector256.Create(0.5f);
            for (int j = from * lanes; j < Math.Min(rows, to * lanes); j += lanes)
            {
                int n = Math.Min(lanes, rows - j);
                for (int i = 0; i < depth; i++)
                {
                    nint at = Sgemm.PackedDepthOffset(rows, depth, i, out int kc);
                    float* first = (float*)wp + (transposeAndRotate ? (nint)i * c + j : (nint)j * c + i) * 9;
                    // g[e·lanes + l] = element e of filter l, rotated by 180° for backward data.
                    for (int e = 0; e < 9; e++)
                    {
                        float* src = first + (transposeAndRotate ? 8 - e : e);
                        for (int l = 0; l < lanes; l++)
                        {
                            g[e * lanes + l] = l < n ? src[l * stride] : 0f;
                        }
                    }
                    if (large)
                    {
                        TransformFilterLarge(g, t, o, lanes);
                    }
                    else
                    {
                        for (int s = 0; s < 3; s++)
                        {
                            // Column s of G g.
                            var g0 = Vector256.Load(g + s * lanes);
                            var g1 = Vector256.Load(g + (3 + s) * lanes);
                            var g2 = Vector256.Load(g + (6 + s) * lanes);
                            Vector256.Store(g0, g + s * lanes);
                            Vector256.Store(half * (g0 + g1 + g2), g + (3 + s) * lanes);
                            Vector256.Store(half * (g0 - g1 + g2), g + (6 + s) * lanes);
                            Vector256.Store(g2, o + (12 + s) * lanes);
                        }
                        for (int r = 0; r < 4; r++)
                        {
                            // Row r of (G g) Gᵀ; row 3 of G g was parked in o's last row.
                            float* a = r < 3 ? g + 3 * r * lanes : o + 12 * lanes;
                            var a0 = Vector256.Load(a);
                            var a1 = Vector256.Load(a + lanes);
                            var a2 = Vector256.Load(a + 2 * lanes);
                            Vector256.Store(a0, o + 4 * r * lanes);
                            Vector256.Store(half * (a0 + a1 + a2), o + (4 * r + 1) * lanes);
                            Vector256.Store(half * (a0 - a1 + a2), o + (4 * r + 2) * lanes);
                            Vector256.Store(a2, o + (4 * r + 3) * lanes);
                        }
                    }
                    for (int xi = 0; xi < positions; xi++)
                    {
                        float* dst = (float*)up + (nint)xi * packedSize + at;
                        if (mr == lanes)
                        {
                            // The eight rows are one panel's row at this depth (rows past the end come out zero).
                            Vector256.Store(Vector256.Load(o + xi * lanes), dst + (nint)j * kc);
                            continue;
                        }
                        for (int l = 0; l < n; l++)
                        {
                            int row = j + l;
                            dst[(nint)(row / mr) * mr * kc + row % mr] = o[xi * lanes + l];
                        }
                    }
                }
            }
        });
    }

    /// <summary>
    /// Writes Bᵀ d B for the 4×4 input patch d of channels [c0, c1) (of c) and of tiles [t0, t0 + count), with
    /// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]: position ξ of channel ci for tile t0 + j goes to
    /// dst[ξ·ldXi + ci·ld + j]. Tile (ty, tx) of an image reads rows 2ty − padH … + 3 and columns 2tx − padW … + 3;
    /// outside the image the patch is zero. With <paramref name="byRows"/> (<see cref="TransformsByRows"/>) and tile rows of at
    /// least <see cref="MinRowTiles"/> tiles, 16 neighbouring tiles of a tile row at a time straight from the image rows
    /// (<see cref="TransformInputRows"/>); otherwise the patches are first gathered into 16 rows of
    /// <paramref name="scratch"/> ([16, ld]), channel by channel, then transformed with vectors across the tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput(float* x, int c, int c0, int c1, int h, int w, int tilesH, int tilesW, int padH,
        int padW, int t0, int count, float* scratch, float* dst, nint ldXi, int ld, bool byRows)
    {
        if (byRows && tilesW >= MinRowTiles)
        {
            TransformInputRows(x, c, c0, c1, h, w, tilesH, tilesW, padH, padW, t0, count, dst, ldXi, ld);
            return;
        }
        var (starts, corners) = PatchStarts(t0, count, tilesH, tilesW, 2, 4, padH, padW, c, h, w);
        int lanes = Vector256<float>.Count, padded = (count + lanes - 1) / lanes * lanes;
        ClearPadding(scratch, Positions, ld, count, padded);
        for (int ci = c0; ci < c1; ci++)
        {
            float* channel = x + ci * (nint)h * w;
            for (int j = 0; j < count; j++)
            {
                float* q = scratch + j;
                if (starts[j] < 0)
                {
                    GatherEdgePatch(channel, corners, j, 4, c, h, w, q, ld);
                    continue;
                }
                float* p = channel + starts[j];
                for (int e = 0; e < 16; e++)
                {
                    q[e * ld] = p[(e / 4) * w + e % 4];
                }
            }
            float* o = dst + ci * (nint)ld;
            for (int j = 0; j < padded; j += lanes)
            {
                float* q = scratch + j;
                for (int s = 0; s < 4; s++)
                {
                    // Bᵀ d, column s.
                    var d0 = Vector256.Load(q + s * ld);
                    var d1 = Vector256.Load(q + (4 + s) * ld);
                    var d2 = Vector256.Load(q + (8 + s) * ld);
                    var d3 = Vector256.Load(q + (12 + s) * ld);
                    Vector256.Store(d0 - d2, q + s * ld);
                    Vector256.Store(d1 + d2, q + (4 + s) * ld);
                    Vector256.Store(d2 - d1, q + (8 + s) * ld);
                    Vector256.Store(d1 - d3, q + (12 + s) * ld);
                }
                for (int r = 0; r < 4; r++)
                {
                    // (Bᵀ d) B, row r.
                    var a0 = Vector256.Load(q + 4 * r * ld);
                    var a1 = Vector256.Load(q + (4 * r + 1) * ld);
                    var a2 = Vector256.Load(q + (4 * r + 2) * ld);
                    var a3 = Vector256.Load(q + (4 * r + 3) * ld);
                    float* out0 = o + 4 * r * ldXi + j;
                    Vector256.Store(a0 - a2, out0);
                    Vector256.Store(a1 + a2, out0 + ldXi);
                    Vector256.Store(a2 - a1, out0 + 2 * ldXi);
                    Vector256.Store(a1 - a3, out0 + 3 * ldXi);
                }
            }
        }
        ReturnPatchStarts(starts, corners);
    }

    /// <summary>
    /// <see cref="TransformInput"/> with AVX-512, tile row by tile row: for 16 neighbouring tiles, each of the four image
    /// rows they read is loaded as two pairs of vectors, two floats apart, whose even and odd floats are the patches'
    /// four columns (d B is taken there, in registers); Bᵀ (d B) then gives the 16 positions, stored as one vector each.
    /// Rows and columns in the padding read as zero (masked loads); the last tiles of a row are stored under a mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputRows(float* x, int c, int c0, int c1, int h, int w, int tilesH, int tilesW, int padH,
        int padW, int t0, int count, float* dst, nint ldXi, int ld)
    {
        nint hw = (nint)h * w;
        for (int ci = c0; ci < c1; ci++)
        {
            float* o = dst + ci * (nint)ld;
            for (var run = new TileRuns(t0, count, tilesH, tilesW); run.MoveNext();)
            {
                float* channel = x + ((nint)run.Image * c + ci) * hw;
                int iy = 2 * run.Y - padH;
                for (int l = 0; l < run.Length; l += 16)
                {
                    int ix = 2 * (run.X + l) - padW;
                    var (a0, a1, a2, a3) = PatchRow(channel, iy, ix, h, w);
                    var (b0, b1, b2, b3) = PatchRow(channel, iy + 1, ix, h, w);
                    var (d0, d1, d2, d3) = PatchRow(channel, iy + 2, ix, h, w);
                    var (e0, e1, e2, e3) = PatchRow(channel, iy + 3, ix, h, w);
                    float* q = o + run.J + l;
                    var mask = Vector512.LessThan(Iota, Vector512.Create(run.Length - l)).AsSingle();
                    Avx512F.MaskStore(q, mask, a0 - d0);
                    Avx512F.MaskStore(q + ldXi, mask, a1 - d1);
                    Avx512F.MaskStore(q + 2 * ldXi, mask, a2 - d2);
                    Avx512F.MaskStore(q + 3 * ldXi, mask, a3 - d3);
                    Avx512F.MaskStore(q + 4 * ldXi, mask, b0 + d0);
                    Avx512F.MaskStore(q + 5 * ldXi, mask, b1 + d1);
                    Avx512F.MaskStore(q + 6 * ldXi, mask, b2 + d2);
                    Avx512F.MaskStore(q + 7 * ldXi, mask, b3 + d3);
                    Avx512F.MaskStore(q + 8 * ldXi, mask, d0 - b0);
                    Avx512F.MaskStore(q + 9 * ldXi, mask, d1 - b1);
                    Avx512F.MaskStore(q + 10 * ldXi, mask, d2 - b2);
                    Avx512F.MaskStore(q + 11 * ldXi, mask, d3 - b3);
                    Avx512F.MaskStore(q + 12 * ldXi, mask, b0 - e0);
                    Avx512F.MaskStore(q + 13 * ldXi, mask, b1 - e1);
                    Avx512F.MaskStore(q + 14 * ldXi, mask, b2 - e2);
                    Avx512F.MaskStore(q + 15 * ldXi, mask, b3 - e3);
                }
            }
        }
    }

    /// <summary>0, 1, …, 15.</summary>
    private static Vector512<int> Iota => Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /// <summary>
    /// d B of row <paramref name="iy"/> of 16 neighbouring 4×4 patches whose first starts at column <paramref name="ix"/>
    /// (each 2 floats right of the one before), with B as in <see cref="TransformInput"/>; zero outside the image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) PatchRow(float* channel, int iy, int ix, int h, int w)
    {
        if ((uint)iy >= (uint)h)
        {
            return default;
        }
        float* row = channel + (nint)iy * w;
        Vector512<float> v0, v1, v2, v3;
        if (ix >= 0 && ix + 34 <= w)
        {
            v0 = Vector512.Load(row + ix);
            v1 = Vector512.Load(row + ix + 16);
            v2 = Vector512.Load(row + ix + 2);
            v3 = Vector512.Load(row + ix + 18);
        }
        else
        {
            v0 = LoadInside(row, ix, w);
            v1 = LoadInside(row, ix + 16, w);
            v2 = LoadInside(row, ix + 2, w);
            v3 = LoadInside(row, ix + 18, w);
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var d0 = Avx512F.PermuteVar16x32x2(v0, even, v1);
        var d1 = Avx512F.PermuteVar16x32x2(v0, odd, v1);
        var d2 = Avx512F.PermuteVar16x32x2(v2, even, v3);
        var d3 = Avx512F.PermuteVar16x32x2(v2, odd, v3);
        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3);
    }

    /// <summary>row[start … start + 16), zero where the column lies outside [0, w); reads nothing outside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadInside(float* row, int start, int w)
    {
        var column = Iota + Vector512.Create(start);
        var inside = Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(w));
        return Avx512F.MaskLoad(row + start, inside.AsSingle(), Vector512<float>.Zero);
    }

    /// <summary>
    /// Where the size×size patch of each tile [t0, t0 + count) starts (tiles step apart): its offset in channel 0 of the
    /// batch, or −1 when it reaches into the padding; then corners[3j … 3j + 2] give its image, row and column
    /// (<see cref="GatherEdgePatch"/>). The caller returns both arrays with <see cref="ReturnPatchStarts"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (nint[] Starts, int[] Corners) PatchStarts(int t0, int count, int tilesH, int tilesW, int step, int size,
        int padH, int padW, int c, int h, int w)
    {
        nint hw = (nint)h * w;
        var starts = ArrayPool<nint>.Shared.Rent(count);
        var corners = ArrayPool<int>.Shared.Rent(3 * count);
        var tile = new TileCursor(t0, tilesH, tilesW);
        for (int j = 0; j < count; j++, tile.Next())
        {
            int iy = step * tile.Y - padH, ix = step * tile.X - padW;
            bool inside = iy >= 0 && iy + size <= h && ix >= 0 && ix + size <= w;
            starts[j] = inside ? (nint)tile.Image * c * hw + (nint)iy * w + ix : -1;
            corners[3 * j] = tile.Image;
            corners[3 * j + 1] = iy;
            corners[3 * j + 2] = ix;
        }
        return (starts, corners);
    }

    private static void ReturnPatchStarts(nint[] starts, int[] corners)
    {
        ArrayPool<nint>.Shared.Return(starts);
        ArrayPool<int>.Shared.Return(corners);
    }

    /// <summary>Zeroes the scratch rows' columns [count, padded), which the vector transforms read.</summary>
    private static void ClearPadding(float* scratch, int rows, int ld, int count, int padded)
    {
        for (int r = 0; r < rows; r++)
        {
            new Span<float>(scratch + (nint)r * ld + count, padded - count).Clear();
        }
    }

    /// <summary>Gathers tile j's size×size patch of one channel where it reaches into the padding (zero there) into q[(size·r + s)·ld].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherEdgePatch(float* channel, int[] corners, int j, int size, int c, int h, int w, float* q, int ld)
    {
        float* plane = channel + (nint)corners[3 * j] * c * h * w;
        int iy = corners[3 * j + 1], ix = corners[3 * j + 2];
        for (int r = 0; r < size; r++)
        {
            int yy = iy + r;
            for (int s = 0; s < size; s++)
            {
                int xx = ix + s;
                q[(size * r + s) * ld] = (uint)yy < (uint)h && (uint)xx < (uint)w ? plane[(nint)yy * w + xx] : 0f;
            }
        }
    }

    /// <summary>Walks the tiles of a batch in order: image, tile row, tile column.</summary>
    private struct TileCursor(int t, int tilesH, int tilesW)
    {
        public int Image = t / (tilesH * tilesW);
        public int Y = t % (tilesH * tilesW) / tilesW;
        public int X = t % tilesW;

        public void Next()
        {
            if (++X == tilesW)
            {
                X = 0;
                if (++Y == tilesH)
                {
                    Y = 0;
                    Image++;
                }
            }
        }
    }

    /// <summary>
    /// Walks the tiles [t0, t0 + count) of a block as runs that each lie in one tile row, for the transforms that work
    /// on image rows: each run's index in the block (J), its first tile (Image, Y, X) and its length.
    /// </summary>
    private struct TileRuns(int t0, int count, int tilesH, int tilesW)
    {
        private TileCursor _next = new(t0, tilesH, tilesW);
        private int _at;
        public int J, Image, Y, X, Length;

        public bool MoveNext()
        {
            if (_at >= count)
            {
                return false;
            }
            (J, Image, Y, X) = (_at, _next.Image, _next.Y, _next.X);
            Length = Math.Min(tilesW - X, count - _at);
            _at += Length;
            _next.X += Length - 1;
            _next.Next();
            return true;
        }
    }

    /// <summary>
    /// <see cref="TransformOutput"/> (or, when <paramref name="large"/>, <see cref="TransformOutputLarge"/>) with AVX-512,
    /// at any width, tile row by tile row: 16 neighbouring tiles of a tile row at a time, the transform in registers (F(4×4, 3×3)'s
    /// Aᵀ m parked in <paramref name="scratch"/>, [24, 16]), then each output row's tile columns interleaved by permutes,
    /// the epilogue applied, and the row stored under the mask of the outputs inside the map.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputRows(float* m, int ld, in ConvEpilogue epilogue, float* y, int k, int oh, int ow, int tilesH,
        int tilesW, int t0, int count, bool large, float* scratch)
    {
        nint ohw = (nint)oh * ow, plane = (nint)k * ld;
        int size = large ? 4 : 2;
        var pairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var pairsOfPairs = Vector512.Create(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
        var eight = Vector512.Create(8);
        Vector512<float>* rows = stackalloc Vector512<float>[8];
        for (int ki = 0; ki < k; ki++)
        {
            var bias = Vector512.Create(epilogue.Bias == null ? 0f : epilogue.Bias[ki]);
            float* mk = m + (nint)ki * ld;
            for (var run = new TileRuns(t0, count, tilesH, tilesW); run.MoveNext();)
            {
                int oy = size * run.Y;
                float* first = y + ((nint)run.Image * k + ki) * ohw + (nint)oy * ow;
                for (int l = 0; l < run.Length; l += 16)
                {
                    var present = Vector512.LessThan(Iota, Vector512.Create(run.Length - l)).AsSingle();
                    float* p = mk + run.J + l;
                    int ox = size * (run.X + l), columns = Math.Min(size * (run.Length - l), ow - ox);
                    if (large)
                    {
                        for (int col = 0; col < 6; col++)
                        {
                            // Aᵀ m, column col, into scratch [4, 6].
                            float* q = p + col * plane;
                            var (a0, a1, a2, a3) = OutputTransform(Avx512F.MaskLoad(q, present, default), Avx512F.MaskLoad(q + 6 * plane, present, default),
                                Avx512F.MaskLoad(q + 12 * plane, present, default), Avx512F.MaskLoad(q + 18 * plane, present, default),
                                Avx512F.MaskLoad(q + 24 * plane, present, default), Avx512F.MaskLoad(q + 30 * plane, present, default));
                            Vector512.Store(a0, scratch + col * 16);
                            Vector512.Store(a1, scratch + (6 + col) * 16);
                            Vector512.Store(a2, scratch + (12 + col) * 16);
                            Vector512.Store(a3, scratch + (18 + col) * 16);
                        }
                        for (int r = 0; r < 4 && oy + r < oh; r++)
                        {
                            // (Aᵀ m) A, row r: the four columns of 16 tiles, interleaved into 64 outputs.
                            float* t = scratch + 6 * r * 16;
                            var (c0, c1, c2, c3) = OutputTransform(Vector512.Load(t), Vector512.Load(t + 16), Vector512.Load(t + 32),
                                Vector512.Load(t + 48), Vector512.Load(t + 64), Vector512.Load(t + 80));
                            var low01 = Avx512F.PermuteVar16x32x2(c0, pairs, c1);
                            var low23 = Avx512F.PermuteVar16x32x2(c2, pairs, c3);
                            var high01 = Avx512F.PermuteVar16x32x2(c0, pairs + eight, c1);
                            var high23 = Avx512F.PermuteVar16x32x2(c2, pairs + eight, c3);
                            rows[0] = Avx512F.PermuteVar16x32x2(low01, pairsOfPairs, low23);
                            rows[1] = Avx512F.PermuteVar16x32x2(low01, pairsOfPairs + eight, low23);
                            rows[2] = Avx512F.PermuteVar16x32x2(high01, pairsOfPairs, high23);
                            rows[3] = Avx512F.PermuteVar16x32x2(high01, pairsOfPairs + eight, high23);
                            StoreOutputRow(rows, 4, bias, epilogue, first + (nint)r * ow + ox, y, columns);
                        }
                        continue;
                    }
                    var m0 = Avx512F.MaskLoad(p, present, default);
                    var m1 = Avx512F.MaskLoad(p + plane, present, default);
                    var m2 = Avx512F.MaskLoad(p + 2 * plane, present, default);
                    var m3 = Avx512F.MaskLoad(p + 3 * plane, present, default);
                    var m4 = Avx512F.MaskLoad(p + 4 * plane, present, default);
                    var m5 = Avx512F.MaskLoad(p + 5 * plane, present, default);
                    var m6 = Avx512F.MaskLoad(p + 6 * plane, present, default);
                    var m7 = Avx512F.MaskLoad(p + 7 * plane, present, default);
                    var m8 = Avx512F.MaskLoad(p + 8 * plane, present, default);
                    var m9 = Avx512F.MaskLoad(p + 9 * plane, present, default);
                    var m10 = Avx512F.MaskLoad(p + 10 * plane, present, default);
                    var m11 = Avx512F.MaskLoad(p + 11 * plane, present, default);
                    // Aᵀ m, two rows of four, then (Aᵀ m) A, each output row's two columns interleaved.
                    var s1 = m1 + m5 + m9;
                    var s2 = m2 + m6 + m10;
                    var top0 = m0 + m4 + m8 + s1 + s2;
                    var top1 = s1 - s2 - (m3 + m7 + m11);
                    rows[0] = Avx512F.PermuteVar16x32x2(top0, pairs, top1);
                    rows[1] = Avx512F.PermuteVar16x32x2(top0, pairs + eight, top1);
                    StoreOutputRow(rows, 2, bias, epilogue, first + ox, y, columns);
                    if (oy + 1 < oh)
                    {
                        var u1 = m5 - m9 - Avx512F.MaskLoad(p + 13 * plane, present, default);
                        var u2 = m6 - m10 - Avx512F.MaskLoad(p + 14 * plane, present, default);
                        var bottom0 = m4 - m8 - Avx512F.MaskLoad(p + 12 * plane, present, default) + u1 + u2;
                        var bottom1 = u1 - u2 - (m7 - m11 - Avx512F.MaskLoad(p + 15 * plane, present, default));
                        rows[0] = Avx512F.PermuteVar16x32x2(bottom0, pairs, bottom1);
                        rows[1] = Avx512F.PermuteVar16x32x2(bottom0, pairs + eight, bottom1);
                        StoreOutputRow(rows, 2, bias, epilogue, first + ow + ox, y, columns);
                    }
                }
            }
        }
    }

    /// <summary>Aᵀ v for the six rows v0 … v5 of a column (or the six columns of a row) of 16 tiles, with Aᵀ as in <see cref="TransformOutputLarge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) OutputTransform(
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Vector512<float> v4, Vector512<float> v5)
    {
        var sum12 = v1 + v2;
        var diff12 = v1 - v2;
        var sum34 = v3 + v4;
        var diff34 = v3 - v4;
        return (v0 + sum12 + sum34, diff12 + Vector512.Create(2f) * diff34, sum12 + Vector512.Create(4f) * sum34, diff12 + Vector512.Create(8f) * diff34 + v5);
    }

    /// <summary>
    /// Stores the first <paramref name="columns"/> of the 16·<paramref name="vectors"/> outputs of one output row at
    /// <paramref name="o"/> (in y) as epilogue(v + bias): the residual at the same place, then the activation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOutputRow(Vector512<float>* rows, int vectors, Vector512<float> bias, in ConvEpilogue epilogue, float* o, float* y, int columns)
    {
        for (int v = 0; v < vectors && 16 * v < columns; v++)
        {
            var inside = Vector512.LessThan(Iota, Vector512.Create(columns - 16 * v)).AsSingle();
            var value = rows[v] + bias;
            if (epilogue.Residual != null)
            {
                value += Avx512F.MaskLoad(epilogue.Residual + (o - y) + 16 * v, inside, default);
            }
            Avx512F.MaskStore(o + 16 * v, inside, ConvEpilogue.Activate(value, epilogue.Activation));
        }
    }

    /// <summary>
    /// *o = v, or, when <paramref name="post"/>, with the residual and then the activation of <paramref name="tail"/> (the
    /// bias is in v already).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* o, float v, bool post, in ConvEpilogue tail, int channel, float* y)
        => *o = post ? tail.Scalar(v, channel, (nint)(o - y)) : v;

    /// <summary>
    /// y tiles [t0, t0 + count) = epilogue(Aᵀ m A) with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], from the products
    /// m[ξ][k][j] (ld = <paramref name="ld"/> per row), tile by tile (without AVX-512; see <see cref="TransformOutputRows"/>);
    /// outputs beyond an odd edge are dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput(float* m, int ld, in ConvEpilogue epilogue, float* y, int k, int oh, int ow, int tilesH,
        int tilesW, int t0, int count)
    {
        nint ohw = (nint)oh * ow, plane = (nint)k * ld;
        // Without a residual the activation runs on the transformed vectors; with one, on each output after the addition.
        var tail = epilogue.WithoutBias;
        bool post = tail.Residual != null;
        var activation = post ? FusedActivation.None : tail.Activation;
        float* q = stackalloc float[4 * 8];
        for (int ki = 0; ki < k; ki++)
        {
            float b = epilogue.Bias == null ? 0f : epilogue.Bias[ki];
            float* mk = m + (nint)ki * ld;
            for (int j0 = 0; j0 < count; j0 += 8)
            {
                float* p = mk + j0;
                var m0 = Vector256.Load(p);
                var m1 = Vector256.Load(p + plane);
                var m2 = Vector256.Load(p + 2 * plane);
                var m3 = Vector256.Load(p + 3 * plane);
                var m4 = Vector256.Load(p + 4 * plane);
                var m5 = Vector256.Load(p + 5 * plane);
                var m6 = Vector256.Load(p + 6 * plane);
                var m7 = Vector256.Load(p + 7 * plane);
                var m8 = Vector256.Load(p + 8 * plane);
                var m9 = Vector256.Load(p + 9 * plane);
                var m10 = Vector256.Load(p + 10 * plane);
                var m11 = Vector256.Load(p + 11 * plane);
                var m12 = Vector256.Load(p + 12 * plane);
                var m13 = Vector256.Load(p + 13 * plane);
                var m14 = Vector256.Load(p + 14 * plane);
                var m15 = Vector256.Load(p + 15 * plane);
                // Aᵀ m: two rows of four.
                var s0 = m0 + m4 + m8;
                var s1 = m1 + m5 + m9;
                var s2 = m2 + m6 + m10;
                var s3 = m3 + m7 + m11;
                var u0 = m4 - m8 - m12;
                var u1 = m5 - m9 - m13;
                var u2 = m6 - m10 - m14;
                var u3 = m7 - m11 - m15;
                var bv = Vector256.Create(b);
                Vector256.Store(ConvEpilogue.Activate(s0 + s1 + s2 + bv, activation), q);
                Vector256.Store(ConvEpilogue.Activate(s1 - s2 - s3 + bv, activation), q + 8);
                Vector256.Store(ConvEpilogue.Activate(u0 + u1 + u2 + bv, activation), q + 16);
                Vector256.Store(ConvEpilogue.Activate(u1 - u2 - u3 + bv, activation), q + 24);
                int lanes = Math.Min(8, count - j0);
                var tile = new TileCursor(t0 + j0, tilesH, tilesW);
                for (int l = 0; l < lanes; l++, tile.Next())
                {
                    int oy = 2 * tile.Y, ox = 2 * tile.X;
                    float* o = y + ((nint)tile.Image * k + ki) * ohw + (nint)oy * ow + ox;
                    bool right = ox + 1 < ow;
                    Put(o, q[l], post, tail, ki, y);
                    if (right)
                    {
                        Put(o + 1, q[8 + l], post, tail, ki, y);
                    }
                    if (oy + 1 < oh)
                    {
                        Put(o + ow, q[16 + l], post, tail, ki, y);
                        if (right)
                        {
                            Put(o + ow + 1, q[24 + l], post, tail, ki, y);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// e[ξ·ldXi + ki·ld + j] = (A e Aᵀ)_ξ for the 2×2 output-gradient tile e of channel ki in [k0, k1) and tile t0 + j (zero beyond
    /// an odd edge), with A = [[1, 0], [1, 1], [1, −1], [0, −1]]. With <paramref name="byRows"/> (<see cref="TransformsByRows"/>),
    /// 16 tiles of a tile row at a time from the two rows of dy they cover, at any width (two loads and two permutes a
    /// row); otherwise the tiles are gathered into four rows of <paramref name="scratch"/> ([4, ld]), then transformed
    /// with vectors across the tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputGradient(float* dy, int k, int k0, int k1, int oh, int ow, int tilesH, int tilesW,
        int t0, int count, float* scratch, float* e, nint ldXi, int ld, bool byRows)
    {
        nint ohw = (nint)oh * ow;
        if (byRows)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
            for (int ki = k0; ki < k1; ki++)
            {
                float* o = e + ki * (nint)ld;
                for (var run = new TileRuns(t0, count, tilesH, tilesW); run.MoveNext();)
                {
                    int oy = 2 * run.Y;
                    float* g = dy + ((nint)run.Image * k + ki) * ohw + (nint)oy * ow;
                    for (int l = 0; l < run.Length; l += 16)
                    {
                        int ox = 2 * (run.X + l), columns = Math.Min(2 * (run.Length - l), ow - ox);
                        var first = Vector512.LessThan(Iota, Vector512.Create(columns)).AsSingle();
                        var second = Vector512.LessThan(Iota, Vector512.Create(columns - 16)).AsSingle();
                        var a0 = Avx512F.MaskLoad(g + ox, first, default);
                        var a1 = Avx512F.MaskLoad(g + ox + 16, second, default);
                        Vector512<float> b0 = default, b1 = default;
                        if (oy + 1 < oh)
                        {
                            b0 = Avx512F.MaskLoad(g + ow + ox, first, default);
                            b1 = Avx512F.MaskLoad(g + ow + ox + 16, second, default);
                        }
                        var e00 = Avx512F.PermuteVar16x32x2(a0, even, a1);
                        var e01 = Avx512F.PermuteVar16x32x2(a0, odd, a1);
                        var e10 = Avx512F.PermuteVar16x32x2(b0, even, b1);
                        var e11 = Avx512F.PermuteVar16x32x2(b0, odd, b1);
                        var present = Vector512.LessThan(Iota, Vector512.Create(run.Length - l)).AsSingle();
                        float* q = o + run.J + l;
                        StoreRow(e00, e01, q, ldXi, present);
                        StoreRow(e00 + e10, e01 + e11, q + 4 * ldXi, ldXi, present);
                        StoreRow(e00 - e10, e01 - e11, q + 8 * ldXi, ldXi, present);
                        StoreRow(-e10, -e11, q + 12 * ldXi, ldXi, present);
                    }
                }
            }
            return;
        }
        int lanes = Vector256<float>.Count, padded = (count + lanes - 1) / lanes * lanes;
        ClearPadding(scratch, 4, ld, count, padded);
        for (int ki = k0; ki < k1; ki++)
        {
            var tile = new TileCursor(t0, tilesH, tilesW);
            for (int j = 0; j < count; j++, tile.Next())
            {
                int oy = 2 * tile.Y, ox = 2 * tile.X;
                float* g = dy + ((nint)tile.Image * k + ki) * ohw + (nint)oy * ow + ox;
                bool right = ox + 1 < ow, down = oy + 1 < oh;
                scratch[j] = g[0];
                scratch[ld + j] = right ? g[1] : 0f;
                scratch[2 * ld + j] = down ? g[ow] : 0f;
                scratch[3 * ld + j] = down && right ? g[ow + 1] : 0f;
            }
            float* o = e + ki * (nint)ld;
            for (int j = 0; j < padded; j += lanes)
            {
                var e00 = Vector256.Load(scratch + j);
                var e01 = Vector256.Load(scratch + ld + j);
                var e10 = Vector256.Load(scratch + 2 * ld + j);
                var e11 = Vector256.Load(scratch + 3 * ld + j);
                // A e: rows [e0, e0 + e1, e0 − e1, −e1]; then each row (a, b) → [a, a + b, a − b, −b].
                Row(e00, e01, o + j, ldXi);
                Row(e00 + e10, e01 + e11, o + 4 * ldXi + j, ldXi);
                Row(e00 - e10, e01 - e11, o + 8 * ldXi + j, ldXi);
                Row(-e10, -e11, o + 12 * ldXi + j, ldXi);
            }
        }

        static void Row(Vector256<float> a, Vector256<float> b, float* o, nint ldXi)
        {
            Vector256.Store(a, o);
            Vector256.Store(a + b, o + ldXi);
            Vector256.Store(a - b, o + 2 * ldXi);
            Vector256.Store(-b, o + 3 * ldXi);
        }

        static void StoreRow(Vector512<float> a, Vector512<float> b, float* o, nint ldXi, Vector512<float> mask)
        {
            Avx512F.MaskStore(o, mask, a);
            Avx512F.MaskStore(o + ldXi, mask, a + b);
            Avx512F.MaskStore(o + 2 * ldXi, mask, a - b);
            Avx512F.MaskStore(o + 3 * ldXi, mask, -b);
        }
    }

    /// <summary>
    /// dw[k, c] = Gᵀ M G from the summed products m[ξ][k][c], with Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]].
    /// </summary>
    private static void FilterGradientFromProducts(float* m, float* dw, int k, int c)
    {
        nint plane = (nint)k * c;
        nint mp = (nint)m, dwp = (nint)dw;
        CpuParallel.ForRanges((int)((plane + 7) / 8), (from, to) =>
        {
            int lanes = Vector256<float>.Count;
            float* r = stackalloc float[12 * lanes];
            float* o = stackalloc float[9 * lanes];
            var half = Vector256.Create(0.5f);
            for (int blk = from; blk < to; blk++)
            {
                nint f0 = (nint)blk * lanes;
                int n = (int)Math.Min(lanes, plane - f0);
                float* p = (float*)mp + f0;
                for (int col = 0; col < 4; col++)
                {
                    // Column col of Gᵀ M, for eight filters.
                    var v0 = Load(p + col * plane, n);
                    var v1 = Load(p + (4 + col) * plane, n);
                    var v2 = Load(p + (8 + col) * plane, n);
                    var v3 = Load(p + (12 + col) * plane, n);
                    Vector256.Store(v0 + half * (v1 + v2), r + col * lanes);
                    Vector256.Store(half * (v1 - v2), r + (4 + col) * lanes);
                    Vector256.Store(half * (v1 + v2) + v3, r + (8 + col) * lanes);
                }
                for (int row = 0; row < 3; row++)
                {
                    var a = Vector256.Load(r + 4 * row * lanes);
                    var b = Vector256.Load(r + (4 * row + 1) * lanes);
                    var cc = Vector256.Load(r + (4 * row + 2) * lanes);
                    var d = Vector256.Load(r + (4 * row + 3) * lanes);
                    Vector256.Store(a + half * (b + cc), o + 3 * row * lanes);
                    Vector256.Store(half * (b - cc), o + (3 * row + 1) * lanes);
                    Vector256.Store(half * (b + cc) + d, o + (3 * row + 2) * lanes);
                }
                float* dst = (float*)dwp + f0 * 9;
                for (int l = 0; l < n; l++)
                {
                    for (int e = 0; e < 9; e++)
                    {
                        dst[l * 9 + e] = o[e * lanes + l];
                    }
                }
            }
        });

        static Vector256<float> Load(float* p, int n)
        {
            if (n == Vector256<float>.Count)
            {
                return Vector256.Load(p);
            }
            float* t = stackalloc float[Vector256<float>.Count];
            for (int l = 0; l < Vector256<float>.Count; l++)
            {
                t[l] = l < n ? p[l] : 0f;
            }
            return Vector256.Load(t);
        }
    }

    /// <summary>
    /// F(4×4, 3×3)'s filter transform G g Gᵀ of eight filters at once: g [9, lanes] (row-major 3×3), t scratch
    /// [18, lanes], o [36, lanes] (row-major 6×6), with G = [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙],
    /// [1/24, −1/12, ⅙], [0, 0, 1]].
    /// </summary>
    private static void TransformFilterLarge(float* g, float* t, float* o, int lanes)
    {
        for (int col = 0; col < 3; col++)
        {
            // Column col of G g, into t [6, 3].
            Apply(Vector256.Load(g + col * lanes), Vector256.Load(g + (3 + col) * lanes), Vector256.Load(g + (6 + col) * lanes), t + col * lanes, 3 * lanes);
        }
        for (int row = 0; row < 6; row++)
        {
            // Row row of (G g) Gᵀ.
            float* a = t + 3 * row * lanes;
            Apply(Vector256.Load(a), Vector256.Load(a + lanes), Vector256.Load(a + 2 * lanes), o + 6 * row * lanes, lanes);
        }

        static void Apply(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, float* dst, int step)
        {
            var sixth = Vector256.Create(1f / 6);
            var even = g0 + g2;
            var quarterEven = Vector256.Create(1f / 24) * g0 + sixth * g2;
            var twelfth = Vector256.Create(1f / 12) * g1;
            Vector256.Store(Vector256.Create(0.25f) * g0, dst);
            Vector256.Store(-sixth * (even + g1), dst + step);
            Vector256.Store(-sixth * (even - g1), dst + 2 * step);
            Vector256.Store(quarterEven + twelfth, dst + 3 * step);
            Vector256.Store(quarterEven - twelfth, dst + 4 * step);
            Vector256.Store(g2, dst + 5 * step);
        }
    }

    /// <summary>
    /// F(4×4, 3×3)'s input transform Bᵀ d B of the 6×6 patches of tiles [t0, t0 + count) for all c channels, with
    /// Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0], [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0],
    /// [0, 4, 0, −5, 0, 1]]: position ξ of channel ci for tile t0 + j goes to dst[ξ·ldXi + ci·ld + j]. Tile (ty, tx)
    /// reads rows 4ty − padH … + 5 and columns 4tx − padW … + 5, zero outside the image. As in <see cref="TransformInput"/>,
    /// straight from the image rows where it may (<see cref="TransformInputLargeRows"/>), otherwise the patches are
    /// gathered into <paramref name="scratch"/> ([36, ld]) and transformed with vectors across the tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputLarge(float* x, int c, int h, int w, int tilesH, int tilesW, int padH, int padW,
        int t0, int count, float* scratch, float* dst, nint ldXi, int ld, bool byRows)
    {
        if (byRows && tilesW >= MinRowTiles)
        {
            TransformInputLargeRows(x, c, h, w, tilesH, tilesW, padH, padW, t0, count, scratch, dst, ldXi, ld);
            return;
        }
        nint hw = (nint)h * w;
        var (starts, corners) = PatchStarts(t0, count, tilesH, tilesW, 4, 6, padH, padW, c, h, w);
        int lanes = Vector256<float>.Count, padded = (count + lanes - 1) / lanes * lanes;
        ClearPadding(scratch, LargePositions, ld, count, padded);
        for (int ci = 0; ci < c; ci++)
        {
            float* channel = x + ci * hw;
            for (int j = 0; j < count; j++)
            {
                float* q = scratch + j;
                if (starts[j] >= 0)
                {
                    float* p = channel + starts[j];
                    for (int r = 0; r < 6; r++, p += w, q += 6 * ld)
                    {
                        q[0] = p[0]; q[ld] = p[1]; q[2 * ld] = p[2]; q[3 * ld] = p[3]; q[4 * ld] = p[4]; q[5 * ld] = p[5];
                    }
                    continue;
                }
                GatherEdgePatch(channel, corners, j, 6, c, h, w, q, ld);
            }
            float* o = dst + ci * (nint)ld;
            for (int j = 0; j < padded; j += lanes)
            {
                float* q = scratch + j;
                for (int s = 0; s < 6; s++)
                {
                    // Bᵀ d, column s, back in place.
                    InputRows(q + s * ld, 6 * ld, q + s * ld, 6 * ld);
                }
                for (int r = 0; r < 6; r++)
                {
                    // (Bᵀ d) B, row r, to positions 6r … 6r + 5.
                    InputRows(q + 6 * r * ld, ld, o + 6 * r * ldXi + j, ldXi);
                }
            }
        }
        ReturnPatchStarts(starts, corners);

        // dst[i·dstStep] = (Bᵀ v)_i for v_i = src[i·srcStep], i = 0 … 5.
        static void InputRows(float* src, nint srcStep, float* dst, nint dstStep)
        {
            var d0 = Vector256.Load(src);
            var d1 = Vector256.Load(src + srcStep);
            var d2 = Vector256.Load(src + 2 * srcStep);
            var d3 = Vector256.Load(src + 3 * srcStep);
            var d4 = Vector256.Load(src + 4 * srcStep);
            var d5 = Vector256.Load(src + 5 * srcStep);
            var four = Vector256.Create(4f);
            var two = Vector256.Create(2f);
            var five = Vector256.Create(5f);
            var d42 = d4 - d2;
            var d31 = two * (d3 - d1);
            Vector256.Store(four * d0 - five * d2 + d4, dst);
            Vector256.Store(d3 + d4 - four * (d1 + d2), dst + dstStep);
            Vector256.Store(d4 - d3 + four * (d1 - d2), dst + 2 * dstStep);
            Vector256.Store(d42 + d31, dst + 3 * dstStep);
            Vector256.Store(d42 - d31, dst + 4 * dstStep);
            Vector256.Store(four * d1 - five * d3 + d5, dst + 5 * dstStep);
        }
    }

    /// <summary>
    /// <see cref="TransformInputLarge"/> with AVX-512, tile row by tile row: for 16 neighbouring tiles, each of the six
    /// image rows they read is loaded as five vectors (masked to the image), whose every fourth float, from the first to
    /// the fourth, gives the patches' columns 0 … 3, and columns 0 and 1 moved one tile along give 4 and 5. d B is taken
    /// per row and parked in <paramref name="scratch"/> ([36, 16]), then Bᵀ (d B) column by column, one vector per
    /// position stored under the mask of the tiles present.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputLargeRows(float* x, int c, int h, int w, int tilesH, int tilesW, int padH, int padW,
        int t0, int count, float* scratch, float* dst, nint ldXi, int ld)
    {
        nint hw = (nint)h * w;
        var every4 = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        var halves = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        var next = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        var nextButOne = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
        Vector512<float>* inside = stackalloc Vector512<float>[5];
        for (int ci = 0; ci < c; ci++)
        {
            float* o = dst + ci * (nint)ld;
            for (var run = new TileRuns(t0, count, tilesH, tilesW); run.MoveNext();)
            {
                float* channel = x + ((nint)run.Image * c + ci) * hw;
                int iy = 4 * run.Y - padH;
                for (int l = 0; l < run.Length; l += 16)
                {
                    int ix = 4 * (run.X + l) - padW;
                    for (int v = 0; v < 5; v++)
                    {
                        var column = Iota + Vector512.Create(ix + 16 * v);
                        inside[v] = (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(w))).AsSingle();
                    }
                    for (int r = 0; r < 6; r++)
                    {
                        float* t = scratch + 6 * r * 16;
                        if ((uint)(iy + r) >= (uint)h)
                        {
                            new Span<float>(t, 6 * 16).Clear();
                            continue;
                        }
                        float* row = channel + (nint)(iy + r) * w + ix;
                        var v0 = Avx512F.MaskLoad(row, inside[0], Vector512<float>.Zero);
                        var v1 = Avx512F.MaskLoad(row + 16, inside[1], Vector512<float>.Zero);
                        var v2 = Avx512F.MaskLoad(row + 32, inside[2], Vector512<float>.Zero);
                        var v3 = Avx512F.MaskLoad(row + 48, inside[3], Vector512<float>.Zero);
                        var v4 = Avx512F.MaskLoad(row + 64, inside[4], Vector512<float>.Zero);
                        var d0 = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, every4, v1), halves, Avx512F.PermuteVar16x32x2(v2, every4, v3));
                        var one = every4 + Vector512<int>.One;
                        var d1 = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, one, v1), halves, Avx512F.PermuteVar16x32x2(v2, one, v3));
                        var two = one + Vector512<int>.One;
                        var d2 = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, two, v1), halves, Avx512F.PermuteVar16x32x2(v2, two, v3));
                        var three = two + Vector512<int>.One;
                        var d3 = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, three, v1), halves, Avx512F.PermuteVar16x32x2(v2, three, v3));
                        var d4 = Avx512F.PermuteVar16x32x2(d0, next, v4);
                        var d5 = Avx512F.PermuteVar16x32x2(d1, nextButOne, v4);
                        var (e0, e1, e2, e3, e4, e5) = InputTransform(d0, d1, d2, d3, d4, d5);
                        Vector512.Store(e0, t);
                        Vector512.Store(e1, t + 16);
                        Vector512.Store(e2, t + 32);
                        Vector512.Store(e3, t + 48);
                        Vector512.Store(e4, t + 64);
                        Vector512.Store(e5, t + 80);
                    }
                    var mask = Vector512.LessThan(Iota, Vector512.Create(run.Length - l)).AsSingle();
                    for (int col = 0; col < 6; col++)
                    {
                        float* t = scratch + col * 16, q = o + run.J + l + col * ldXi;
                        var (e0, e1, e2, e3, e4, e5) = InputTransform(Vector512.Load(t), Vector512.Load(t + 96), Vector512.Load(t + 192),
                            Vector512.Load(t + 288), Vector512.Load(t + 384), Vector512.Load(t + 480));
                        Avx512F.MaskStore(q, mask, e0);
                        Avx512F.MaskStore(q + 6 * ldXi, mask, e1);
                        Avx512F.MaskStore(q + 12 * ldXi, mask, e2);
                        Avx512F.MaskStore(q + 18 * ldXi, mask, e3);
                        Avx512F.MaskStore(q + 24 * ldXi, mask, e4);
                        Avx512F.MaskStore(q + 30 * ldXi, mask, e5);
                    }
                }
            }
        }
    }

    /// <summary>Bᵀ d for the six rows d0 … d5 of a column (or the six columns of a row) of 16 patches, with Bᵀ as in <see cref="TransformInputLarge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) InputTransform(
        Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var d42 = d4 - d2;
        var d31 = Vector512.Create(2f) * (d3 - d1);
        return (four * d0 - five * d2 + d4, d3 + d4 - four * (d1 + d2), d4 - d3 + four * (d1 - d2), d42 + d31, d42 - d31, four * d1 - five * d3 + d5);
    }

    /// <summary>
    /// y tiles [t0, t0 + count) = epilogue(Aᵀ m A), F(4×4, 3×3)'s output transform with Aᵀ = [[1, 1, 1, 1, 1, 0],
    /// [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]], from the products m[ξ][k][j], tile by tile
    /// (without AVX-512; see <see cref="TransformOutputRows"/>); outputs beyond the edges are dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputLarge(float* m, int ld, in ConvEpilogue epilogue, float* y, int k, int oh, int ow, int tilesH,
        int tilesW, int t0, int count)
    {
        const int lanes = 8;
        nint ohw = (nint)oh * ow, plane = (nint)k * ld;
        // Without a residual the activation runs on the transformed vectors; with one, on each output after the addition.
        var tail = epilogue.WithoutBias;
        bool post = tail.Residual != null;
        var activation = post ? FusedActivation.None : tail.Activation;
        float* t = stackalloc float[24 * lanes];
        float* q = stackalloc float[16 * lanes];
        for (int ki = 0; ki < k; ki++)
        {
            var bv = Vector256.Create(epilogue.Bias == null ? 0f : epilogue.Bias[ki]);
            float* mk = m + (nint)ki * ld;
            for (int j0 = 0; j0 < count; j0 += lanes)
            {
                for (int col = 0; col < 6; col++)
                {
                    // Aᵀ m, column col, into t [4, 6].
                    OutputRows(mk + j0 + col * plane, 6 * plane, t + col * lanes, 6 * lanes, Vector256<float>.Zero);
                }
                for (int row = 0; row < 4; row++)
                {
                    // (Aᵀ m) A, row row, plus the bias.
                    OutputRows(t + 6 * row * lanes, lanes, q + 4 * row * lanes, lanes, bv);
                }
                if (activation != FusedActivation.None)
                {
                    for (int i = 0; i < 16 * lanes; i += lanes)
                    {
                        Vector256.Store(ConvEpilogue.Activate(Vector256.Load(q + i), activation), q + i);
                    }
                }
                int n = Math.Min(lanes, count - j0);
                var tile = new TileCursor(t0 + j0, tilesH, tilesW);
                for (int l = 0; l < n; l++, tile.Next())
                {
                    int oy = 4 * tile.Y, ox = 4 * tile.X;
                    float* o = y + ((nint)tile.Image * k + ki) * ohw + (nint)oy * ow + ox;
                    int rows = Math.Min(4, oh - oy), cols = Math.Min(4, ow - ox);
                    for (int r = 0; r < rows; r++, o += ow)
                    {
                        for (int cc = 0; cc < cols; cc++)
                        {
                            Put(o + cc, q[(4 * r + cc) * lanes + l], post, tail, ki, y);
                        }
                    }
                }
            }
        }

        // dst[i·dstStep] = (Aᵀ v)_i + add for v_i = src[i·srcStep], i = 0 … 5.
        static void OutputRows(float* src, nint srcStep, float* dst, nint dstStep, Vector256<float> add)
        {
            var v0 = Vector256.Load(src);
            var v1 = Vector256.Load(src + srcStep);
            var v2 = Vector256.Load(src + 2 * srcStep);
            var v3 = Vector256.Load(src + 3 * srcStep);
            var v4 = Vector256.Load(src + 4 * srcStep);
            var v5 = Vector256.Load(src + 5 * srcStep);
            var sum12 = v1 + v2;
            var diff12 = v1 - v2;
            var sum34 = v3 + v4;
            var diff34 = v3 - v4;
            Vector256.Store(v0 + sum12 + sum34 + add, dst);
            Vector256.Store(diff12 + Vector256.Create(2f) * diff34 + add, dst + dstStep);
            Vector256.Store(sum12 + Vector256.Create(4f) * sum34 + add, dst + 2 * dstStep);
            Vector256.Store(diff12 + Vector256.Create(8f) * diff34 + v5 + add, dst + 3 * dstStep);
        }
    }
}

/// <summary>The Winograd tiles of the forward and backward-data passes.</summary>
internal enum WinogradTiles
{
    /// <summary>F(4×4, 3×3) where it was measured faster (<see cref="Winograd.MinLargeChannels"/>, <see cref="Winograd.MinLargeTiles"/>), else F(2×2, 3×3).</summary>
    Measured,

    /// <summary>Always F(2×2, 3×3).</summary>
    Small,

    /// <summary>Always F(4×4, 3×3).</summary>
    Large,
}
