using Microsoft.ML.ConvNet.Backends;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>
/// Plain-loop reference implementations (double accumulation, no blocking, no SIMD) that the fast kernels are
/// compared against. They follow the definitions literally and are deliberately slow.
/// </summary>
public static partial class NaiveOps
{
    /// <summary>
    /// C = alpha · op(A)·op(B) + beta · C, row-major with offsets and leading dimensions; op(A) is [m, k], op(B) is [k, n].
    /// With beta = 0, C is not read.
    /// </summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
        float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                    float bv = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                    sum += (double)av * bv;
                }
                int at = cOffset + i * ldc + j;
                c[at] = beta == 0f ? (float)(alpha * sum) : (float)(alpha * sum + (double)beta * c[at]);
            }
        }
    }

    /// <summary>y [N, K, OH, OW] = conv(x [N, C, H, W], w [K, C/groups, R, S]) + bias [K], seven nested loops.</summary>
    public static float[] Conv2dForward(float[] x, float[] w, float[]? bias, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        int oh = g.OH, ow = g.OW, cg = g.CPerGroup, kg = g.KPerGroup;
        var y = new float[g.N * g.K * oh * ow];
        for (int n = 0; n < g.N; n++)
        {
            for (int k = 0; k < g.K; k++)
            {
                int group = k / kg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = bias == null ? 0 : bias[k];
                        for (int c = 0; c < cg; c++)
                        {
                            for (int r = 0; r < g.R; r++)
                            {
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ih = i * g.StrideH - g.PadH + r * g.DilationH;
                                    int iw = j * g.StrideW - g.PadW + s * g.DilationW;
                                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
                                    {
                                        continue;
                                    }
                                    int xc = group * cg + c;
                                    sum += (double)x[((n * g.C + xc) * g.H + ih) * g.W + iw] * w[((k * cg + c) * g.R + r) * g.S + s];
                                }
                            }
                        }
                        y[((n * g.K + k) * oh + i) * ow + j] = (float)sum;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>dx [N, C, H, W]: every dy element times every filter tap, scattered to the input pixel it read.</summary>
    public static float[] Conv2dBackwardData(float[] dy, float[] w, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(dy);
        ArgumentNullException.ThrowIfNull(w);
        int oh = g.OH, ow = g.OW, cg = g.CPerGroup, kg = g.KPerGroup;
        var dx = new double[g.N * g.C * g.H * g.W];
        for (int n = 0; n < g.N; n++)
        {
            for (int k = 0; k < g.K; k++)
            {
                int group = k / kg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double gy = dy[((n * g.K + k) * oh + i) * ow + j];
                        for (int c = 0; c < cg; c++)
                        {
                            for (int r = 0; r < g.R; r++)
                            {
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ih = i * g.StrideH - g.PadH + r * g.DilationH;
                                    int iw = j * g.StrideW - g.PadW + s * g.DilationW;
                                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
                                    {
                                        continue;
                                    }
                                    int xc = group * cg + c;
                                    dx[((n * g.C + xc) * g.H + ih) * g.W + iw] += gy * w[((k * cg + c) * g.R + r) * g.S + s];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx.Select(v => (float)v).ToArray();
    }

    /// <summary>dw [K, C/groups, R, S] = Σ over the batch and output positions of dy · x at the tap's pixel.</summary>
    public static float[] Conv2dBackwardFilter(float[] x, float[] dy, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dy);
        int oh = g.OH, ow = g.OW, cg = g.CPerGroup, kg = g.KPerGroup;
        var dw = new double[g.K * cg * g.R * g.S];
        for (int n = 0; n < g.N; n++)
        {
            for (int k = 0; k < g.K; k++)
            {
                int group = k / kg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double gy = dy[((n * g.K + k) * oh + i) * ow + j];
                        for (int c = 0; c < cg; c++)
                        {
                            for (int r = 0; r < g.R; r++)
                            {
                                for (int s = 0; s < g.S; s++)
                                {
                                    int ih = i * g.StrideH - g.PadH + r * g.DilationH;
                                    int iw = j * g.StrideW - g.PadW + s * g.DilationW;
                                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
                                    {
                                        continue;
                                    }
                                    int xc = group * cg + c;
                                    dw[((k * cg + c) * g.R + r) * g.S + s] += gy * x[((n * g.C + xc) * g.H + ih) * g.W + iw];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dw.Select(v => (float)v).ToArray();
    }

    /// <summary>
    /// Transposed convolution from its definition: every input pixel x[n, ci, h, w] adds x · w[ci, co, r, s] to output
    /// pixel (h·stride − pad + r·dilation, w·stride − pad + s·dilation) of each output channel co of its group.
    /// x [N, Cin, H, W], w [Cin, Cout/groups, R, S], bias [Cout]; returns y and its shape [N, Cout, OH, OW].
    /// </summary>
    public static (float[] Y, int[] Shape) ConvTranspose2d(float[] x, int[] xShape, float[] w, int[] wShape, float[]? bias,
        int stride, int padding, int outputPadding, int dilation, int groups)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xShape);
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(wShape);
        int n = xShape[0], cin = xShape[1], h = xShape[2], wd = xShape[3];
        int coutG = wShape[1], r = wShape[2], s = wShape[3];
        int cout = coutG * groups, cinG = cin / groups;
        int oh = (h - 1) * stride - 2 * padding + dilation * (r - 1) + outputPadding + 1;
        int ow = (wd - 1) * stride - 2 * padding + dilation * (s - 1) + outputPadding + 1;
        var y = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int ci = 0; ci < cin; ci++)
            {
                int group = ci / cinG;
                for (int i = 0; i < h; i++)
                {
                    for (int j = 0; j < wd; j++)
                    {
                        double xv = x[((b * cin + ci) * h + i) * wd + j];
                        for (int co = 0; co < coutG; co++)
                        {
                            for (int u = 0; u < r; u++)
                            {
                                for (int v = 0; v < s; v++)
                                {
                                    int oi = i * stride - padding + u * dilation;
                                    int oj = j * stride - padding + v * dilation;
                                    if (oi < 0 || oi >= oh || oj < 0 || oj >= ow)
                                    {
                                        continue;
                                    }
                                    int oc = group * coutG + co;
                                    y[((b * cout + oc) * oh + oi) * ow + oj] += xv * w[((ci * coutG + co) * r + u) * s + v];
                                }
                            }
                        }
                    }
                }
            }
        }
        if (bias != null)
        {
            for (int i = 0; i < y.Length; i++)
            {
                y[i] += bias[i / (oh * ow) % cout];
            }
        }
        return (y.Select(v => (float)v).ToArray(), [n, cout, oh, ow]);
    }
}
