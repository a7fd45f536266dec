using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// Direct convolution for ungrouped stride-1 layers with few output channels (up to 32, as in the first layers of
/// LeNet-style and small networks), where im2col's GEMM has too few rows to pay for building its column matrix.
/// <para>
/// Each image is copied into a zero-padded plane per channel, Hp × Wp with Hp = H + 2·pad_h and Wp = W + 2·pad_w.
/// Output positions are numbered on the same grid, p = oh·Wp + ow, so every filter tap (c, r, s) reads the input at
/// the fixed shift off = c·plane + r·dh·Wp + s·dw: the convolution becomes a sum of shifted vectors,
/// y[k, p] = Σ_tap w[k, tap] · x[p + off(tap)], with no column matrix. Positions with ow ≥ OW are computed and
/// dropped (Wp − OW of every Wp).
/// </para>
/// <list type="bullet">
/// <item>Forward: blocks of 6 output channels × 16 positions in registers, one broadcast weight and two vector loads
/// per tap.</item>
/// <item>Backward data: the forward of dy with the filters rotated by 180° and transposed (K ↔ C), padded by
/// (R − 1)·dh − pad.</item>
/// <item>Backward filter: dw[k, tap] = Σ_images Σ_p dy[k, p] · x[p + off(tap)], with dy on the padded grid (zeros at
/// the dropped positions); blocks of 3 output channels × 4 taps of vector sums, each filter element summed by one
/// thread in a fixed order, so the result does not depend on the number of cores.</item>
/// </list>
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Output channels per forward block.</summary>
    private const int KBlock = 6;

    /// <summary>Output positions per forward block (two vectors).</summary>
    private const int PBlock = 16;

    /// <summary>Output channels and taps per filter-gradient block.</summary>
    private const int GradK = 3, GradTaps = 4;

    /// <summary>Floats of padded images and output gradients the filter gradient gathers at a time (2 MiB).</summary>
    private const int ChunkFloats = 1 << 19;

    /// <summary>
    /// Most output channels taken here. Measured at one core, batch 64, against the im2col path: with up to 32 outputs
    /// the direct loops are 1.3–4× faster in the forward pass and the filter gradient (1→6 5×5 28×28: 0.23 against
    /// 0.82 ms forward, 0.29 against 1.25 ms filter gradient; 32→16 3×3 28×28: 6.3 against 9.6 ms), from 48 outputs on
    /// they are even or slower.
    /// </summary>
    internal const int MaxOutputs = 32;

    /// <summary>
    /// Fewest input channels for which backward data is computed here: it has the input channels as its outputs, and
    /// below 8 the blocks of 6 are part empty and the padded grid is wide against the GEMM path (1→6 5×5: 1.0 against
    /// 0.63 ms; 6→16 5×5 14×14: 0.97 against 0.74 ms; 8→16 3×3 28×28: 1.97 against 2.18 ms; 16→16: 3.1 against 4.7 ms).
    /// </summary>
    internal const int MinDataChannels = 8;

    private static readonly int Lanes = Vector256<float>.Count;

    /// <summary>
    /// True for the convolutions computed here: one group, stride 1, a filter larger than 1×1 (1×1 convolutions are
    /// plain GEMMs), padding below the dilated filter size and at most <see cref="MaxOutputs"/> outputs, on 256-bit
    /// vectors.
    /// </summary>
    public static bool Applies(in ConvGeometry g)
        => Vector256.IsHardwareAccelerated && g.Groups == 1 && g.StrideH == 1 && g.StrideW == 1 && g.R * g.S > 1
            && g.PadH <= (g.R - 1) * g.DilationH && g.PadW <= (g.S - 1) * g.DilationW
            && g.K <= MaxOutputs && g.OH >= 1 && g.OW >= 1;

    /// <summary>True where <see cref="Applies"/> holds and backward data is computed here too (at least <see cref="MinDataChannels"/> input channels).</summary>
    public static bool AppliesToBackwardData(in ConvGeometry g) => Applies(g) && g.C >= MinDataChannels;

    /// <summary>y = epilogue(conv(x, w)).</summary>
    public static void Forward(float* x, float* w, in ConvEpilogue epilogue, float* y, in ConvGeometry g)
        => Correlate(x, w, rotated: false, epilogue, y, g,
            new Grid(g.C, g.H, g.W, g.OH, g.R, g.S, g.PadH, g.PadW, g.DilationH, g.DilationW));

    /// <summary>dx = the correlation of dy with the 180°-rotated, transposed filters, padded by (R − 1)·dh − pad.</summary>
    public static void BackwardData(float* dy, float* w, float* dx, in ConvGeometry g)
        => Correlate(dy, w, rotated: true, default, dx, g,
            new Grid(g.K, g.OH, g.OW, g.H, g.R, g.S, (g.R - 1) * g.DilationH - g.PadH, (g.S - 1) * g.DilationW - g.PadW, g.DilationH, g.DilationW));

    /// <summary>
    /// dw[k, c, r, s] = Σ over images and positions of dy[k, p] · x[c, p + off(r, s)], images gathered onto the padded
    /// grid a chunk at a time, then blocks of filter elements shared between the cores.
    /// </summary>
    public static void BackwardFilter(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        var grid = new Grid(g.C, g.H, g.W, g.OH, g.R, g.S, g.PadH, g.PadW, g.DilationH, g.DilationW);
        int k = g.K, taps = grid.Taps, ow = g.OW, oh = g.OH;
        int kBlocks = (k + GradK - 1) / GradK, tapBlocks = (taps + GradTaps - 1) / GradTaps;
        int imageFloats = grid.ImageFloats + k * grid.Positions;
        int perChunk = Math.Clamp(ChunkFloats / imageFloats, 1, g.N);
        int lanes = Lanes, sumFloats = GradK * GradTaps * lanes;
        var xs = BufferPool.Rent(perChunk * grid.ImageFloats);
        var ds = BufferPool.Rent(perChunk * k * grid.Positions);
        var sums = BufferPool.Rent(kBlocks * tapBlocks * sumFloats);
        var offsets = grid.Offsets();
        try
        {
            fixed (float* px = xs)
            fixed (float* pd = ds)
            fixed (float* ps = sums)
            fixed (int* po = offsets)
            {
                nint xsp = (nint)px, dsp = (nint)pd, sp = (nint)ps, op = (nint)po, xp = (nint)x, dyp = (nint)dy;
                for (int n0 = 0; n0 < g.N; n0 += perChunk)
                {
                    int count = Math.Min(perChunk, g.N - n0);
                    bool first = n0 == 0;
                    CpuBackend.ForChunks(count, (from, to) =>
                    {
                        for (int i = from; i < to; i++)
                        {
                            int n = n0 + i;
                            grid.Gather((float*)xp + (nint)n * grid.Channels * grid.H * grid.W, (float*)xsp + (nint)i * grid.ImageFloats);
                            // dy on the output grid: row r at r·Wp, zeros at the dropped positions.
                            PlaceRows((float*)dyp + (nint)n * k * oh * ow, k, oh, ow, (float*)dsp + (nint)i * k * grid.Positions, grid.Positions, grid.Wp, 0);
                        }
                    });
                    CpuParallel.For(kBlocks * tapBlocks, item =>
                    {
                        int kb = item / tapBlocks, tb = item % tapBlocks;
                        FilterBlock((float*)xsp, (float*)dsp, (int*)op, grid, k, count, kb * GradK, tb * GradTaps, (float*)sp + (nint)item * sumFloats, first);
                    });
                }
                // Each element's vector of sums, added up lane by lane.
                for (int kb = 0; kb < kBlocks; kb++)
                {
                    for (int tb = 0; tb < tapBlocks; tb++)
                    {
                        float* s = (float*)sp + (nint)(kb * tapBlocks + tb) * sumFloats;
                        for (int a = 0; a < GradK && kb * GradK + a < k; a++)
                        {
                            for (int b = 0; b < GradTaps && tb * GradTaps + b < taps; b++)
                            {
                                dw[(nint)(kb * GradK + a) * taps + tb * GradTaps + b] = Vector256.Sum(Vector256.Load(s + (a * GradTaps + b) * lanes));
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            BufferPool.Return(xs);
            BufferPool.Return(ds);
            BufferPool.Return(sums);
        }
    }

    /// <summary>
    /// The padded grid of one direction: input planes of <see cref="Hp"/> × <see cref="Wp"/> (plus zero slack so that
    /// the last vectors may read past the plane), output positions p = row·Wp + column for <see cref="OutRows"/> rows.
    /// </summary>
    private readonly struct Grid
    {
        public readonly int Channels, H, W, R, S, PadH, PadW, DilationH, DilationW, OutRows, Hp, Wp, Plane, Positions;

        public Grid(int channels, int h, int w, int outRows, int r, int s, int padH, int padW, int dilationH, int dilationW)
        {
            (Channels, H, W, OutRows, R, S, PadH, PadW, DilationH, DilationW) = (channels, h, w, outRows, r, s, padH, padW, dilationH, dilationW);
            Hp = h + 2 * padH;
            Wp = w + 2 * padW;
            // Positions are computed PBlock at a time; the last block reads at most PBlock − 1 floats past the
            // output rows, which with the largest shift ends PBlock + (S − 1)·dw floats past the plane.
            Positions = (outRows * Wp + PBlock - 1) / PBlock * PBlock;
            Plane = (Hp * Wp + PBlock + (s - 1) * dilationW + 7) / 8 * 8;
        }

        public int Taps => Channels * R * S;

        public int ImageFloats => Channels * Plane;

        /// <summary>The shift of every tap (c, r, s) in the order of the filter's layout.</summary>
        public int[] Offsets()
        {
            var offsets = new int[Taps];
            for (int c = 0, t = 0; c < Channels; c++)
            {
                for (int r = 0; r < R; r++)
                {
                    for (int s = 0; s < S; s++, t++)
                    {
                        offsets[t] = c * Plane + r * DilationH * Wp + s * DilationW;
                    }
                }
            }
            return offsets;
        }

        /// <summary>Copies one image [Channels, H, W] into its zero-padded planes.</summary>
        public void Gather(float* image, float* padded) => PlaceRows(image, Channels, H, W, padded, Plane, Wp, PadH * Wp + PadW);
    }

    /// <summary>
    /// Copies <paramref name="planes"/> planes of <paramref name="rows"/> × <paramref name="columns"/> into zeroed
    /// destination planes of <paramref name="plane"/> floats, row r at <paramref name="offset"/> + r·<paramref name="stride"/>.
    /// </summary>
    private static void PlaceRows(float* src, int planes, int rows, int columns, float* dst, int plane, int stride, int offset)
    {
        new Span<float>(dst, planes * plane).Clear();
        for (int c = 0; c < planes; c++)
        {
            for (int r = 0; r < rows; r++)
            {
                new ReadOnlySpan<float>(src + ((nint)c * rows + r) * columns, columns).CopyTo(new Span<float>(dst + (nint)c * plane + offset + r * stride, columns));
            }
        }
    }

    /// <summary>
    /// Filters as blocks of <see cref="KBlock"/> outputs: [block][tap][KBlock], zero for the outputs past the last.
    /// Rotated: outputs are the input channels c and taps (k, R−1−r, S−1−s), for the backward-data pass.
    /// </summary>
    private static float[] PackFilters(float* w, int k, int c, int rs, bool rotated)
    {
        int outputs = rotated ? c : k, inputs = rotated ? k : c, taps = inputs * rs;
        int blocks = (outputs + KBlock - 1) / KBlock;
        var packed = BufferPool.Rent(blocks * taps * KBlock);
        Array.Clear(packed, 0, blocks * taps * KBlock);
        for (int o = 0; o < outputs; o++)
        {
            int b = o / KBlock, lane = o % KBlock;
            for (int i = 0; i < inputs; i++)
            {
                for (int t = 0; t < rs; t++)
                {
                    float v = rotated ? w[((nint)i * c + o) * rs + rs - 1 - t] : w[((nint)o * c + i) * rs + t];
                    packed[((nint)b * taps + i * rs + t) * KBlock + lane] = v;
                }
            }
        }
        return packed;
    }

    /// <summary>
    /// output [n, outputs, OutRows, outW] = epilogue(Σ_tap w[·, tap] · input_padded[p + off(tap)]), image by image in
    /// parallel: each image is gathered onto the grid, computed block by block into a buffer on the grid, and the
    /// columns below outW are copied out. The outputs are K (forward) or, with the rotated filters, C (backward data).
    /// </summary>
    private static void Correlate(float* input, float* w, bool rotated, ConvEpilogue epilogue, float* output, in ConvGeometry g, Grid grid)
    {
        int outputs = rotated ? g.C : g.K, outW = rotated ? g.W : g.OW, images = g.N;
        var packedFilters = PackFilters(w, g.K, g.C, g.R * g.S, rotated);
        nint xp = (nint)input, yp = (nint)output;
        int blocks = (outputs + KBlock - 1) / KBlock, taps = grid.Taps, rows = grid.OutRows;
        var offsets = grid.Offsets();
        try
        {
            CpuBackend.ForChunks(images, (from, to) =>
            {
                var scratch = BufferPool.Rent(grid.ImageFloats + KBlock * grid.Positions);
                try
                {
                    fixed (float* ps = scratch)
                    fixed (float* wp = packedFilters)
                    fixed (int* po = offsets)
                    {
                        float* padded = ps, result = ps + grid.ImageFloats;
                        for (int n = from; n < to; n++)
                        {
                            grid.Gather((float*)xp + (nint)n * grid.Channels * grid.H * grid.W, padded);
                            for (int b = 0; b < blocks; b++)
                            {
                                float* wb = wp + (nint)b * taps * KBlock;
                                for (int p = 0; p < grid.Positions; p += PBlock)
                                {
                                    ForwardBlock(padded + p, po, taps, wb, result + p, grid.Positions);
                                }
                                for (int o = b * KBlock; o < Math.Min(outputs, (b + 1) * KBlock); o++)
                                {
                                    float* src = result + (nint)(o - b * KBlock) * grid.Positions;
                                    nint at = ((nint)n * outputs + o) * rows * outW;
                                    for (int r = 0; r < rows; r++)
                                    {
                                        epilogue.Row(src + (nint)r * grid.Wp, (float*)yp + at + (nint)r * outW, o, at + (nint)r * outW, outW);
                                    }
                                }
                            }
                        }
                    }
                }
                finally
                {
                    BufferPool.Return(scratch);
                }
            });
        }
        finally
        {
            BufferPool.Return(packedFilters);
        }
    }

    /// <summary>out[j, 0..16) = Σ_tap w[tap, j] · x[off(tap) .. + 16) for the block's 6 outputs j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock(float* x, int* offsets, int taps, float* w, float* output, int ld)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        for (int t = 0; t < taps; t++, w += KBlock)
        {
            float* q = x + offsets[t];
            var x0 = Vector256.Load(q);
            var x1 = Vector256.Load(q + 8);
            var w0 = Vector256.Create(w[0]);
            a00 = Vector256.MultiplyAddEstimate(w0, x0, a00);
            a01 = Vector256.MultiplyAddEstimate(w0, x1, a01);
            var w1 = Vector256.Create(w[1]);
            a10 = Vector256.MultiplyAddEstimate(w1, x0, a10);
            a11 = Vector256.MultiplyAddEstimate(w1, x1, a11);
            var w2 = Vector256.Create(w[2]);
            a20 = Vector256.MultiplyAddEstimate(w2, x0, a20);
            a21 = Vector256.MultiplyAddEstimate(w2, x1, a21);
            var w3 = Vector256.Create(w[3]);
            a30 = Vector256.MultiplyAddEstimate(w3, x0, a30);
            a31 = Vector256.MultiplyAddEstimate(w3, x1, a31);
            var w4 = Vector256.Create(w[4]);
            a40 = Vector256.MultiplyAddEstimate(w4, x0, a40);
            a41 = Vector256.MultiplyAddEstimate(w4, x1, a41);
            var w5 = Vector256.Create(w[5]);
            a50 = Vector256.MultiplyAddEstimate(w5, x0, a50);
            a51 = Vector256.MultiplyAddEstimate(w5, x1, a51);
        }
        Vector256.Store(a00, output);
        Vector256.Store(a01, output + 8);
        Vector256.Store(a10, output + ld);
        Vector256.Store(a11, output + ld + 8);
        Vector256.Store(a20, output + 2 * ld);
        Vector256.Store(a21, output + 2 * ld + 8);
        Vector256.Store(a30, output + 3 * ld);
        Vector256.Store(a31, output + 3 * ld + 8);
        Vector256.Store(a40, output + 4 * ld);
        Vector256.Store(a41, output + 4 * ld + 8);
        Vector256.Store(a50, output + 5 * ld);
        Vector256.Store(a51, output + 5 * ld + 8);
    }

    /// <summary>
    /// The vector sums of 3 outputs × 4 taps from <paramref name="k0"/> and <paramref name="t0"/> over the chunk's
    /// images (outputs and taps past the last repeat the last one; their sums are not read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterBlock(float* xs, float* ds, int* offsets, in Grid grid, int k, int images, int k0, int t0, float* sums, bool first)
    {
        int lanes = Lanes, taps = grid.Taps, positions = grid.Positions;
        nint dyImage = (nint)k * positions, xImage = grid.ImageFloats;
        int d0 = k0, d1 = Math.Min(k0 + 1, k - 1), d2 = Math.Min(k0 + 2, k - 1);
        int o0 = offsets[t0], o1 = offsets[Math.Min(t0 + 1, taps - 1)], o2 = offsets[Math.Min(t0 + 2, taps - 1)], o3 = offsets[Math.Min(t0 + 3, taps - 1)];
        Vector256<float> s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23;
        if (first)
        {
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = default;
        }
        else
        {
            s00 = Vector256.Load(sums); s01 = Vector256.Load(sums + lanes); s02 = Vector256.Load(sums + 2 * lanes); s03 = Vector256.Load(sums + 3 * lanes);
            s10 = Vector256.Load(sums + 4 * lanes); s11 = Vector256.Load(sums + 5 * lanes); s12 = Vector256.Load(sums + 6 * lanes); s13 = Vector256.Load(sums + 7 * lanes);
            s20 = Vector256.Load(sums + 8 * lanes); s21 = Vector256.Load(sums + 9 * lanes); s22 = Vector256.Load(sums + 10 * lanes); s23 = Vector256.Load(sums + 11 * lanes);
        }
        for (int n = 0; n < images; n++)
        {
            float* e0 = ds + n * dyImage + (nint)d0 * positions, e1 = ds + n * dyImage + (nint)d1 * positions, e2 = ds + n * dyImage + (nint)d2 * positions;
            float* xi = xs + n * xImage;
            for (int p = 0; p < positions; p += 8)
            {
                var x0 = Vector256.Load(xi + o0 + p);
                var x1 = Vector256.Load(xi + o1 + p);
                var x2 = Vector256.Load(xi + o2 + p);
                var x3 = Vector256.Load(xi + o3 + p);
                var e = Vector256.Load(e0 + p);
                s00 = Vector256.MultiplyAddEstimate(e, x0, s00);
                s01 = Vector256.MultiplyAddEstimate(e, x1, s01);
                s02 = Vector256.MultiplyAddEstimate(e, x2, s02);
                s03 = Vector256.MultiplyAddEstimate(e, x3, s03);
                e = Vector256.Load(e1 + p);
                s10 = Vector256.MultiplyAddEstimate(e, x0, s10);
                s11 = Vector256.MultiplyAddEstimate(e, x1, s11);
                s12 = Vector256.MultiplyAddEstimate(e, x2, s12);
                s13 = Vector256.MultiplyAddEstimate(e, x3, s13);
                e = Vector256.Load(e2 + p);
                s20 = Vector256.MultiplyAddEstimate(e, x0, s20);
                s21 = Vector256.MultiplyAddEstimate(e, x1, s21);
                s22 = Vector256.MultiplyAddEstimate(e, x2, s22);
                s23 = Vector256.MultiplyAddEstimate(e, x3, s23);
            }
        }
        Vector256.Store(s00, sums); Vector256.Store(s01, sums + lanes); Vector256.Store(s02, sums + 2 * lanes); Vector256.Store(s03, sums + 3 * lanes);
        Vector256.Store(s10, sums + 4 * lanes); Vector256.Store(s11, sums + 5 * lanes); Vector256.Store(s12, sums + 6 * lanes); Vector256.Store(s13, sums + 7 * lanes);
        Vector256.Store(s20, sums + 8 * lanes); Vector256.Store(s21, sums + 9 * lanes); Vector256.Store(s22, sums + 10 * lanes); Vector256.Store(s23, sums + 11 * lanes);
    }
}
