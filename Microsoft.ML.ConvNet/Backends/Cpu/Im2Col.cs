using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// The im2col view of one image (and one group) of a convolution: a matrix [Cg·R·S, OH·OW] whose row
/// q = (c·R + r)·S + s and column j = oh·OW + ow hold x[c, oh·sh − ph + r·dh, ow·sw − pw + s·dw] (0 in the padding).
/// The matrix is never materialised: the forward pass packs it straight into GEMM panels (<see cref="Im2ColPackB"/>),
/// the filter gradient packs its transpose (<see cref="Im2ColTransposedPackB"/>), and the input gradient adds a
/// column-matrix gradient back into the image (col2im, <see cref="Accumulate(float*, int, int, int)"/>).
/// </summary>
internal readonly unsafe struct Im2ColView
{
    private readonly float* _x;
    private readonly int _h, _w, _r, _s, _sh, _sw, _ph, _pw, _dh, _dw, _ow;

    /// <summary>A view of the image planes starting at <paramref name="x"/> (the group's first channel).</summary>
    public Im2ColView(float* x, in ConvGeometry g)
    {
        _x = x;
        _h = g.H;
        _w = g.W;
        _r = g.R;
        _s = g.S;
        _sh = g.StrideH;
        _sw = g.StrideW;
        _ph = g.PadH;
        _pw = g.PadW;
        _dh = g.DilationH;
        _dw = g.DilationW;
        _ow = g.OW;
    }

    /// <summary>
    /// Writes count elements of row (c, r, s) starting at column j0 to d (d[t] = col[(c, r, s), j0 + t]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadRow(float* d, int c, int r, int s, int j0, int count)
    {
        int oh = j0 / _ow, ow = j0 - oh * _ow;
        float* xc = _x + (nint)c * _h * _w;
        int ihBase = r * _dh - _ph, iwBase = s * _dw - _pw;
        int j = 0;
        while (j < count)
        {
            int len = Math.Min(_ow - ow, count - j);
            int ih = oh * _sh + ihBase;
            if ((uint)ih >= (uint)_h)
            {
                FloatBlocks.Clear(d + j, len);
            }
            else
            {
                // Outputs [t0, t1) read inside the row, the others the zero padding.
                float* row = xc + (nint)ih * _w;
                int iw = ow * _sw + iwBase;
                int t0 = Math.Clamp((-iw + _sw - 1) / _sw, 0, len);
                int t1 = Math.Clamp((_w - iw + _sw - 1) / _sw, t0, len);
                FloatBlocks.Clear(d + j, t0);
                FloatBlocks.TakeStrided(row, iw + t0 * _sw, _sw, t1 - t0, _w, d + j + t0);
                FloatBlocks.Clear(d + j + t1, len - t1);
            }
            j += len;
            ow = 0;
            oh++;
        }
    }

    /// <summary>
    /// Packs rows [p0, p0 + kc) and columns [j0, j0 + cols) of the matrix as GEMM B micro-panels of width nr
    /// (see <see cref="IGemmPackB"/>). Works through at most 256 columns at a time; for each such range, the split of
    /// the columns into runs that stay within one output row and one panel is computed once for all rows.
    /// With <paramref name="at"/> &gt; 0 the columns land at panel column <paramref name="at"/> onwards instead of 0
    /// (images side by side, see <see cref="Im2ColBatchPackB"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackBlock(float* dst, int p0, int kc, int j0, int cols, int nr, int at = 0)
    {
        const int range = 256;
        int maxRuns = range + range / nr + 2;
        int* runIh = stackalloc int[maxRuns];
        int* runIw = stackalloc int[maxRuns];
        int* runLen = stackalloc int[maxRuns];
        int* runAt = stackalloc int[maxRuns];
        int rs = _r * _s;
        int c0 = p0 / rs, rem0 = p0 - c0 * rs;
        int r0 = rem0 / _s, s0 = rem0 - r0 * _s;
        nint plane = (nint)_h * _w, panel = (nint)kc * nr;
        for (int sub = 0; sub < cols; sub += range)
        {
            int subCols = Math.Min(range, cols - sub);
            int runs = 0;
            int q = (at + sub) / nr, jj = at + sub - q * nr;
            int oh = (j0 + sub) / _ow, ow = j0 + sub - oh * _ow;
            for (int j = 0; j < subCols; runs++)
            {
                int len = Math.Min(Math.Min(_ow - ow, nr - jj), subCols - j);
                runIh[runs] = oh * _sh - _ph;
                runIw[runs] = ow * _sw - _pw;
                runLen[runs] = len;
                runAt[runs] = (int)(q * panel) + jj;
                j += len;
                ow += len;
                if (ow == _ow)
                {
                    ow = 0;
                    oh++;
                }
                jj += len;
                if (jj == nr)
                {
                    jj = 0;
                    q++;
                }
            }
            // Zero tail of the last (partial) panel.
            float* tail = jj == 0 ? null : dst + q * panel + jj;
            int c = c0, r = r0, s = s0;
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + p * nr;
                float* xc = _x + c * plane;
                int dr = r * _dh, ds = s * _dw;
                for (int t = 0; t < runs; t++)
                {
                    int ih = runIh[t] + dr, len = runLen[t];
                    float* dd = d + runAt[t];
                    if ((uint)ih >= (uint)_h)
                    {
                        FloatBlocks.Clear(dd, len);
                        continue;
                    }
                    float* row = xc + (nint)ih * _w;
                    int iw = runIw[t] + ds;
                    if (_sw == 1)
                    {
                        if (iw >= 0 && iw + len <= _w)
                        {
                            FloatBlocks.Copy(row + iw, dd, len);
                        }
                        else
                        {
                            int t0 = Math.Clamp(-iw, 0, len);
                            int t1 = Math.Clamp(_w - iw, t0, len);
                            FloatBlocks.Clear(dd, t0);
                            FloatBlocks.Copy(row + iw + t0, dd + t0, t1 - t0);
                            FloatBlocks.Clear(dd + t1, len - t1);
                        }
                    }
                    else
                    {
                        int u = 0;
                        if (_sw == 2)
                        {
                            u = FloatBlocks.GatherEven(row, iw, len, _w, dd);
                            iw += 2 * u;
                        }
                        for (; u < len; u++, iw += _sw)
                        {
                            dd[u] = (uint)iw < (uint)_w ? row[iw] : 0f;
                        }
                    }
                }
                if (tail != null)
                {
                    FloatBlocks.Clear(tail + p * nr, nr - jj);
                }
                if (++s == _s)
                {
                    s = 0;
                    if (++r == _r)
                    {
                        r = 0;
                        c++;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs the transposed matrix as a GEMM B panel: op(B)[p, j] = col[j, p] for rows p in [p0, p0 + kc) (output
    /// positions) and columns j in [j0, j0 + cols) (filter taps), dst[p·nr + j], columns from cols to nr zeroed.
    /// Eight taps at a time are read as contiguous runs of positions into a small buffer and transposed in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackPanelTransposed(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        float* rows = stackalloc float[8 * kc];
        int rs = _r * _s;
        int c = j0 / rs, rem = j0 - c * rs;
        int r = rem / _s, s = rem - r * _s;
        for (int jb = 0; jb < cols; jb += 8)
        {
            int block = Math.Min(8, cols - jb);
            for (int q = 0; q < block; q++)
            {
                ReadRow(rows + q * kc, c, r, s, p0, kc);
                if (++s == _s)
                {
                    s = 0;
                    if (++r == _r)
                    {
                        r = 0;
                        c++;
                    }
                }
            }
            PackTransposed.Into(rows, kc, block, kc, dst + jb, nr);
        }
        if (cols < nr)
        {
            for (int p = 0; p < kc; p++)
            {
                FloatBlocks.Clear(dst + p * nr + cols, nr - cols);
            }
        }
    }

    /// <summary>
    /// The image += col2im of a slice of columns: src[q·count + t] is added to the pixel that column matrix element
    /// (q, j0 + t) was read from, for every row q in [0, rows). As in <see cref="PackBlock"/>, the columns are split
    /// once into runs within one output row, at most 256 columns at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Accumulate(float* src, int rows, int j0, int count) => Accumulate(src, count, rows, j0, count);

    /// <summary>As <see cref="Accumulate(float*, int, int, int)"/> with row q of the slice at src + q·<paramref name="ld"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Accumulate(float* src, int ld, int rows, int j0, int count)
    {
        const int range = 256;
        int* runIh = stackalloc int[range + 1];
        int* runIw = stackalloc int[range + 1];
        int* runLen = stackalloc int[range + 1];
        int* runAt = stackalloc int[range + 1];
        nint plane = (nint)_h * _w;
        for (int sub = 0; sub < count; sub += range)
        {
            int subCount = Math.Min(range, count - sub);
            int runs = 0;
            int oh = (j0 + sub) / _ow, ow = j0 + sub - oh * _ow;
            for (int j = 0; j < subCount; runs++)
            {
                int len = Math.Min(_ow - ow, subCount - j);
                runIh[runs] = oh * _sh - _ph;
                runIw[runs] = ow * _sw - _pw;
                runLen[runs] = len;
                runAt[runs] = sub + j;
                j += len;
                ow = 0;
                oh++;
            }
            int c = 0, r = 0, s = 0;
            for (int q = 0; q < rows; q++)
            {
                float* srcRow = src + (nint)q * ld;
                float* xc = _x + c * plane;
                int dr = r * _dh, ds = s * _dw;
                for (int t = 0; t < runs; t++)
                {
                    int ih = runIh[t] + dr;
                    if ((uint)ih >= (uint)_h)
                    {
                        continue;
                    }
                    float* row = xc + (nint)ih * _w;
                    float* from = srcRow + runAt[t];
                    int iw = runIw[t] + ds, len = runLen[t];
                    if (_sw == 1)
                    {
                        if (iw >= 0 && iw + len <= _w)
                        {
                            FloatBlocks.Add(from, row + iw, len);
                        }
                        else
                        {
                            int t0 = Math.Clamp(-iw, 0, len);
                            int t1 = Math.Clamp(_w - iw, t0, len);
                            FloatBlocks.Add(from + t0, row + iw + t0, t1 - t0);
                        }
                    }
                    else
                    {
                        for (int u = 0; u < len; u++, iw += _sw)
                        {
                            if ((uint)iw < (uint)_w)
                            {
                                row[iw] += from[u];
                            }
                        }
                    }
                }
                if (++s == _s)
                {
                    s = 0;
                    if (++r == _r)
                    {
                        r = 0;
                        c++;
                    }
                }
            }
        }
    }
}

/// <summary>op(B) = the im2col matrix of one image/group, packed directly from the image (implicit GEMM).</summary>
internal readonly unsafe struct Im2ColPackB(Im2ColView view) : IGemmPackB
{
    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr) => view.PackBlock(dst, p0, kc, j0, cols, nr);
}

/// <summary>op(B) = the transposed im2col matrix [OH·OW, Cg·R·S] of one image/group, packed from the image.</summary>
internal readonly unsafe struct Im2ColTransposedPackB(Im2ColView view) : IGemmPackB
{
    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        for (int q = 0; q * nr < cols; q++)
        {
            view.PackPanelTransposed(dst + q * kc * nr, p0, kc, j0 + q * nr, Math.Min(nr, cols - q * nr), nr);
        }
    }
}

/// <summary>
/// op(B) = the im2col matrices of consecutive images side by side, [Cg·R·S, images·OH·OW]: column j belongs to image
/// j / (OH·OW) (at <c>x + image·imageStride</c>), output position j mod (OH·OW). One GEMM then covers several small
/// images, so the filters are packed once for all of them and the micro-kernel's tiles are not cut at image edges.
/// </summary>
internal readonly unsafe struct Im2ColBatchPackB(float* x, nint imageStride, ConvGeometry g) : IGemmPackB
{
    private readonly ConvGeometry _g = g;

    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        int ohw = _g.OH * _g.OW;
        for (int at = 0; at < cols;)
        {
            int j = j0 + at, image = j / ohw, pos = j - image * ohw;
            int len = Math.Min(ohw - pos, cols - at);
            new Im2ColView(x + image * imageStride, _g).PackBlock(dst, p0, kc, pos, len, nr, at);
            at += len;
        }
    }
}

/// <summary>
/// op(B) = the transposed im2col matrices of consecutive images stacked, [images·OH·OW, Cg·R·S]: row p belongs to
/// image p / (OH·OW) (at <c>x + image·imageStride</c>), output position p mod (OH·OW).
/// </summary>
internal readonly unsafe struct Im2ColBatchTransposedPackB(float* x, nint imageStride, ConvGeometry g) : IGemmPackB
{
    private readonly ConvGeometry _g = g;

    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        int ohw = _g.OH * _g.OW;
        for (int done = 0; done < kc;)
        {
            int p = p0 + done, image = p / ohw, pos = p - image * ohw;
            int len = Math.Min(ohw - pos, kc - done);
            var view = new Im2ColView(x + image * imageStride, _g);
            for (int q = 0; q * nr < cols; q++)
            {
                view.PackPanelTransposed(dst + (nint)q * kc * nr + done * nr, pos, len, j0 + q * nr, Math.Min(nr, cols - q * nr), nr);
            }
            done += len;
        }
    }
}

/// <summary>
/// op(A) [K, images·OH·OW] from per-image matrices [K, OH·OW] (output gradients) side by side: element (i, p) is
/// <c>y[(p / ohw)·imageStride + i·ohw + p mod ohw]</c>.
/// </summary>
internal readonly unsafe struct BatchRowsA(float* y, nint imageStride, int ohw) : IGemmPackA
{
    public void Pack(float* dst, int i0, int rows, int p0, int kc, int mr)
    {
        for (int done = 0; done < kc;)
        {
            int p = p0 + done, image = p / ohw, pos = p - image * ohw;
            int len = Math.Min(ohw - pos, kc - done);
            PackTransposed.Rows(y + image * imageStride + (nint)i0 * ohw + pos, ohw, rows, len, dst + done * mr, mr);
            done += len;
        }
    }
}

/// <summary>
/// op(B) [K, images·OH·OW] from per-image matrices [K, OH·OW] (output gradients) side by side: element (p, j) is
/// <c>y[(j / ohw)·imageStride + p·ohw + j mod ohw]</c>.
/// </summary>
internal readonly unsafe struct BatchRowsB(float* y, nint imageStride, int ohw) : IGemmPackB
{
    public void Pack(float* dst, int p0, int kc, int j0, int cols, int nr)
    {
        nint panel = (nint)kc * nr;
        for (int at = 0; at < cols;)
        {
            int j = j0 + at, image = j / ohw, pos = j - image * ohw;
            int len = Math.Min(ohw - pos, cols - at);
            for (int p = 0; p < kc; p++)
            {
                float* s = y + image * imageStride + (nint)(p0 + p) * ohw + pos;
                int col = at, left = len;
                while (left > 0)
                {
                    int q = col / nr, jj = col - q * nr, run = Math.Min(nr - jj, left);
                    FloatBlocks.Copy(s, dst + q * panel + p * nr + jj, run);
                    s += run;
                    col += run;
                    left -= run;
                }
            }
            at += len;
        }
        int tail = cols % nr;
        if (tail != 0)
        {
            float* last = dst + cols / nr * panel;
            for (int p = 0; p < kc; p++)
            {
                FloatBlocks.Clear(last + p * nr + tail, nr - tail);
            }
        }
    }
}

/// <summary>
/// The transposed im2col matrix of one ungrouped image, [OH·OW, C·R·S], packed whole as a GEMM left operand
/// (<see cref="PackedA"/>): the output positions are its rows. The image is first copied into zero-bordered planes
/// (unless it has no padding), so that element (j, (c, r, s)) is read at the offset of position j plus the offset of
/// tap (c, r, s), with no bounds test; with AVX2 and 8-row micro-panels each depth step of a panel is one gather.
/// </summary>
internal static unsafe class PositionRows
{
    /// <summary>Packs the positions of image <paramref name="x"/> into <paramref name="dst"/> (<see cref="Sgemm.PackedSize"/>(OH·OW, C·R·S) floats), the depth blocks in parallel.</summary>
    public static void Pack(float* x, in ConvGeometry g, float* dst)
    {
        int hp = g.H + 2 * g.PadH, wp = g.W + 2 * g.PadW, plane = hp * wp;
        // Room for a 16-float read from any element.
        float* src = Sgemm.PackBuffer(ref _padded, g.C * plane + 16);
        FloatBlocks.Clear(src + (nint)g.C * plane, 16);
        if (g.PadH == 0 && g.PadW == 0)
        {
            FloatBlocks.Copy(x, src, g.C * plane);
        }
        else
        {
            FloatBlocks.Clear(src, g.C * plane);
            for (int c = 0; c < g.C; c++)
            {
                for (int h = 0; h < g.H; h++)
                {
                    FloatBlocks.Copy(x + ((nint)c * g.H + h) * g.W, src + (nint)c * plane + (h + g.PadH) * wp + g.PadW, g.W);
                }
            }
        }
        int m = g.OH * g.OW, mr = Sgemm.BestMR, rows = (m + mr - 1) / mr * mr, depth = g.C * g.R * g.S;
        int* at = stackalloc int[rows];
        for (int j = 0; j < rows; j++)
        {
            // Rows past the last position read the first element and are masked to zero.
            int oh = j / g.OW, ow = j - oh * g.OW;
            at[j] = j < m ? oh * g.StrideH * wp + ow * g.StrideW : 0;
        }
        Sgemm.PackedDepthOffset(m, depth, 0, out int kStep);
        int blocks = (depth + kStep - 1) / kStep, chunks = Math.Min(blocks, CpuParallel.Threads);
        var geo = g;
        nint sp = (nint)src, dp = (nint)dst, ap = (nint)at;
        CpuParallel.For(chunks, t =>
        {
            for (int b = blocks * t / chunks; b < blocks * (t + 1) / chunks; b++)
            {
                int p0 = b * kStep;
                nint offset = Sgemm.PackedDepthOffset(m, depth, p0, out int kc);
                PackBlock((float*)sp, plane, wp, (int*)ap, m, mr, p0, kc, (float*)dp + offset, geo);
            }
        });
    }

    /// <summary>Depth [p0, p0 + kc) of every MR-row panel, panel q at dst + q·kc·MR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBlock(float* src, int plane, int wp, int* at, int m, int mr, int p0, int kc, float* dst, in ConvGeometry g)
    {
        // Where each depth step's tap (c, r, s) lies relative to a position's offset, once for all panels.
        int* taps = stackalloc int[kc];
        int rs = g.R * g.S, c = p0 / rs, r = (p0 - c * rs) / g.S, t = p0 - c * rs - r * g.S;
        for (int p = 0; p < kc; p++)
        {
            taps[p] = c * plane + r * g.DilationH * wp + t * g.DilationW;
            if (++t == g.S)
            {
                t = 0;
                if (++r == g.R)
                {
                    r = 0;
                    c++;
                }
            }
        }
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int i0 = 0; i0 < m; i0 += mr)
        {
            float* d = dst + (nint)i0 * kc;
            int* ai = at + i0;
            int live = Math.Min(mr, m - i0);
            if (mr == 8 && Avx512F.IsSupported && ai[live - 1] - ai[0] < 16)
            {
                // The panel's positions lie within 16 floats of its first: one load and one permute per depth step.
                var pick = Vector512.Create(Vector256.Load(ai), Vector256<int>.Zero) - Vector512.Create(ai[0]);
                var keep = Vector256.LessThan(lanes, Vector256.Create(live)).AsSingle();
                float* first = src + ai[0];
                for (int p = 0; p < kc; p++, d += 8)
                {
                    Vector256.Store(Avx512F.PermuteVar16x32(Vector512.Load(first + taps[p]), pick).GetLower() & keep, d);
                }
            }
            else if (mr == 8 && Avx2.IsSupported)
            {
                var index = Vector256.Load(ai);
                var keep = Vector256.LessThan(lanes, Vector256.Create(live)).AsSingle();
                for (int p = 0; p < kc; p++, d += 8)
                {
                    Vector256.Store(Avx2.GatherVector256(src + taps[p], index, 4) & keep, d);
                }
            }
            else
            {
                for (int p = 0; p < kc; p++, d += mr)
                {
                    for (int lane = 0; lane < mr; lane++)
                    {
                        d[lane] = lane < live ? src[taps[p] + ai[lane]] : 0f;
                    }
                }
            }
        }
    }

    [ThreadStatic]
    private static float[]? _padded;
}
