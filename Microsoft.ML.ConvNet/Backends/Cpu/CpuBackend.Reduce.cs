using System.Numerics.Tensors;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void SumTo(Tensor x, Tensor y)
    {
        int rank = x.Rank;
        int shift = rank - y.Rank;
        if (shift < 0)
        {
            throw new ShapeMismatchException("SumTo", x.Shape, y.Shape, "the target has more axes than the source");
        }
        var xd = x.Shape.ToArray();
        // y's strides laid over x's axes, 0 where y is broadcast.
        var yStr = new int[rank];
        var own = y.Shape.Strides();
        for (int i = 0; i < rank; i++)
        {
            int yd = i < shift ? 1 : y.Shape[i - shift];
            if (yd != 1 && yd != xd[i])
            {
                throw new ShapeMismatchException("SumTo", x.Shape, y.Shape, $"axis {i} cannot be reduced to {yd}");
            }
            yStr[i] = yd == 1 ? 0 : own[i - shift];
        }
        var src = x.Span;
        var dst = y.Span;
        dst.Clear();
        int inner = rank == 0 ? 1 : xd[^1];
        int innerStride = rank == 0 ? 0 : yStr[^1];
        int outer = src.Length / Math.Max(inner, 1);
        var idx = new int[Math.Max(rank - 1, 0)];
        int yo = 0;
        for (int o = 0; o < outer; o++)
        {
            var row = src.Slice(o * inner, inner);
            if (innerStride == 0)
            {
                dst[yo] += TensorPrimitives.Sum(row);
            }
            else
            {
                var dRow = dst.Slice(yo, inner);
                TensorPrimitives.Add(dRow, row, dRow);
            }
            for (int ax = rank - 2; ax >= 0; ax--)
            {
                idx[ax]++;
                yo += yStr[ax];
                if (idx[ax] < xd[ax])
                {
                    break;
                }
                yo -= yStr[ax] * idx[ax];
                idx[ax] = 0;
            }
        }
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor y, int outer, int axis, int inner)
    {
        var s = x.Span;
        var d = y.Span;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var row = s.Slice(o * axis, axis);
                d[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Mean => TensorPrimitives.Sum(row) / axis,
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    _ => TensorPrimitives.Min(row),
                };
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var dRow = d.Slice(o * inner, inner);
            s.Slice(o * axis * inner, inner).CopyTo(dRow);
            for (int a = 1; a < axis; a++)
            {
                var row = s.Slice((o * axis + a) * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum:
                    case ReduceOp.Mean: TensorPrimitives.Add(dRow, row, dRow); break;
                    case ReduceOp.Max: TensorPrimitives.Max(dRow, row, dRow); break;
                    default: TensorPrimitives.Min(dRow, row, dRow); break;
                }
            }
            if (op == ReduceOp.Mean)
            {
                TensorPrimitives.Multiply(dRow, 1f / axis, dRow);
            }
        }
    }

    /// <inheritdoc/>
    public void ReduceExtremumBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner)
    {
        var s = x.Span;
        var ys = y.Span;
        var g = dy.Span;
        var d = dx.Span;
        d.Clear();
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                float target = ys[o * inner + i];
                for (int a = 0; a < axis; a++)
                {
                    int at = (o * axis + a) * inner + i;
                    if (s[at] == target)
                    {
                        d[at] = g[o * inner + i];
                        break;
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void ArgMax(Tensor x, Span<int> result, int outer, int axis, int inner)
    {
        var s = x.Span;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = s[o * axis * inner + i];
                for (int a = 1; a < axis; a++)
                {
                    float v = s[(o * axis + a) * inner + i];
                    if (v > bv || float.IsNaN(v) && !float.IsNaN(bv))
                    {
                        bv = v;
                        best = a;
                    }
                }
                result[o * inner + i] = best;
            }
        }
    }

    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor y, int outer, int axis, int inner, bool log)
    {
        var s = x.Span;
        var d = y.Span;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var row = s.Slice(o * axis, axis);
                var outRow = d.Slice(o * axis, axis);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, outRow);
                if (log)
                {
                    float lse = 0f;
                    foreach (float v in outRow)
                    {
                        lse += MathF.Exp(v);
                    }
                    TensorPrimitives.Subtract(outRow, MathF.Log(lse), outRow);
                }
                else
                {
                    TensorPrimitives.Exp(outRow, outRow);
                    TensorPrimitives.Multiply(outRow, 1f / TensorPrimitives.Sum(outRow), outRow);
                }
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int b = o * axis * inner + i;
                float max = float.NegativeInfinity;
                for (int a = 0; a < axis; a++)
                {
                    max = MathF.Max(max, s[b + a * inner]);
                }
                float sum = 0f;
                for (int a = 0; a < axis; a++)
                {
                    sum += MathF.Exp(s[b + a * inner] - max);
                }
                float lse = MathF.Log(sum);
                for (int a = 0; a < axis; a++)
                {
                    float z = s[b + a * inner] - max;
                    d[b + a * inner] = log ? z - lse : MathF.Exp(z) / sum;
                }
            }
        }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner, bool log)
    {
        var ys = y.Span;
        var g = dy.Span;
        var d = dx.Span;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int b = o * axis * inner + i;
                float acc = 0f;
                for (int a = 0; a < axis; a++)
                {
                    int at = b + a * inner;
                    acc += log ? g[at] : g[at] * ys[at];
                }
                for (int a = 0; a < axis; a++)
                {
                    int at = b + a * inner;
                    // log-softmax: dx = dy − softmax·Σdy;  softmax: dx = y·(dy − Σ dy·y)
                    d[at] = log ? g[at] - MathF.Exp(ys[at]) * acc : ys[at] * (g[at] - acc);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void GatherColumns(Tensor x, ReadOnlySpan<int> index, Tensor y)
    {
        int n = x.Shape[0], c = x.Shape[1];
        var s = x.Span;
        var d = y.Span;
        for (int i = 0; i < n; i++)
        {
            if ((uint)index[i] >= (uint)c)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"Class index {index[i]} at row {i} is outside [0, {c}).");
            }
            d[i] = s[i * c + index[i]];
        }
    }

    /// <inheritdoc/>
    public void ScatterColumns(Tensor dy, ReadOnlySpan<int> index, Tensor dx)
    {
        int n = dx.Shape[0], c = dx.Shape[1];
        var g = dy.Span;
        var d = dx.Span;
        d.Clear();
        for (int i = 0; i < n; i++)
        {
            d[i * c + index[i]] = g[i];
        }
    }
}
