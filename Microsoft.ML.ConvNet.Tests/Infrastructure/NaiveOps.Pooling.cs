namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>
/// Plain-loop reference pooling on flat NCHW arrays, written straight from PyTorch's definitions
/// (one loop per index, no shared code with the library).
/// </summary>
public static partial class NaiveOps
{
    /// <summary>Pooling window: kernel, stride, padding and dilation per axis, and PyTorch's ceil mode.</summary>
    public readonly record struct PoolParams(int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW,
        int DilationH = 1, int DilationW = 1, bool CeilMode = false)
    {
        /// <summary>Square window with equal parameters on both axes.</summary>
        public static PoolParams Square(int kernel, int stride, int pad = 0, int dilation = 1, bool ceilMode = false)
            => new(kernel, kernel, stride, stride, pad, pad, dilation, dilation, ceilMode);
    }

    /// <summary>PyTorch's pooling_output_shape: floor/ceil of (I + 2P − D(K−1) − 1)/S + 1; in ceil mode the last window must start inside the input or left padding.</summary>
    public static int PoolOutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        int numerator = input + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        int output = (int)Math.Floor((double)numerator / stride) + 1;
        if (ceilMode && (output - 1) * stride >= input + pad)
        {
            output--;
        }
        return output;
    }

    /// <summary>Max pooling forward; padding is −∞. Returns y [N, C, OH, OW].</summary>
    public static float[] MaxPool2d(float[] x, int n, int c, int h, int w, PoolParams p, out int oh, out int ow)
    {
        ArgumentNullException.ThrowIfNull(x);
        oh = PoolOutputSize(h, p.KernelH, p.StrideH, p.PadH, p.DilationH, p.CeilMode);
        ow = PoolOutputSize(w, p.KernelW, p.StrideW, p.PadW, p.DilationW, p.CeilMode);
        var y = new float[n * c * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        float best = float.NegativeInfinity;
                        for (int kh = 0; kh < p.KernelH; kh++)
                        {
                            for (int kw = 0; kw < p.KernelW; kw++)
                            {
                                int ih = i * p.StrideH - p.PadH + kh * p.DilationH;
                                int iw = j * p.StrideW - p.PadW + kw * p.DilationW;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                                {
                                    continue;
                                }
                                float v = x[((b * c + ch) * h + ih) * w + iw];
                                if (v > best)
                                {
                                    best = v;
                                }
                            }
                        }
                        y[((b * c + ch) * oh + i) * ow + j] = best;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>Max pooling backward: each dy goes to the first maximum of its window (scan order kh, kw). Returns dx.</summary>
    public static float[] MaxPool2dBackward(float[] x, float[] dy, int n, int c, int h, int w, PoolParams p)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dy);
        int oh = PoolOutputSize(h, p.KernelH, p.StrideH, p.PadH, p.DilationH, p.CeilMode);
        int ow = PoolOutputSize(w, p.KernelW, p.StrideW, p.PadW, p.DilationW, p.CeilMode);
        var dx = new float[x.Length];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        float best = float.NegativeInfinity;
                        int arg = -1;
                        for (int kh = 0; kh < p.KernelH; kh++)
                        {
                            for (int kw = 0; kw < p.KernelW; kw++)
                            {
                                int ih = i * p.StrideH - p.PadH + kh * p.DilationH;
                                int iw = j * p.StrideW - p.PadW + kw * p.DilationW;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                                {
                                    continue;
                                }
                                int at = ((b * c + ch) * h + ih) * w + iw;
                                if (arg < 0 || x[at] > best)
                                {
                                    best = x[at];
                                    arg = at;
                                }
                            }
                        }
                        if (arg >= 0)
                        {
                            dx[arg] += dy[((b * c + ch) * oh + i) * ow + j];
                        }
                    }
                }
            }
        }
        return dx;
    }

    /// <summary>Average pooling forward (PyTorch's avg_pool2d divisor rules). Returns y [N, C, OH, OW].</summary>
    public static float[] AvgPool2d(float[] x, int n, int c, int h, int w, PoolParams p, bool countIncludePad, out int oh, out int ow)
    {
        ArgumentNullException.ThrowIfNull(x);
        oh = PoolOutputSize(h, p.KernelH, p.StrideH, p.PadH, 1, p.CeilMode);
        ow = PoolOutputSize(w, p.KernelW, p.StrideW, p.PadW, 1, p.CeilMode);
        var y = new float[n * c * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        var (h0, h1, w0, w1, divisor) = AvgWindow(i, j, h, w, p, countIncludePad);
                        double sum = 0;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                sum += x[((b * c + ch) * h + ih) * w + iw];
                            }
                        }
                        y[((b * c + ch) * oh + i) * ow + j] = (float)(sum / divisor);
                    }
                }
            }
        }
        return y;
    }

    /// <summary>Average pooling backward: dy / divisor added to every input of the window. Returns dx.</summary>
    public static float[] AvgPool2dBackward(float[] dy, int n, int c, int h, int w, PoolParams p, bool countIncludePad)
    {
        ArgumentNullException.ThrowIfNull(dy);
        int oh = PoolOutputSize(h, p.KernelH, p.StrideH, p.PadH, 1, p.CeilMode);
        int ow = PoolOutputSize(w, p.KernelW, p.StrideW, p.PadW, 1, p.CeilMode);
        var dx = new double[n * c * h * w];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        var (h0, h1, w0, w1, divisor) = AvgWindow(i, j, h, w, p, countIncludePad);
                        double g = dy[((b * c + ch) * oh + i) * ow + j] / (double)divisor;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                dx[((b * c + ch) * h + ih) * w + iw] += g;
                            }
                        }
                    }
                }
            }
        }
        return dx.Select(v => (float)v).ToArray();
    }

    /// <summary>
    /// PyTorch's avg_pool2d window: end clipped to input + padding, the pool size taken there (count_include_pad),
    /// then start/end clipped to the input (the element count otherwise).
    /// </summary>
    private static (int H0, int H1, int W0, int W1, int Divisor) AvgWindow(int i, int j, int h, int w, PoolParams p, bool countIncludePad)
    {
        int h0 = i * p.StrideH - p.PadH;
        int w0 = j * p.StrideW - p.PadW;
        int h1 = Math.Min(h0 + p.KernelH, h + p.PadH);
        int w1 = Math.Min(w0 + p.KernelW, w + p.PadW);
        int poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, h);
        w1 = Math.Min(w1, w);
        int divisor = countIncludePad ? poolSize : (h1 - h0) * (w1 - w0);
        return (h0, h1, w0, w1, divisor);
    }

    /// <summary>Adaptive average pooling: output i covers [⌊i·I/O⌋, ⌈(i+1)·I/O⌉) per axis. Returns y [N, C, OH, OW].</summary>
    public static float[] AdaptiveAvgPool2d(float[] x, int n, int c, int h, int w, int oh, int ow)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new float[n * c * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        int h0 = (int)Math.Floor((double)i * h / oh), h1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                        int w0 = (int)Math.Floor((double)j * w / ow), w1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                        double sum = 0;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                sum += x[((b * c + ch) * h + ih) * w + iw];
                            }
                        }
                        y[((b * c + ch) * oh + i) * ow + j] = (float)(sum / ((h1 - h0) * (w1 - w0)));
                    }
                }
            }
        }
        return y;
    }

    /// <summary>Adaptive average pooling backward. Returns dx [N, C, H, W].</summary>
    public static float[] AdaptiveAvgPool2dBackward(float[] dy, int n, int c, int h, int w, int oh, int ow)
    {
        ArgumentNullException.ThrowIfNull(dy);
        var dx = new double[n * c * h * w];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        int h0 = (int)Math.Floor((double)i * h / oh), h1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                        int w0 = (int)Math.Floor((double)j * w / ow), w1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                        double g = dy[((b * c + ch) * oh + i) * ow + j] / (double)((h1 - h0) * (w1 - w0));
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                dx[((b * c + ch) * h + ih) * w + iw] += g;
                            }
                        }
                    }
                }
            }
        }
        return dx.Select(v => (float)v).ToArray();
    }
}
