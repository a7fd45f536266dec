using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Pooling over NCHW planes. Every (n, c) plane is independent, so the work is split over the N*C planes.
// Max and average are separable: for each output row the window's input rows are combined into one row with
// full-width SIMD operations, then each kernel column kw sweeps the output row (a contiguous SIMD operation with
// stride 1, a strided scalar loop otherwise). Max backward recomputes, per output, the first element of its window
// (scan order kh, kw) equal to the output, which is where PyTorch routes the gradient.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Pool2dForward(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g)
    {
        PoolKernels.Check(kind, x, y, g, "Pool2dForward");
        var geo = g;
        float[] src = x.CpuData, dst = y.CpuData;
        int hw = g.H * g.W, ohw = g.OH * g.OW;
        if (kind == PoolKind.Max && PoolKernels.IsHalving(geo))
        {
            PoolKernels.ForPlaneRanges(g.N * g.C, ohw * 4L, (from, to) => PoolKernels.MaxForward2x2(src, dst, from, to, geo));
            return;
        }
        if (kind == PoolKind.Max)
        {
            PoolKernels.ForEachPlane(g.N * g.C, (long)ohw * g.KernelH * g.KernelW,
                p => PoolKernels.MaxForward(src.AsSpan(p * hw, hw), dst.AsSpan(p * ohw, ohw), geo));
            return;
        }
        var div = PoolKernels.AvgDivisors(geo, kind == PoolKind.AvgIncludePad);
        PoolKernels.ForEachPlane(g.N * g.C, (long)ohw * g.KernelH * g.KernelW,
            p => PoolKernels.AvgForward(src.AsSpan(p * hw, hw), dst.AsSpan(p * ohw, ohw), geo, div));
    }

    /// <inheritdoc/>
    public void Pool2dBackward(PoolKind kind, Tensor x, Tensor y, Tensor dy, Tensor dx, in PoolGeometry g)
    {
        PoolKernels.Check(kind, x, y, g, "Pool2dBackward");
        PoolKernels.Check(kind, dx, dy, g, "Pool2dBackward");
        var geo = g;
        float[] xs = x.CpuData, ys = y.CpuData, gs = dy.CpuData, ds = dx.CpuData;
        int hw = g.H * g.W, ohw = g.OH * g.OW;
        if (kind == PoolKind.Max && PoolKernels.IsHalving(geo))
        {
            PoolKernels.ForPlaneRanges(g.N * g.C, ohw * 4L, (from, to) => PoolKernels.MaxBackward2x2(xs, ys, gs, ds, from, to, geo));
            return;
        }
        if (kind == PoolKind.Max)
        {
            var taps = PoolKernels.MaxTaps(geo);
            PoolKernels.ForEachPlane(g.N * g.C, (long)ohw * g.KernelH * g.KernelW,
                p => PoolKernels.MaxBackward(xs.AsSpan(p * hw, hw), ys.AsSpan(p * ohw, ohw), gs.AsSpan(p * ohw, ohw), ds.AsSpan(p * hw, hw), geo, taps));
            return;
        }
        var div = PoolKernels.AvgDivisors(geo, kind == PoolKind.AvgIncludePad);
        PoolKernels.ForEachPlane(g.N * g.C, (long)ohw * g.KernelH * g.KernelW,
            p => PoolKernels.AvgBackward(gs.AsSpan(p * ohw, ohw), ds.AsSpan(p * hw, hw), geo, div));
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dForward(Tensor x, Tensor y)
    {
        var a = PoolKernels.Adaptive(x.Shape, y.Shape, "AdaptiveAvgPool2dForward");
        float[] src = x.CpuData, dst = y.CpuData;
        int hw = a.H * a.W, ohw = a.OH * a.OW;
        PoolKernels.ForEachPlane(a.Planes, hw + ohw, p => PoolKernels.AdaptiveForward(src.AsSpan(p * hw, hw), dst.AsSpan(p * ohw, ohw), a));
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx)
    {
        var a = PoolKernels.Adaptive(dx.Shape, dy.Shape, "AdaptiveAvgPool2dBackward");
        float[] src = dy.CpuData, dst = dx.CpuData;
        int hw = a.H * a.W, ohw = a.OH * a.OW;
        PoolKernels.ForEachPlane(a.Planes, hw + ohw, p => PoolKernels.AdaptiveBackward(src.AsSpan(p * ohw, ohw), dst.AsSpan(p * hw, hw), a));
    }
}

/// <summary>Window bounds of adaptive pooling: output i covers [floor(i·I/O), ceil((i+1)·I/O)).</summary>
file sealed class AdaptiveWindows
{
    public required int Planes { get; init; }
    public required int H { get; init; }
    public required int W { get; init; }
    public required int OH { get; init; }
    public required int OW { get; init; }
    public required int[] HStart { get; init; }
    public required int[] HEnd { get; init; }
    public required int[] WStart { get; init; }
    public required int[] WEnd { get; init; }
}

/// <summary>Kernel taps inside the input for each output row (kh) and column (kw) of max pooling.</summary>
file sealed class MaxWindows
{
    public required int[] KhLo { get; init; }
    public required int[] KhHi { get; init; }
    public required int[] KwLo { get; init; }
    public required int[] KwHi { get; init; }
}

/// <summary>Per-axis divisors of average pooling (the 2-D divisor is their product).</summary>
file sealed class AvgDivisor
{
    public required float[] InvH { get; init; }
    public required float[] InvW { get; init; }
}

file static class PoolKernels
{
    /// <summary>Below this many operations a call runs on the calling thread.</summary>
    private const long ParallelThreshold = 1 << 15;

    public static void ForEachPlane(int planes, long workPerPlane, Action<int> body)
    {
        if (planes == 1 || planes * workPerPlane < ParallelThreshold)
        {
            for (int p = 0; p < planes; p++)
            {
                body(p);
            }
            return;
        }
        CpuParallel.ForRanges(planes, (from, to) =>
        {
            for (int p = from; p < to; p++)
            {
                body(p);
            }
        });
    }

    /// <summary>Runs body(from, to) over ranges of planes, in parallel when there is enough work.</summary>
    public static void ForPlaneRanges(int planes, long workPerPlane, Action<int, int> body)
    {
        if (planes * workPerPlane < ParallelThreshold)
        {
            body(0, planes);
            return;
        }
        CpuParallel.ForRanges(planes, body);
    }

    /// <summary>2×2 windows, stride 2, no padding or dilation, every window inside the input (the common halving pool).</summary>
    public static bool IsHalving(in PoolGeometry g)
        => g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0
            && g.DilationH == 1 && g.DilationW == 1 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;

    /// <summary>Max pooling for <see cref="IsHalving"/> geometries over planes [from, to).</summary>
    public static unsafe void MaxForward2x2(float[] x, float[] y, int from, int to, in PoolGeometry g)
    {
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            for (int p = from; p < to; p++)
            {
                float* xp = px + (nint)p * h * w;
                float* yp = py + (nint)p * oh * ow;
                for (int i = 0; i < oh; i++)
                {
                    float* r0 = xp + 2 * i * w, r1 = r0 + w, yr = yp + i * ow;
                    for (int j = 0; j < ow; j++)
                    {
                        // MathF.Max propagates NaN, as PyTorch's max pooling does.
                        yr[j] = MathF.Max(MathF.Max(r0[2 * j], r0[2 * j + 1]), MathF.Max(r1[2 * j], r1[2 * j + 1]));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Max pooling backward for <see cref="IsHalving"/> geometries over planes [from, to): each dy goes to the first
    /// element of its window (scan order) equal to the window's maximum, or to its first NaN when the maximum is NaN;
    /// the rest of dx (including rows and columns no window covers) is zero.
    /// </summary>
    public static unsafe void MaxBackward2x2(float[] x, float[] y, float[] dy, float[] dx, int from, int to, in PoolGeometry g)
    {
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pg = dy)
        fixed (float* pd = dx)
        {
            for (int p = from; p < to; p++)
            {
                nint inAt = (nint)p * h * w, outAt = (nint)p * oh * ow;
                float* xp = px + inAt, dp = pd + inAt, yp = py + outAt, gp = pg + outAt;
                if (2 * oh < h || 2 * ow < w)
                {
                    new Span<float>(dp, h * w).Clear();
                }
                for (int i = 0; i < oh; i++)
                {
                    float* r0 = xp + 2 * i * w, r1 = r0 + w;
                    float* d0 = dp + 2 * i * w, d1 = d0 + w;
                    float* yr = yp + i * ow, gr = gp + i * ow;
                    for (int j = 0; j < ow; j++)
                    {
                        // The window (a, b, c, d) in one vector; the lowest lane equal to the maximum gets dy.
                        var v = Vector128.Create(Unsafe.ReadUnaligned<long>(r0 + 2 * j), Unsafe.ReadUnaligned<long>(r1 + 2 * j)).AsSingle();
                        uint m = Vector128.Equals(v, Vector128.Create(yr[j])).ExtractMostSignificantBits();
                        if (m == 0)
                        {
                            // The maximum is NaN: the first NaN of the window.
                            m = (~Vector128.Equals(v, v)).ExtractMostSignificantBits() | 8u;
                        }
                        var pick = Vector128.Equals(Vector128.Create((int)(m & (0u - m))), LaneBits).AsSingle();
                        var d = Vector128.Create(gr[j]) & pick;
                        Unsafe.WriteUnaligned(d0 + 2 * j, d.AsInt64().GetElement(0));
                        Unsafe.WriteUnaligned(d1 + 2 * j, d.AsInt64().GetElement(1));
                    }
                }
            }
        }
    }

    /// <summary>Lane i holds 1 &lt;&lt; i.</summary>
    private static readonly Vector128<int> LaneBits = Vector128.Create(1, 2, 4, 8);

    public static void Check(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g, string operation)
    {
        if (x.Size != g.N * g.C * g.H * g.W || y.Size != g.N * g.C * g.OH * g.OW)
        {
            throw new ShapeMismatchException(operation, x.Shape, y.Shape,
                $"the geometry expects [{g.N}, {g.C}, {g.H}, {g.W}] → [{g.N}, {g.C}, {g.OH}, {g.OW}]");
        }
        if (kind != PoolKind.Max && (g.DilationH != 1 || g.DilationW != 1))
        {
            throw new ArgumentException($"{operation}: average pooling has no dilation (got {g.DilationH}, {g.DilationW}).");
        }
        if (g.StrideH < 1 || g.StrideW < 1 || g.KernelH < 1 || g.KernelW < 1)
        {
            throw new ArgumentException($"{operation}: kernel ({g.KernelH}, {g.KernelW}) and stride ({g.StrideH}, {g.StrideW}) must be positive.");
        }
    }

    /// <summary>
    /// The outputs o in [lo, hi) whose tap o·stride + offset falls inside [0, input).
    /// </summary>
    private static (int Lo, int Hi) ValidOutputs(int offset, int stride, int input, int outputs)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = input - 1 - offset;
        int hi = last < 0 ? 0 : Math.Min(outputs, last / stride + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>
    /// x [H, W] → y [OH, OW]: maximum over each (dilated) window; padding acts as −∞. Max is separable: the window's
    /// input rows are first combined into one row (SIMD, full width), then each output takes the maximum of its
    /// KernelW taps in that row.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g)
    {
        float[]? rented = g.W > 512 ? BufferPool.Rent(g.W) : null;
        Span<float> rowMax = rented != null ? rented.AsSpan() : stackalloc float[g.W];
        for (int oh = 0; oh < g.OH; oh++)
        {
            var yRow = y.Slice(oh * g.OW, g.OW);
            bool any = false;
            int h0 = oh * g.StrideH - g.PadH;
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                int h = h0 + kh * g.DilationH;
                if ((uint)h >= (uint)g.H)
                {
                    continue;
                }
                var xRow = x.Slice(h * g.W, g.W);
                if (any)
                {
                    TensorPrimitives.Max(rowMax, xRow, rowMax);
                }
                else
                {
                    xRow.CopyTo(rowMax);
                    any = true;
                }
            }
            yRow.Fill(float.NegativeInfinity);
            if (any)
            {
                SweepMax(rowMax, yRow, g);
            }
        }
        if (rented != null)
        {
            BufferPool.Return(rented);
        }
    }

    /// <summary>y[ow] = max over kw of row[ow·stride − pad + kw·dilation] (taps inside the row only).</summary>
    private static unsafe void SweepMax(ReadOnlySpan<float> row, Span<float> y, in PoolGeometry g)
    {
        int sw = g.StrideW;
        float* taps = stackalloc float[sw == 2 && g.OW <= 1024 ? g.OW : 0];
        for (int kw = 0; kw < g.KernelW; kw++)
        {
            int off = kw * g.DilationW - g.PadW;
            var (lo, hi) = ValidOutputs(off, sw, g.W, g.OW);
            if (lo >= hi)
            {
                continue;
            }
            if (sw == 1)
            {
                var dst = y[lo..hi];
                TensorPrimitives.Max(dst, row.Slice(lo + off, hi - lo), dst);
                continue;
            }
            if (sw == 2 && g.OW <= 1024)
            {
                // The tap's inputs are every other float of the row: picked out with vectors, then one vector maximum.
                fixed (float* r = row)
                {
                    FloatBlocks.TakeStrided(r, lo * 2 + off, 2, hi - lo, row.Length, taps);
                }
                var dst = y[lo..hi];
                TensorPrimitives.Max(dst, new ReadOnlySpan<float>(taps, hi - lo), dst);
                continue;
            }
            for (int ow = lo; ow < hi; ow++)
            {
                // MathF.Max propagates NaN (IEEE 754-2019 maximum) and compiles without branches.
                y[ow] = MathF.Max(y[ow], row[ow * sw + off]);
            }
        }
    }

    /// <summary>The kernel taps of each output row/column that fall inside the input: [Lo, Hi) per output.</summary>
    public static MaxWindows MaxTaps(in PoolGeometry g)
    {
        var w = new MaxWindows { KhLo = new int[g.OH], KhHi = new int[g.OH], KwLo = new int[g.OW], KwHi = new int[g.OW] };
        for (int oh = 0; oh < g.OH; oh++)
        {
            (w.KhLo[oh], w.KhHi[oh]) = ValidTaps(oh * g.StrideH - g.PadH, g.DilationH, g.H, g.KernelH);
        }
        for (int ow = 0; ow < g.OW; ow++)
        {
            (w.KwLo[ow], w.KwHi[ow]) = ValidTaps(ow * g.StrideW - g.PadW, g.DilationW, g.W, g.KernelW);
        }
        return w;
    }

    /// <summary>The taps k in [lo, hi) with start + k·dilation inside [0, input).</summary>
    private static (int Lo, int Hi) ValidTaps(int start, int dilation, int input, int kernel)
    {
        int lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        int last = input - 1 - start;
        int hi = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>
    /// dx [H, W] (written): each dy goes to the first element of its window (scan order kh, kw) equal to the
    /// window's maximum y. Row by row of outputs, each tap's inputs for all the row's outputs are compared at once with
    /// the maxima (every other float picked with vectors at stride 2), and the first match of each output is kept; then
    /// each output's gradient is added at its match.
    /// </summary>
    public static unsafe void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, in PoolGeometry g, MaxWindows taps)
    {
        dx.Clear();
        int w = g.W, ow = g.OW, sw = g.StrideW;
        bool rows = ow <= 1024;
        float* tap = stackalloc float[rows ? ow : 0];
        int* first = stackalloc int[rows ? ow : 0];
        fixed (float* px = x)
        fixed (float* py = y)
        {
            for (int oh = 0; oh < g.OH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                float* yRow = py + (nint)oh * ow;
                if (!rows)
                {
                    for (int o = 0; o < ow; o++)
                    {
                        AddAtFirstMax(x, yRow[o], dy[oh * ow + o], dx, g, h0, o * sw - g.PadW, taps.KhLo[oh], taps.KhHi[oh], taps.KwLo[o], taps.KwHi[o]);
                    }
                    continue;
                }
                new Span<int>(first, ow).Fill(-1);
                for (int kh = taps.KhLo[oh]; kh < taps.KhHi[oh]; kh++)
                {
                    int rowStart = (h0 + kh * g.DilationH) * w;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        int off = kw * g.DilationW - g.PadW;
                        var (lo, hi) = ValidOutputs(off, sw, w, ow);
                        if (lo >= hi)
                        {
                            continue;
                        }
                        // tap[o] = x[row, o·stride + off] for the outputs [lo, hi) whose tap lies in the row.
                        FloatBlocks.TakeStrided(px + rowStart, lo * sw + off, sw, hi - lo, w, tap + lo);
                        KeepFirstMatches(tap, yRow, first, lo, hi, rowStart + off, sw);
                    }
                }
                for (int o = 0; o < ow; o++)
                {
                    if (first[o] >= 0)
                    {
                        dx[first[o]] += dy[oh * ow + o];
                    }
                    else if (float.IsNaN(yRow[o]))
                    {
                        AddAtFirstMax(x, yRow[o], dy[oh * ow + o], dx, g, h0, o * sw - g.PadW, taps.KhLo[oh], taps.KhHi[oh], taps.KwLo[o], taps.KwHi[o]);
                    }
                }
            }
        }
    }

    /// <summary>first[o] = start + o·stride for the outputs o in [lo, hi) whose tap equals their maximum and that have no match yet.</summary>
    private static unsafe void KeepFirstMatches(float* tap, float* y, int* first, int lo, int hi, int start, int stride)
    {
        int o = lo;
        if (Vector256.IsHardwareAccelerated)
        {
            var step = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;
            for (; o <= hi - 8; o += 8)
            {
                var found = Vector256.Load(first + o);
                var match = Vector256.Equals(Vector256.Load(tap + o), Vector256.Load(y + o)).AsInt32() & Vector256.LessThan(found, Vector256<int>.Zero);
                Vector256.ConditionalSelect(match, Vector256.Create(start + o * stride) + step, found).Store(first + o);
            }
        }
        for (; o < hi; o++)
        {
            if (first[o] < 0 && tap[o] == y[o])
            {
                first[o] = start + o * stride;
            }
        }
    }

    /// <summary>
    /// dx[at] += gradient at the first element of the window at (h0, w0) (scan order kh, kw) equal to
    /// <paramref name="target"/>, or, for a NaN maximum, at its first NaN.
    /// </summary>
    private static void AddAtFirstMax(ReadOnlySpan<float> x, float target, float gradient, Span<float> dx, in PoolGeometry g, int h0, int w0,
        int khLo, int khHi, int kwLo, int kwHi)
    {
        for (int kh = khLo; kh < khHi; kh++)
        {
            int rowStart = (h0 + kh * g.DilationH) * g.W + w0;
            for (int kw = kwLo; kw < kwHi; kw++)
            {
                int at = rowStart + kw * g.DilationW;
                if (x[at] == target)
                {
                    dx[at] += gradient;
                    return;
                }
            }
        }
        if (float.IsNaN(target) && FirstNaN(x, g, h0, w0, khLo, khHi, kwLo, kwHi) is int nan and >= 0)
        {
            dx[nan] += gradient;
        }
    }

    private static int FirstNaN(ReadOnlySpan<float> x, in PoolGeometry g, int h0, int w0, int khLo, int khHi, int kwLo, int kwHi)
    {
        for (int kh = khLo; kh < khHi; kh++)
        {
            for (int kw = kwLo; kw < kwHi; kw++)
            {
                int at = (h0 + kh * g.DilationH) * g.W + w0 + kw * g.DilationW;
                if (float.IsNaN(x[at]))
                {
                    return at;
                }
            }
        }
        return -1;
    }

    /// <summary>
    /// 1 / divisor per output row and column. With padding counted, a window is clipped to the padded input
    /// (it may run past it in ceil mode); without, to the input itself.
    /// </summary>
    public static AvgDivisor AvgDivisors(in PoolGeometry g, bool includePad) => new()
    {
        InvH = AxisDivisors(g.OH, g.H, g.KernelH, g.StrideH, g.PadH, includePad),
        InvW = AxisDivisors(g.OW, g.W, g.KernelW, g.StrideW, g.PadW, includePad),
    };

    private static float[] AxisDivisors(int outputs, int input, int kernel, int stride, int pad, bool includePad)
    {
        var inv = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            int start = o * stride - pad;
            int end = Math.Min(start + kernel, input + pad);
            int count = includePad ? end - start : Math.Min(end, input) - Math.Max(start, 0);
            inv[o] = 1f / count;
        }
        return inv;
    }

    /// <summary>
    /// x [H, W] → y [OH, OW]: window sums scaled by the divisors. Separable: the window's input rows are summed into
    /// one row (SIMD), then each output sums its KernelW taps in that row.
    /// </summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g, AvgDivisor div)
    {
        int sw = g.StrideW;
        float[]? rented = g.W > 512 ? BufferPool.Rent(g.W) : null;
        Span<float> rowSum = rented != null ? rented.AsSpan() : stackalloc float[g.W];
        for (int oh = 0; oh < g.OH; oh++)
        {
            var yRow = y.Slice(oh * g.OW, g.OW);
            int h0 = oh * g.StrideH - g.PadH;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + g.KernelH, g.H);
            x.Slice(hBegin * g.W, g.W).CopyTo(rowSum);
            for (int h = hBegin + 1; h < hEnd; h++)
            {
                TensorPrimitives.Add(rowSum, x.Slice(h * g.W, g.W), rowSum);
            }
            yRow.Clear();
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int off = kw - g.PadW;
                var (lo, hi) = ValidOutputs(off, sw, g.W, g.OW);
                if (lo >= hi)
                {
                    continue;
                }
                if (sw == 1)
                {
                    var dst = yRow[lo..hi];
                    TensorPrimitives.Add(dst, rowSum.Slice(lo + off, hi - lo), dst);
                    continue;
                }
                for (int ow = lo; ow < hi; ow++)
                {
                    yRow[ow] += rowSum[ow * sw + off];
                }
            }
            TensorPrimitives.Multiply(yRow, div.InvW, yRow);
            TensorPrimitives.Multiply(yRow, div.InvH[oh], yRow);
        }
        if (rented != null)
        {
            BufferPool.Return(rented);
        }
    }

    /// <summary>
    /// dx [H, W] (written): each dy / divisor spread over its window. Separable: the scaled output row is spread
    /// over one input-width row, which is then added to every input row of the window (SIMD).
    /// </summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, in PoolGeometry g, AvgDivisor div)
    {
        dx.Clear();
        int sw = g.StrideW;
        float[]? rented = g.OW + g.W > 1024 ? BufferPool.Rent(g.OW + g.W) : null;
        Span<float> buffer = rented != null ? rented.AsSpan() : stackalloc float[g.OW + g.W];
        var scaled = buffer[..g.OW];
        var spread = buffer.Slice(g.OW, g.W);
        for (int oh = 0; oh < g.OH; oh++)
        {
            TensorPrimitives.Multiply(dy.Slice(oh * g.OW, g.OW), div.InvW, scaled);
            TensorPrimitives.Multiply(scaled, div.InvH[oh], scaled);
            spread.Clear();
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int off = kw - g.PadW;
                var (lo, hi) = ValidOutputs(off, sw, g.W, g.OW);
                if (lo >= hi)
                {
                    continue;
                }
                if (sw == 1)
                {
                    var dst = spread.Slice(lo + off, hi - lo);
                    TensorPrimitives.Add(dst, scaled[lo..hi], dst);
                    continue;
                }
                for (int ow = lo; ow < hi; ow++)
                {
                    spread[ow * sw + off] += scaled[ow];
                }
            }
            int h0 = oh * g.StrideH - g.PadH;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + g.KernelH, g.H);
            for (int h = hBegin; h < hEnd; h++)
            {
                var dxRow = dx.Slice(h * g.W, g.W);
                TensorPrimitives.Add(dxRow, spread, dxRow);
            }
        }
        if (rented != null)
        {
            BufferPool.Return(rented);
        }
    }

    public static AdaptiveWindows Adaptive(Shape x, Shape y, string operation)
    {
        if (x.Rank != 4 || y.Rank != 4 || x[0] != y[0] || x[1] != y[1] || y[2] < 1 || y[3] < 1)
        {
            throw new ShapeMismatchException(operation, x, y, "expected [N, C, H, W] → [N, C, OH, OW]");
        }
        var (hs, he) = AdaptiveBounds(x[2], y[2]);
        var (ws, we) = AdaptiveBounds(x[3], y[3]);
        return new AdaptiveWindows
        {
            Planes = x[0] * x[1], H = x[2], W = x[3], OH = y[2], OW = y[3],
            HStart = hs, HEnd = he, WStart = ws, WEnd = we,
        };
    }

    private static (int[] Start, int[] End) AdaptiveBounds(int input, int output)
    {
        var start = new int[output];
        var end = new int[output];
        for (int i = 0; i < output; i++)
        {
            start[i] = (int)((long)i * input / output);
            end[i] = (int)(((long)(i + 1) * input + output - 1) / output);
        }
        return (start, end);
    }

    /// <summary>x [H, W] → y [OH, OW]: sum the window's rows into one row, then average each column range.</summary>
    public static void AdaptiveForward(ReadOnlySpan<float> x, Span<float> y, AdaptiveWindows a)
    {
        float[]? rented = a.W > 512 ? BufferPool.Rent(a.W) : null;
        Span<float> rowSum = rented != null ? rented.AsSpan() : stackalloc float[a.W];
        for (int oh = 0; oh < a.OH; oh++)
        {
            int hs = a.HStart[oh], he = a.HEnd[oh];
            x.Slice(hs * a.W, a.W).CopyTo(rowSum);
            for (int h = hs + 1; h < he; h++)
            {
                TensorPrimitives.Add(rowSum, x.Slice(h * a.W, a.W), rowSum);
            }
            for (int ow = 0; ow < a.OW; ow++)
            {
                int ws = a.WStart[ow], we = a.WEnd[ow];
                y[oh * a.OW + ow] = TensorPrimitives.Sum(rowSum[ws..we]) / ((he - hs) * (we - ws));
            }
        }
        if (rented != null)
        {
            BufferPool.Return(rented);
        }
    }

    /// <summary>dx [H, W] (written) from dy [OH, OW]: each dy / window area spread over its window.</summary>
    public static void AdaptiveBackward(ReadOnlySpan<float> dy, Span<float> dx, AdaptiveWindows a)
    {
        dx.Clear();
        float[]? rented = a.W > 512 ? BufferPool.Rent(a.W) : null;
        Span<float> row = rented != null ? rented.AsSpan() : stackalloc float[a.W];
        for (int oh = 0; oh < a.OH; oh++)
        {
            int hs = a.HStart[oh], he = a.HEnd[oh];
            row.Clear();
            for (int ow = 0; ow < a.OW; ow++)
            {
                int ws = a.WStart[ow], we = a.WEnd[ow];
                var part = row[ws..we];
                TensorPrimitives.Add(part, dy[oh * a.OW + ow] / ((he - hs) * (we - ws)), part);
            }
            for (int h = hs; h < he; h++)
            {
                var dxRow = dx.Slice(h * a.W, a.W);
                TensorPrimitives.Add(dxRow, row, dxRow);
            }
        }
        if (rented != null)
        {
            BufferPool.Return(rented);
        }
    }
}
