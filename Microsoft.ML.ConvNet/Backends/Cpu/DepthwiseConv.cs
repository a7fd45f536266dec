using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// Direct kernels for depthwise convolution (groups = C = K): each channel plane is convolved with its own R×S filter.
/// GEMM would multiply 1×(R·S) by (R·S)×(OH·OW) per plane, which wastes the micro-kernel; these loops instead
/// run one vectorised multiply-add per filter tap over whole output rows (stride 1) or gather (other strides).
/// </summary>
internal static unsafe class DepthwiseConv
{
    /// <summary>
    /// y [OH, OW] = epilogue(Σ_(r,s) w[r, s] · x[oh·sh − ph + r·dh, ow·sw − pw + s·dw]) for the plane of
    /// <paramref name="channel"/>, which starts <paramref name="element"/> floats into the output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardPlane(float* x, float* w, in ConvEpilogue epilogue, int channel, float* y, nint element, in ConvGeometry g)
    {
        int oh = g.OH, ow = g.OW;
        new Span<float>(y, oh * ow).Fill(epilogue.Bias == null ? 0f : epilogue.Bias[channel]);
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
                    float* xr = x + (nint)(o * g.StrideH + offH) * g.W;
                    float* yr = y + (nint)o * ow;
                    if (g.StrideW == 1)
                    {
                        MultiplyAdd(xr + owLo + offW, wv, yr + owLo, owHi - owLo);
                    }
                    else
                    {
                        for (int q = owLo; q < owHi; q++)
                        {
                            yr[q] += wv * xr[q * g.StrideW + offW];
                        }
                    }
                }
            }
        }
        var tail = epilogue.WithoutBias;
        if (!tail.IsEmpty)
        {
            tail.Row(y, y, channel, element, oh * ow);
        }
    }

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
