namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// The operators of shape arithmetic on <see cref="HostTensor"/>s (Shape, Gather, Concat, Slice, Unsqueeze, ...), so
/// that the subgraphs exporters write to compute a Reshape target fold to constants instead of running as tensors.
/// </summary>
internal static class HostOps
{
    /// <summary>Row-major strides of <paramref name="dims"/>.</summary>
    public static long[] Strides(long[] dims)
    {
        var s = new long[dims.Length];
        long acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    public static long Size(long[] dims) => dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>The largest host value computed here, in elements (shape arithmetic needs few).</summary>
    private const long MaxElements = 1 << 26;

    /// <summary>Refuses a result of more than <see cref="MaxElements"/> values (or a negative dimension) before allocating it.</summary>
    public static long CheckedSize(long[] dims, string what)
    {
        long n = 1;
        foreach (long d in dims)
        {
            if (d < 0 || (d > 0 && n > MaxElements / d))
            {
                throw new ArgumentException($"{what}: a constant of shape [{string.Join(", ", dims)}] is too large to compute on the host.");
            }
            n *= d;
        }
        return n;
    }

    public static int Axis(long axis, int rank, string what)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw new ArgumentException($"{what}: axis {axis} is out of range for rank {rank}.");
        }
        return (int)a;
    }

    /// <summary>NumPy broadcasting of two dimension lists.</summary>
    public static long[] Broadcast(long[] a, long[] b, string what)
    {
        int rank = Math.Max(a.Length, b.Length);
        var d = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long x = i - rank + a.Length >= 0 ? a[i - rank + a.Length] : 1;
            long y = i - rank + b.Length >= 0 ? b[i - rank + b.Length] : 1;
            if (x != y && x != 1 && y != 1)
            {
                throw new ArgumentException($"{what}: shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast.");
            }
            d[i] = x == 1 ? y : x;
        }
        return d;
    }

    /// <summary>For each element of <paramref name="outDims"/>, the index of the element of <paramref name="dims"/> that broadcasts to it.</summary>
    public static int[] BroadcastIndex(long[] dims, long[] outDims)
    {
        long n = CheckedSize(outDims, "Broadcast");
        var index = new int[n];
        var inStrides = Strides(dims);
        var outStrides = Strides(outDims);
        int offset = outDims.Length - dims.Length;
        for (long i = 0; i < n; i++)
        {
            long src = 0, rest = i;
            for (int k = 0; k < outDims.Length; k++)
            {
                long c = rest / outStrides[k];
                rest %= outStrides[k];
                int j = k - offset;
                if (j >= 0 && dims[j] != 1)
                {
                    src += c * inStrides[j];
                }
            }
            index[i] = (int)src;
        }
        return index;
    }

    /// <summary>Elementwise Add, Sub, Mul, Div, Equal (and friends) with broadcasting.</summary>
    public static HostTensor Binary(string op, HostTensor a, HostTensor b)
    {
        var dims = Broadcast(a.Dims, b.Dims, op);
        var ia = BroadcastIndex(a.Dims, dims);
        var ib = BroadcastIndex(b.Dims, dims);
        if (op is "Equal" or "Greater" or "Less")
        {
            var r = new long[ia.Length];
            bool f = a.IsFloat || b.IsFloat;
            var fa = f ? a.AsFloats() : null;
            var fb = f ? b.AsFloats() : null;
            for (int i = 0; i < r.Length; i++)
            {
                int c = f ? fa![ia[i]].CompareTo(fb![ib[i]]) : a.Ints![ia[i]].CompareTo(b.Ints![ib[i]]);
                r[i] = (op == "Equal" ? c == 0 : op == "Greater" ? c > 0 : c < 0) ? 1 : 0;
            }
            return new HostTensor(dims, r, (int)OnnxElementType.Bool);
        }
        if (a.IsFloat || b.IsFloat)
        {
            var fa = a.AsFloats();
            var fb = b.AsFloats();
            var r = new float[ia.Length];
            for (int i = 0; i < r.Length; i++)
            {
                float x = fa[ia[i]], y = fb[ib[i]];
                r[i] = op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, "Div" => x / y, "Max" => Math.Max(x, y), "Min" => Math.Min(x, y), _ => throw new NotSupportedException(op) };
            }
            return new HostTensor(dims, r);
        }
        var la = a.Ints!;
        var lb = b.Ints!;
        var l = new long[ia.Length];
        for (int i = 0; i < l.Length; i++)
        {
            long x = la[ia[i]], y = lb[ib[i]];
            if (op == "Div" && y == 0)
            {
                throw new DivideByZeroException("Div: integer division by zero in a constant.");
            }
            l[i] = op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, "Div" => x / y, "Max" => Math.Max(x, y), "Min" => Math.Min(x, y), _ => throw new NotSupportedException(op) };
        }
        return new HostTensor(dims, l, a.ElementType);
    }

    public static HostTensor Gather(HostTensor data, HostTensor indices, long axisAttr)
    {
        int axis = Axis(axisAttr, data.Dims.Length, "Gather");
        long n = data.Dims[axis];
        var idx = indices.AsLongs().Select(i => i < 0 ? i + n : i).ToArray();
        if (idx.Any(i => i < 0 || i >= n))
        {
            throw new ArgumentException($"Gather: an index is out of range for an axis of size {n}.");
        }
        long outer = Size(data.Dims[..axis]);
        long inner = Size(data.Dims[(axis + 1)..]);
        long[] dims = [.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]];
        CheckedSize(dims, "Gather");
        var pick = new List<int>();
        for (long o = 0; o < outer; o++)
        {
            foreach (long i in idx)
            {
                for (long k = 0; k < inner; k++)
                {
                    pick.Add((int)((o * n + i) * inner + k));
                }
            }
        }
        return data.Pick(dims, pick);
    }

    public static HostTensor Concat(IReadOnlyList<HostTensor> parts, long axisAttr)
    {
        int rank = parts[0].Dims.Length;
        int axis = Axis(axisAttr, rank, "Concat");
        var dims = (long[])parts[0].Dims.Clone();
        dims[axis] = parts.Sum(p => p.Dims.Length == rank ? p.Dims[axis] : throw new ArgumentException("Concat: inputs differ in rank."));
        CheckedSize(dims, "Concat");
        long outer = Size(dims[..axis]);
        bool f = parts.Any(p => p.IsFloat);
        var fl = new List<float>();
        var il = new List<long>();
        for (long o = 0; o < outer; o++)
        {
            foreach (var p in parts)
            {
                long block = Size(p.Dims[axis..]);
                for (long k = 0; k < block; k++)
                {
                    int i = (int)(o * block + k);
                    if (f)
                    {
                        fl.Add(p.AsFloats()[i]);
                    }
                    else
                    {
                        il.Add(p.Ints![i]);
                    }
                }
            }
        }
        return f ? new HostTensor(dims, [.. fl]) : new HostTensor(dims, [.. il], parts[0].ElementType);
    }

    /// <summary>ONNX Slice semantics (negative indices, clamping, any non-zero step) on one tensor.</summary>
    public static HostTensor Slice(HostTensor data, long[] starts, long[] ends, long[] axes, long[] steps)
    {
        int rank = data.Dims.Length;
        var begin = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        var count = (long[])data.Dims.Clone();
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = Axis(axes[k], rank, "Slice");
            var (b, c) = SliceRange(data.Dims[axis], starts[k], ends[k], steps[k]);
            begin[axis] = b;
            count[axis] = c;
            step[axis] = steps[k];
        }
        var inStrides = Strides(data.Dims);
        var outStrides = Strides(count);
        long n = CheckedSize(count, "Slice");
        var pick = new int[n];
        for (long i = 0; i < n; i++)
        {
            long rest = i, src = 0;
            for (int a = 0; a < rank; a++)
            {
                long c = rest / outStrides[a];
                rest %= outStrides[a];
                src += (begin[a] + c * step[a]) * inStrides[a];
            }
            pick[i] = (int)src;
        }
        return data.Pick(count, pick);
    }

    /// <summary>The first index and the count of an ONNX slice of an axis of <paramref name="size"/>.</summary>
    public static (long Begin, long Count) SliceRange(long size, long start, long end, long step)
    {
        if (step == 0)
        {
            throw new ArgumentException("Slice: a step is 0.");
        }
        start = start < 0 ? start + size : start;
        end = end < 0 ? end + size : end;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, size);
            end = Math.Clamp(end, 0, size);
            return (start, Math.Max(0, (end - start + step - 1) / step));
        }
        start = Math.Clamp(start, 0, size - 1);
        end = Math.Clamp(end, -1, size - 1);
        return (start, Math.Max(0, (start - end + (-step) - 1) / -step));
    }

    /// <summary>The dimensions a Reshape to <paramref name="shape"/> gives (0 copies the input's, -1 is inferred).</summary>
    public static long[] ReshapeDims(long[] input, long[] shape, bool allowZero)
    {
        var dims = (long[])shape.Clone();
        int infer = -1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 0 && !allowZero)
            {
                dims[i] = i < input.Length ? input[i] : throw new ArgumentException($"Reshape: 0 at position {i} has no input dimension to copy.");
            }
            else if (dims[i] == -1)
            {
                infer = infer < 0 ? i : throw new ArgumentException("Reshape: more than one -1 in the target shape.");
            }
            else if (dims[i] < 0)
            {
                throw new ArgumentException($"Reshape: invalid target dimension {dims[i]}.");
            }
        }
        long size = Size(input);
        if (infer >= 0)
        {
            long known = dims.Where((_, i) => i != infer).Aggregate(1L, (a, d) => a * d);
            if (known == 0 || size % known != 0)
            {
                throw new ArgumentException($"Reshape: [{string.Join(", ", input)}] cannot take the shape [{string.Join(", ", shape)}].");
            }
            dims[infer] = size / known;
        }
        if (Size(dims) != size)
        {
            throw new ArgumentException($"Reshape: [{string.Join(", ", input)}] ({size} values) cannot take the shape [{string.Join(", ", dims)}].");
        }
        return dims;
    }

    /// <summary>The dimensions after inserting 1s at <paramref name="axes"/> (of the output rank).</summary>
    public static long[] UnsqueezeDims(long[] dims, long[] axes)
    {
        int rank = dims.Length + axes.Length;
        var set = axes.Select(a => Axis(a, rank, "Unsqueeze")).ToHashSet();
        var result = new long[rank];
        int j = 0;
        for (int i = 0; i < rank; i++)
        {
            result[i] = set.Contains(i) ? 1 : dims[j++];
        }
        return result;
    }

    /// <summary>The dimensions after removing <paramref name="axes"/> (all 1s when null).</summary>
    public static long[] SqueezeDims(long[] dims, long[]? axes)
    {
        if (axes == null || axes.Length == 0)
        {
            return dims.Where(d => d != 1).ToArray();
        }
        var set = axes.Select(a => Axis(a, dims.Length, "Squeeze")).ToHashSet();
        if (set.Any(a => dims[a] != 1))
        {
            throw new ArgumentException($"Squeeze: an axis of [{string.Join(", ", dims)}] to remove is not 1.");
        }
        return dims.Where((_, i) => !set.Contains(i)).ToArray();
    }

    public static HostTensor Cast(HostTensor x, int to)
    {
        return to switch
        {
            1 or 11 => new HostTensor(x.Dims, x.AsFloats()),
            9 => new HostTensor(x.Dims, x.IsFloat ? x.Floats!.Select(f => f != 0 ? 1L : 0L).ToArray() : x.Ints!.Select(i => i != 0 ? 1L : 0L).ToArray(), to),
            2 or 3 or 4 or 5 or 6 or 7 or 12 or 13 => new HostTensor(x.Dims, x.AsLongs(), to),
            _ => throw new NotSupportedException($"Cast to element type {to}"),
        };
    }
}
