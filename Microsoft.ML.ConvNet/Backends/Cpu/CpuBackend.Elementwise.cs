using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

public sealed partial class CpuBackend
{
    private const float SeluAlpha = 1.6732632423543772f;
    private const float SeluScale = 1.0507009873554805f;

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor y, float alpha)
    {
        float[] xa = x.CpuData, ya = y.CpuData;
        ElementRanges(y.Size, (from, to) => Unary(op, xa.AsSpan(from, to - from), ya.AsSpan(from, to - from), alpha));
    }

    /// <summary>Below this many elements an elementwise operation runs on the calling thread.</summary>
    private const int ParallelElements = 1 << 16;

    /// <summary>
    /// Runs body(from, to) over [0, <paramref name="count"/>): on the calling thread for small counts, else in ranges of
    /// whole cache lines (at least 16 K elements) that the threads claim as they go (the operations are memory-bound, and
    /// one core alone does not saturate it; a thread that is descheduled holds up no more than one range).
    /// </summary>
    private static void ElementRanges(int count, Action<int, int> body)
    {
        if (count < ParallelElements || CpuParallel.Threads == 1 || CpuParallel.InParallelRegion)
        {
            body(0, count);
            return;
        }
        const int Line = 16;
        int lines = (count + Line - 1) / Line;
        CpuParallel.ForRanges(lines, (from, to) => body(from * Line, Math.Min(count, to * Line)), minRange: 1024);
    }

    private static void Unary(UnaryOp op, ReadOnlySpan<float> s, Span<float> d, float alpha)
    {
        switch (op)
        {
            case UnaryOp.Relu: TensorPrimitives.Max(s, 0f, d); return;
            case UnaryOp.Relu6: TensorPrimitives.Clamp(s, 0f, 6f, d); return;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(s, d); return;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(s, d); return;
            case UnaryOp.Exp: TensorPrimitives.Exp(s, d); return;
            case UnaryOp.Log: TensorPrimitives.Log(s, d); return;
            case UnaryOp.Neg: TensorPrimitives.Negate(s, d); return;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(s, d); return;
            case UnaryOp.Abs: TensorPrimitives.Abs(s, d); return;
            case UnaryOp.Square: TensorPrimitives.Multiply(s, s, d); return;
            case UnaryOp.Silu: Silu(s, d); return;
        }
        for (int i = 0; i < s.Length; i++)
        {
            float v = s[i];
            d[i] = op switch
            {
                UnaryOp.LeakyRelu => v > 0 ? v : alpha * v,
                UnaryOp.Elu => v > 0 ? v : alpha * (MathF.Exp(v) - 1f),
                UnaryOp.Selu => SeluScale * (v > 0 ? v : SeluAlpha * (MathF.Exp(v) - 1f)),
                UnaryOp.Gelu => 0.5f * v * (1f + Erf(v * 0.70710678f)),
                UnaryOp.Silu => v / (1f + MathF.Exp(-v)),
                UnaryOp.Hardswish => v * Math.Clamp(v + 3f, 0f, 6f) / 6f,
                UnaryOp.Hardsigmoid => Math.Clamp(v + 3f, 0f, 6f) / 6f,
                _ => throw new NotSupportedException($"Unary op {op}."),
            };
        }
    }

    /// <summary>
    /// d = s·σ(s), vectorised: σ of a stack block first, then the product, so that <paramref name="d"/> may be
    /// <paramref name="s"/> itself (the in-place activation of a fused convolution).
    /// </summary>
    private static void Silu(ReadOnlySpan<float> s, Span<float> d)
    {
        Span<float> sigma = stackalloc float[256];
        for (int i = 0; i < s.Length; i += sigma.Length)
        {
            int n = Math.Min(sigma.Length, s.Length - i);
            var block = sigma[..n];
            TensorPrimitives.Sigmoid(s.Slice(i, n), block);
            TensorPrimitives.Multiply(s.Slice(i, n), block, d.Slice(i, n));
        }
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float alpha)
    {
        float[] xa = x.CpuData, ya = y.CpuData, ga = dy.CpuData, da = dx.CpuData;
        ElementRanges(dx.Size, (from, to) =>
        {
            int n = to - from;
            UnaryBackward(op, xa.AsSpan(from, n), ya.AsSpan(from, n), ga.AsSpan(from, n), da.AsSpan(from, n), alpha);
        });
    }

    private static void UnaryBackward(UnaryOp op, ReadOnlySpan<float> xs, ReadOnlySpan<float> ys, ReadOnlySpan<float> g, Span<float> d, float alpha)
    {
        switch (op)
        {
            case UnaryOp.Relu:
                ReluBackward(xs, g, d);
                return;
            case UnaryOp.Sigmoid:
                // dx = dy · y · (1 − y)
                TensorPrimitives.Subtract(1f, ys, d);
                TensorPrimitives.Multiply(d, ys, d);
                TensorPrimitives.Multiply(d, g, d);
                return;
            case UnaryOp.Tanh:
                // dx = dy · (1 − y²)
                TensorPrimitives.Multiply(ys, ys, d);
                TensorPrimitives.Subtract(1f, d, d);
                TensorPrimitives.Multiply(d, g, d);
                return;
        }
        for (int i = 0; i < d.Length; i++)
        {
            float v = xs[i];
            float deriv = op switch
            {
                UnaryOp.Relu => v > 0 ? 1f : 0f,
                UnaryOp.Relu6 => v > 0 && v < 6 ? 1f : 0f,
                UnaryOp.LeakyRelu => v > 0 ? 1f : alpha,
                UnaryOp.Elu => v > 0 ? 1f : ys[i] + alpha,
                UnaryOp.Selu => v > 0 ? SeluScale : ys[i] + SeluScale * SeluAlpha,
                UnaryOp.Gelu => 0.5f * (1f + Erf(v * 0.70710678f)) + v * 0.39894228f * MathF.Exp(-0.5f * v * v),
                UnaryOp.Sigmoid => ys[i] * (1f - ys[i]),
                UnaryOp.Tanh => 1f - ys[i] * ys[i],
                UnaryOp.Silu => SiluDerivative(v),
                UnaryOp.Hardswish => v < -3f ? 0f : v > 3f ? 1f : (2f * v + 3f) / 6f,
                UnaryOp.Hardsigmoid => v > -3f && v < 3f ? 1f / 6f : 0f,
                UnaryOp.Exp => ys[i],
                UnaryOp.Log => 1f / v,
                UnaryOp.Neg => -1f,
                UnaryOp.Sqrt => 0.5f / ys[i],
                UnaryOp.Abs => v > 0 ? 1f : v < 0 ? -1f : 0f,
                UnaryOp.Square => 2f * v,
                _ => throw new NotSupportedException($"Unary op {op}."),
            };
            d[i] = g[i] * deriv;
        }
    }

    /// <summary>d[i] = g[i] where x[i] &gt; 0, else 0 (vectorised).</summary>
    private static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d)
    {
        int n = d.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float dr = ref MemoryMarshal.GetReference(d);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var mask = Vector512.GreaterThan(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512<float>.Zero);
                (Vector512.LoadUnsafe(ref gr, (nuint)i) & mask).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref gr, (nuint)i) & mask).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 4; i += 4)
            {
                var mask = Vector128.GreaterThan(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128<float>.Zero);
                (Vector128.LoadUnsafe(ref gr, (nuint)i) & mask).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            d[i] = x[i] > 0f ? g[i] : 0f;
        }
    }

    private static float SiluDerivative(float v)
    {
        float s = 1f / (1f + MathF.Exp(-v));
        return s * (1f + v * (1f - s));
    }

    /// <summary>Error function (Abramowitz–Stegun 7.1.26 is too coarse for gradchecks; this uses erf via double).</summary>
    private static float Erf(float v) => (float)ErfD(v);

    private static double ErfD(double x)
    {
        // W. J. Cody's rational approximations are overkill here; a high-order series/continued fraction pair
        // accurate to ~1e-15 keeps GELU exact to float precision.
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17)
                {
                    break;
                }
            }
            r = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // Continued fraction for erfc.
            double f = 0;
            for (int n = 60; n >= 1; n--)
            {
                f = n / 2.0 / (ax + f);
            }
            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        float[] aa = a.CpuData, ba = b.CpuData, ya = y.CpuData;
        if (a.Shape == b.Shape)
        {
            ElementRanges(y.Size, (from, to) => Apply(op, aa.AsSpan(from, to - from), ba.AsSpan(from, to - from), ya.AsSpan(from, to - from)));
            return;
        }
        ReadOnlySpan<float> sa = a.Span, sb = b.Span;
        Span<float> d = y.Span;
        if (sb.Length == 1)
        {
            ApplyScalarRight(op, sa, sb[0], d);
            return;
        }
        // General broadcast: adjacent axes along which both operands advance alike (contiguously, or not at all) are
        // merged, so that [N, C, H, W] · [N, C, 1, 1] is N·C rows of H·W times one number each; then the output is
        // walked row by row, each row one vector operation, the rows split between the threads when there are many.
        int rank = y.Rank;
        var ys = y.Shape.ToArray();
        var aFull = BroadcastStrides(a.Shape, rank, ys);
        var bFull = BroadcastStrides(b.Shape, rank, ys);
        var dims = new List<int>();
        var aStr = new List<int>();
        var bStr = new List<int>();
        for (int ax = 0; ax < rank; ax++)
        {
            if (ys[ax] == 1)
            {
                continue;
            }
            int last = dims.Count - 1;
            if (last >= 0 && aStr[last] == aFull[ax] * ys[ax] && bStr[last] == bFull[ax] * ys[ax])
            {
                dims[last] *= ys[ax];
                aStr[last] = aFull[ax];
                bStr[last] = bFull[ax];
            }
            else
            {
                dims.Add(ys[ax]);
                aStr.Add(aFull[ax]);
                bStr.Add(bFull[ax]);
            }
        }
        if (dims.Count == 0)
        {
            d[0] = Scalar(op, sa[0], sb[0]);
            return;
        }
        int inner = dims[^1], aIn = aStr[^1], bIn = bStr[^1], outerRank = dims.Count - 1;
        int outer = d.Length / inner;
        void Rows(int from, int to)
        {
            // The offsets of the first row of the range, then the walk over the outer axes from there.
            var idx = new int[outerRank];
            int ao = 0, bo = 0;
            for (int ax = outerRank - 1, rest = from; ax >= 0; ax--)
            {
                idx[ax] = rest % dims[ax];
                rest /= dims[ax];
                ao += idx[ax] * aStr[ax];
                bo += idx[ax] * bStr[ax];
            }
            for (int o = from; o < to; o++)
            {
                var dRow = ya.AsSpan(o * inner, inner);
                if (aIn == 1 && bIn == 1)
                {
                    Apply(op, aa.AsSpan(ao, inner), ba.AsSpan(bo, inner), dRow);
                }
                else if (aIn == 1 && bIn == 0)
                {
                    ApplyScalarRight(op, aa.AsSpan(ao, inner), ba[bo], dRow);
                }
                else if (aIn == 0 && bIn == 1)
                {
                    ApplyScalarLeft(op, aa[ao], ba.AsSpan(bo, inner), dRow);
                }
                else
                {
                    for (int i = 0; i < inner; i++)
                    {
                        dRow[i] = Scalar(op, aa[ao + i * aIn], ba[bo + i * bIn]);
                    }
                }
                for (int ax = outerRank - 1; ax >= 0; ax--)
                {
                    idx[ax]++;
                    ao += aStr[ax];
                    bo += bStr[ax];
                    if (idx[ax] < dims[ax])
                    {
                        break;
                    }
                    ao -= aStr[ax] * idx[ax];
                    bo -= bStr[ax] * idx[ax];
                    idx[ax] = 0;
                }
            }
        }
        if (d.Length < ParallelElements || CpuParallel.Threads == 1 || CpuParallel.InParallelRegion)
        {
            Rows(0, outer);
        }
        else
        {
            CpuParallel.ForRanges(outer, Rows, minRange: Math.Max(1, 16384 / inner));
        }
    }

    /// <summary>Strides of a right-aligned operand over the output shape, 0 along broadcast axes.</summary>
    private static int[] BroadcastStrides(Shape s, int rank, int[] outDims)
    {
        var strides = new int[rank];
        var own = s.Strides();
        int shift = rank - s.Rank;
        for (int i = 0; i < rank; i++)
        {
            int d = i < shift ? 1 : s[i - shift];
            strides[i] = d == 1 && outDims[i] != 1 ? 0 : (i < shift ? 0 : own[i - shift]);
        }
        return strides;
    }

    private static float Scalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        _ => a / b,
    };

    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, d); break;
            default: TensorPrimitives.Divide(a, b, d); break;
        }
    }

    private static void ApplyScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, d); break;
            default: TensorPrimitives.Divide(a, b, d); break;
        }
    }

    private static void ApplyScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, d); break;
            default: TensorPrimitives.Divide(a, b, d); break;
        }
    }
}
