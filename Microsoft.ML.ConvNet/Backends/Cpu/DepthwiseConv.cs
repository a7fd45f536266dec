using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// Direct kernels for depthwise convolution (groups = C = K): each channel plane is convolved with its own R×S filter.
/// GEMM would multiply 1×(R·S) by (R·S)×(OH·OW) per plane, which wastes the micro-kernel; these loops instead
/// run one vectorised multiply-add per filter tap over whole output rows (stride 1) or gather (other strides).
/// </summary>
[SkipLocalsInit]
internal static unsafe class DepthwiseConv
{
    /// <summary>
    /// y [OH, OW] = epilogue(Σ_(r,s) w[r, s] · x[oh·sh − ph + r·dh, ow·sw − pw + s·dw]) for the plane of
    /// <paramref name="channel"/>, which starts <paramref name="element"/> floats into the output. The plane is first
    /// copied into a zero-padded scratch plane whose columns are split by their remainder modulo the stride (for stride
    /// 2: the even columns, then the odd ones), so that every filter tap reads consecutive floats for consecutive
    /// outputs whatever the stride. The outputs are then computed in blocks of 4 rows × 32 or 8 rows × 16 columns
    /// (512-bit vectors), or 8 rows × 8 columns on narrow planes, eight vectors whose sums over the taps stay in
    /// registers, each written once (a ReLU or ReLU6 applied as they are); the rest of the epilogue runs on each finished
    /// row while it is in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardPlane(float* x, float* w, in ConvEpilogue epilogue, int channel, float* y, nint element, in ConvGeometry g)
    {
        int oh = g.OH, ow = g.OW, sh = g.StrideH, sw = g.StrideW, taps = g.R * g.S;
        // Blocks of 4 rows × 32 columns or 8 rows × 16 columns (512-bit vectors), or 8 rows × 8 columns: the widest
        // the plane fills.
        var shape = !Vector512.IsHardwareAccelerated || ow < 2 * Lanes ? BlockShape.Rows8x8 : ow < 4 * Lanes ? BlockShape.Rows8x16 : BlockShape.Rows4x32;
        int blockRows = RowsOf(shape), blockCols = ColumnsOf(shape);
        // Padded scratch: row i is input row i − PadH; each row holds sw phases of width columns each, phase p holding
        // the padded columns p, p + sw, p + 2·sw, … (padded column c is input column c − PadW). Rows past the last
        // block's are zero, so that a partial block reads zeros.
        int blocks = (oh + blockRows - 1) / blockRows;
        int rows = (blocks * blockRows - 1) * sh + (g.R - 1) * g.DilationH + 1;
        int width = ow + (g.S - 1) * g.DilationW / sw + 1 + blockCols;
        nint rowFloats = (nint)sw * width;
        float* pad = Sgemm.PackBuffer(ref _scratch, (int)(rows * rowFloats));
        FillPadded(x, pad, g, rows, width);

        // Tap (r, s) reads padded column q·sw + s·dw for output column q: phase (s·dw) mod sw, column q + (s·dw) / sw.
        int* offsets = stackalloc int[taps];
        for (int s = 0, phase = 0, shift = 0; s < g.S; s++)
        {
            for (int r = 0; r < g.R; r++)
            {
                offsets[r * g.S + s] = (int)(r * g.DilationH * rowFloats) + phase * width + shift;
            }
            for (phase += g.DilationW; phase >= sw; phase -= sw)
            {
                shift++;
            }
        }
        float bias = epilogue.Bias == null ? 0f : epilogue.Bias[channel];
        var tail = epilogue.WithoutBias;
        // Without a residual, a ReLU or ReLU6 runs on the sums before they are stored; SiLU (whose exponential costs
        // more than a second pass over the plane's exact outputs, measured) and anything after a residual run on the
        // finished rows.
        var activation = tail.Residual == null && tail.Activation is FusedActivation.Relu or FusedActivation.Relu6
            ? tail.Activation : FusedActivation.None;
        if (activation != FusedActivation.None)
        {
            tail = default;
        }
        var kernel = new Blocks(pad, sh * rowFloats, offsets, w, taps, bias, shape);
        switch (activation)
        {
            case FusedActivation.Relu:
                kernel.Run<ReluActivation>(y, oh, ow, tail, channel, element);
                break;
            case FusedActivation.Relu6:
                kernel.Run<Relu6Activation>(y, oh, ow, tail, channel, element);
                break;
            default:
                kernel.Run<NoActivation>(y, oh, ow, tail, channel, element);
                break;
        }
    }

    /// <summary>The block loop of <see cref="ForwardPlane"/> over a filled scratch plane, specialised for the activation.</summary>
    private readonly struct Blocks(float* pad, nint step, int* offsets, float* w, int taps, float bias, BlockShape shape)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TAct>(float* y, int oh, int ow, in ConvEpilogue tail, int channel, nint element)
            where TAct : struct, IVectorActivation
        {
            int blockRows = RowsOf(shape), blockCols = ColumnsOf(shape);
            float* part = stackalloc float[8 * 2 * Lanes];
            for (int o = 0; o < oh; o += blockRows)
            {
                // A plane at least a block high ends with a block moved up to its last row, overlapping the one
                // before: outputs are computed again rather than in a partial block. Its rows get the epilogue again,
                // after being written again.
                if (o + blockRows > oh && oh >= blockRows)
                {
                    o = oh - blockRows;
                }
                int valid = Math.Min(blockRows, oh - o);
                float* src = pad + o * step;
                float* yr = y + (nint)o * ow;
                for (int q = 0; q < ow; q += blockCols)
                {
                    // Likewise the last block of columns moves left to the plane's edge.
                    if (q + blockCols > ow && ow >= blockCols)
                    {
                        q = ow - blockCols;
                    }
                    int cols = Math.Min(blockCols, ow - q);
                    bool direct = valid == blockRows && cols == blockCols;
                    float* dst = direct ? yr + q : part;
                    nint ld = direct ? ow : blockCols;
                    switch (shape)
                    {
                        case BlockShape.Rows4x32:
                            Block4x32<TAct>(src + q, step, offsets, w, taps, Vector512.Create(bias), dst, ld);
                            break;
                        case BlockShape.Rows8x16:
                            Block8x16<TAct>(src + q, step, offsets, w, taps, Vector512.Create(bias), dst, ld);
                            break;
                        default:
                            Block8x8<TAct>(src + q, step, offsets, w, taps, Vector256.Create(bias), dst, ld);
                            break;
                    }
                    if (!direct)
                    {
                        for (int r = 0; r < valid; r++)
                        {
                            float* from = part + r * blockCols, to = yr + (nint)r * ow + q;
                            for (int c = 0; c < cols; c++)
                            {
                                to[c] = from[c];
                            }
                        }
                    }
                }
                if (!tail.IsEmpty)
                {
                    tail.Row(yr, yr, channel, element + (nint)o * ow, valid * ow);
                }
            }
        }
    }

    /// <summary>The register blocks of <see cref="ForwardPlane"/>.</summary>
    private static int RowsOf(BlockShape shape) => shape == BlockShape.Rows4x32 ? 4 : 8;

    private static int ColumnsOf(BlockShape shape) => shape switch
    {
        BlockShape.Rows4x32 => 4 * Lanes,
        BlockShape.Rows8x16 => 2 * Lanes,
        _ => Lanes,
    };

    private enum BlockShape
    {
        Rows4x32,
        Rows8x16,
        Rows8x8,
    }

    /// <summary>
    /// out[r·ld + (0, 16)] = bias + Σ_t w[t] · src[r·step + offsets[t] + (0, 16)] for rows r &lt; 4, two 512-bit vectors
    /// a row: eight independent sums, so that the multiply-adds of consecutive taps overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x32<TAct>(float* src, nint step, int* offsets, float* w, int taps, Vector512<float> bias, float* output, nint ld)
        where TAct : struct, IVectorActivation
    {
        const int v = 2 * Lanes;
        Vector512<float> a00 = bias, a01 = bias, a10 = bias, a11 = bias, a20 = bias, a21 = bias, a30 = bias, a31 = bias;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector512.Create(w[t]);
            float* p = src + offsets[t];
            a00 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wt, a00);
            a01 = Vector512.FusedMultiplyAdd(Vector512.Load(p + v), wt, a01);
            a10 = Vector512.FusedMultiplyAdd(Vector512.Load(p + step), wt, a10);
            a11 = Vector512.FusedMultiplyAdd(Vector512.Load(p + step + v), wt, a11);
            a20 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * step), wt, a20);
            a21 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * step + v), wt, a21);
            a30 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 3 * step), wt, a30);
            a31 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 3 * step + v), wt, a31);
        }
        Vector512.Store(TAct.Apply(a00), output);
        Vector512.Store(TAct.Apply(a01), output + v);
        Vector512.Store(TAct.Apply(a10), output + ld);
        Vector512.Store(TAct.Apply(a11), output + ld + v);
        Vector512.Store(TAct.Apply(a20), output + 2 * ld);
        Vector512.Store(TAct.Apply(a21), output + 2 * ld + v);
        Vector512.Store(TAct.Apply(a30), output + 3 * ld);
        Vector512.Store(TAct.Apply(a31), output + 3 * ld + v);
    }

    /// <summary>out[r·ld + (0, 16)] = bias + Σ_t w[t] · src[r·step + offsets[t] + (0, 16)] for rows r &lt; 8, one 512-bit vector a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x16<TAct>(float* src, nint step, int* offsets, float* w, int taps, Vector512<float> bias, float* output, nint ld)
        where TAct : struct, IVectorActivation
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector512.Create(w[t]);
            float* p = src + offsets[t];
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wt, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + step), wt, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * step), wt, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 3 * step), wt, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 4 * step), wt, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 5 * step), wt, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 6 * step), wt, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 7 * step), wt, a7);
        }
        Vector512.Store(TAct.Apply(a0), output);
        Vector512.Store(TAct.Apply(a1), output + ld);
        Vector512.Store(TAct.Apply(a2), output + 2 * ld);
        Vector512.Store(TAct.Apply(a3), output + 3 * ld);
        Vector512.Store(TAct.Apply(a4), output + 4 * ld);
        Vector512.Store(TAct.Apply(a5), output + 5 * ld);
        Vector512.Store(TAct.Apply(a6), output + 6 * ld);
        Vector512.Store(TAct.Apply(a7), output + 7 * ld);
    }

    /// <summary>Floats in one vector of the block kernels.</summary>
    private const int Lanes = 8;

    /// <summary>out[r·ld + (0, 8)] = bias + Σ_t w[t] · src[r·step + offsets[t] + (0, 8)] for rows r &lt; 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8<TAct>(float* src, nint step, int* offsets, float* w, int taps, Vector256<float> bias, float* output, nint ld)
        where TAct : struct, IVectorActivation
    {
        Vector256<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector256.Create(w[t]);
            float* p = src + offsets[t];
            a0 = Vector256.MultiplyAddEstimate(Vector256.Load(p), wt, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Load(p + step), wt, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 2 * step), wt, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 3 * step), wt, a3);
            a4 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 4 * step), wt, a4);
            a5 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 5 * step), wt, a5);
            a6 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 6 * step), wt, a6);
            a7 = Vector256.MultiplyAddEstimate(Vector256.Load(p + 7 * step), wt, a7);
        }
        Vector256.Store(TAct.Apply(a0), output);
        Vector256.Store(TAct.Apply(a1), output + ld);
        Vector256.Store(TAct.Apply(a2), output + 2 * ld);
        Vector256.Store(TAct.Apply(a3), output + 3 * ld);
        Vector256.Store(TAct.Apply(a4), output + 4 * ld);
        Vector256.Store(TAct.Apply(a5), output + 5 * ld);
        Vector256.Store(TAct.Apply(a6), output + 6 * ld);
        Vector256.Store(TAct.Apply(a7), output + 7 * ld);
    }

    /// <summary>
    /// Writes the rows [0, <paramref name="rows"/>) of the padded, phase-split plane of x (see <see cref="ForwardPlane"/>):
    /// zero outside the input, and everywhere up to <paramref name="width"/> columns a phase.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillPadded(float* x, float* pad, in ConvGeometry g, int rows, int width)
    {
        int sw = g.StrideW, wIn = g.W;
        nint rowFloats = (nint)sw * width;
        // Phase p, column j holds padded column j·sw + p, that is input column j·sw + p − PadW: columns [lo, hi) of
        // each phase come from the input, the others are zero. The bounds are the same for every row.
        int* bounds = stackalloc int[2 * sw];
        for (int p = 0; p < sw; p++)
        {
            int first = p - g.PadW;
            int lo = first >= 0 ? 0 : (-first + sw - 1) / sw;
            int hi = Math.Min(width, wIn - first <= 0 ? 0 : (wIn - first + sw - 1) / sw);
            bounds[2 * p] = lo;
            bounds[2 * p + 1] = Math.Max(lo, hi);
        }
        var pick = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int pr = 0; pr < rows; pr++)
        {
            float* dst = pad + pr * rowFloats;
            int ir = pr - g.PadH;
            if (ir < 0 || ir >= g.H)
            {
                FloatBlocks.Clear(dst, (int)rowFloats);
                continue;
            }
            float* src = x + (nint)ir * wIn;
            for (int p = 0; p < sw; p++)
            {
                int lo = bounds[2 * p], hi = bounds[2 * p + 1], first = p - g.PadW;
                float* d = dst + p * width;
                float* from = src + first;
                // Inline vector loops: the rows are short, and a plane has many.
                FloatBlocks.Clear(d, lo);
                FloatBlocks.Clear(d + hi, width - hi);
                if (sw == 1)
                {
                    FloatBlocks.Copy(from + lo, d + lo, hi - lo);
                    continue;
                }
                int j = lo;
                if (sw == 2)
                {
                    // Every other input column, 16 or 8 at a time with AVX-512 (from + 2·lo is inside the row)...
                    j += FloatBlocks.GatherEven(src, first + 2 * lo, hi - lo, wIn, d + lo);
                    // ... or the even or odd elements of 16 consecutive ones: each half picked out of its vector, then
                    // joined. The two loads read input columns first + 2·j … first + 2·j + 15, all inside the row.
                    for (; j + Lanes <= hi && first + 2 * (j + Lanes) <= wIn; j += Lanes)
                    {
                        var a = Vector256.Shuffle(Vector256.Load(from + 2 * j), pick);
                        var b = Vector256.Shuffle(Vector256.Load(from + 2 * j + Lanes), pick);
                        Vector256.Store(Vector256.Create(a.GetLower(), b.GetLower()), d + j);
                    }
                }
                for (; j < hi; j++)
                {
                    d[j] = from[j * sw];
                }
            }
        }
    }

    /// <summary>This thread's padded scratch plane (<see cref="ForwardPlane"/>).</summary>
    [ThreadStatic]
    private static float[]? _scratch;

    /// <summary>dx [H, W] (written) = the adjoint of <see cref="ForwardPlane"/> applied to dy for one plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardDataPlane(float* dy, float* w, float* dx, in ConvGeometry g)
    {
        int oh = g.OH, ow = g.OW;
        new Span<float>(dx, g.H * g.W).Clear();
        for (int r = 0; r < g.R; r++)
        {
            int offH = r * g.DilationH - g.PadH;
            var (ohLo, ohHi) = ValidRange(offH, g.StrideH, g.H, oh);
            for (int s = 0; s < g.S; s++)
            {
                float wv = w[r * g.S + s];
                int offW = s * g.DilationW - g.PadW;
                var (owLo, owHi) = ValidRange(offW, g.StrideW, g.W, ow);
                if (owHi <= owLo)
                {
                    continue;
                }
                for (int o = ohLo; o < ohHi; o++)
                {
                    float* xr = dx + (nint)(o * g.StrideH + offH) * g.W;
                    float* yr = dy + (nint)o * ow;
                    if (g.StrideW == 1)
                    {
                        MultiplyAdd(yr + owLo, wv, xr + owLo + offW, owHi - owLo);
                    }
                    else
                    {
                        for (int q = owLo; q < owHi; q++)
                        {
                            xr[q * g.StrideW + offW] += wv * yr[q];
                        }
                    }
                }
            }
        }
    }

    /// <summary>dw[r, s] += Σ dy[oh, ow] · x[oh·sh − ph + r·dh, ow·sw − pw + s·dw] for one plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardFilterPlane(float* x, float* dy, float* dw, in ConvGeometry g)
    {
        int oh = g.OH, ow = g.OW;
        for (int r = 0; r < g.R; r++)
        {
            int offH = r * g.DilationH - g.PadH;
            var (ohLo, ohHi) = ValidRange(offH, g.StrideH, g.H, oh);
            for (int s = 0; s < g.S; s++)
            {
                int offW = s * g.DilationW - g.PadW;
                var (owLo, owHi) = ValidRange(offW, g.StrideW, g.W, ow);
                if (owHi <= owLo)
                {
                    continue;
                }
                float acc = 0f;
                for (int o = ohLo; o < ohHi; o++)
                {
                    float* xr = x + (nint)(o * g.StrideH + offH) * g.W;
                    float* yr = dy + (nint)o * ow;
                    if (g.StrideW == 1)
                    {
                        acc += Dot(yr + owLo, xr + owLo + offW, owHi - owLo);
                    }
                    else
                    {
                        for (int q = owLo; q < owHi; q++)
                        {
                            acc += yr[q] * xr[q * g.StrideW + offW];
                        }
                    }
                }
                dw[r * g.S + s] += acc;
            }
        }
    }

    /// <summary>The outputs o in [lo, hi) whose input index o·stride + offset lies in [0, size).</summary>
    internal static (int Lo, int Hi) ValidRange(int offset, int stride, int size, int outputs)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = size - 1 - offset;
        int hi = last < 0 ? 0 : Math.Min(outputs, last / stride + 1);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>y[i] += a · x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd(float* x, float a, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), va, Vector512.Load(y + i)), y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(x + i), va, Vector256.Load(y + i)), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* x, float* y, int n)
    {
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(x + i), Vector256.Load(y + i), acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += x[i] * y[i];
        }
        return sum;
    }
}
