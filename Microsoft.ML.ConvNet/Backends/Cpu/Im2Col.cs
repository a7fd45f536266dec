using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// The im2col view of one image (and one group) of a convolution: a matrix [Cg·R·S, OH·OW] whose row
/// q = (c·R + r)·S + s and column j = oh·OW + ow hold x[c, oh·sh − ph + r·dh, ow·sw − pw + s·dw] (0 in the padding).
/// The matrix is never materialised: the forward pass packs it straight into GEMM panels (<see cref="Im2ColPackB"/>),
/// the filter gradient packs its transpose (<see cref="Im2ColTransposedPackB"/>), and the input gradient adds a
/// column-matrix gradient back into the image (col2im, <see cref="Accumulate"/>).
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
                float* row = xc + (nint)ih * _w;
                if (_sw == 1)
                {
                    int iw = ow + iwBase;
                    int t0 = Math.Clamp(-iw, 0, len);
                    int t1 = Math.Clamp(_w - iw, t0, len);
                    FloatBlocks.Clear(d + j, t0);
                    FloatBlocks.Copy(row + iw + t0, d + j + t0, t1 - t0);
                    FloatBlocks.Clear(d + j + t1, len - t1);
                }
                else
                {
                    int iw = ow * _sw + iwBase;
                    for (int t = 0; t < len; t++, iw += _sw)
                    {
                        d[j + t] = (uint)iw < (uint)_w ? row[iw] : 0f;
                    }
                }
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
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackBlock(float* dst, int p0, int kc, int j0, int cols, int nr)
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
            float* subDst = dst + sub / nr * panel;
            int runs = 0;
            int oh = (j0 + sub) / _ow, ow = j0 + sub - oh * _ow, q = 0, jj = 0;
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
            float* tail = jj == 0 ? null : subDst + q * panel + jj;
            int c = c0, r = r0, s = s0;
            for (int p = 0; p < kc; p++)
            {
                float* d = subDst + p * nr;
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
                        for (int u = 0; u < len; u++, iw += _sw)
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
    public void Accumulate(float* src, int rows, int j0, int count)
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
                float* srcRow = src + (nint)q * count;
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
