using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>A view with another shape over the same memory.</summary>
internal sealed class ReshapeFunction : Function
{
    public override string Name => "Reshape";

    public static Tensor Forward(Tensor x, Shape shape)
    {
        x.Storage.AddRef();
        var y = new Tensor(shape, x.Storage);
        return Record(new ReshapeFunction(), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        dy.Storage.AddRef();
        return [new Tensor(Inputs[0].Shape, dy.Storage)];
    }

    /// <summary>ONNX Reshape; the batch dimension is copied (0) or inferred (-1), never baked in.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode("Reshape", [inputs[0], graph.ReshapeTarget(Inputs[0], output.Shape)]);
}

/// <summary>y = x with axes permuted (a copy).</summary>
internal sealed class PermuteFunction(int[] perm) : Function
{
    public override string Name => "Permute";

    public static Tensor Forward(Tensor x, int[] perm)
    {
        var dims = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            dims[i] = x.Shape[perm[i]];
        }
        var y = x.EmptyLike(new Shape(dims));
        x.Backend.Permute(x, y, perm);
        return Record(new PermuteFunction(perm), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            inverse[perm[i]] = i;
        }
        var dx = dy.EmptyLike(Inputs[0].Shape);
        dy.Backend.Permute(dy, dx, inverse);
        return [dx];
    }

    /// <summary>ONNX Transpose with the same permutation.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode("Transpose", inputs, OnnxAttribute.Ints("perm", perm.Select(p => (long)p).ToArray()));
}

/// <summary>y = x[..., start:start+length, ...] along one axis (a copy).</summary>
internal sealed class SliceFunction(int axis, int start) : Function
{
    public override string Name => "Slice";

    public static Tensor Forward(Tensor x, int axis, int start, int length)
    {
        var y = x.EmptyLike(x.Shape.With(axis, length));
        CopyAxisRange(x, start, y, 0, axis, length);
        return Record(new SliceFunction(axis, start), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        dx.Backend.Fill(dx, 0f);
        CopyAxisRange(dy, 0, dx, start, axis, dy.Shape[axis]);
        return [dx];
    }

    /// <summary>ONNX Slice of [start, start + length) on the axis.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode("Slice", [inputs[0], graph.Int64s("starts", start), graph.Int64s("ends", start + output.Shape[axis]), graph.Int64s("axes", axis)]);

    /// <summary>Copies <paramref name="length"/> positions along <paramref name="axis"/> from src (at srcStart) to dst (at dstStart).</summary>
    internal static void CopyAxisRange(Tensor src, int srcStart, Tensor dst, int dstStart, int axis, int length)
    {
        int outer = src.Shape.SizeOf(0, axis);
        int inner = src.Shape.SizeOf(axis + 1, src.Rank);
        int srcAxis = src.Shape[axis], dstAxis = dst.Shape[axis];
        src.Backend.CopyBlocks(src, srcStart * inner, srcAxis * inner, dst, dstStart * inner, dstAxis * inner, length * inner, outer);
    }
}

/// <summary>y = concatenation of the inputs along one axis.</summary>
internal sealed class ConcatFunction(int axis) : Function
{
    public override string Name => "Concat";

    public static Tensor Forward(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0)
        {
            throw new ArgumentException("Concat needs at least one tensor.");
        }
        var first = xs[0].Shape;
        axis = first.NormalizeAxis(axis);
        int total = 0;
        foreach (var t in xs)
        {
            if (t.Rank != first.Rank)
            {
                throw new ShapeMismatchException("Concat", first, t.Shape, "ranks differ");
            }
            for (int d = 0; d < first.Rank; d++)
            {
                if (d != axis && t.Shape[d] != first[d])
                {
                    throw new ShapeMismatchException("Concat", first, t.Shape, $"dimension {d} differs (concatenating along axis {axis})");
                }
            }
            total += t.Shape[axis];
        }
        var y = xs[0].EmptyLike(first.With(axis, total));
        int at = 0;
        foreach (var t in xs)
        {
            SliceFunction.CopyAxisRange(t, 0, y, at, axis, t.Shape[axis]);
            at += t.Shape[axis];
        }
        return Record(new ConcatFunction(axis), y, [.. xs]);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var grads = new Tensor?[Inputs.Length];
        int at = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            int len = Inputs[i].Shape[axis];
            if (NeedsGrad(i))
            {
                var g = dy.EmptyLike(Inputs[i].Shape);
                SliceFunction.CopyAxisRange(dy, at, g, 0, axis, len);
                grads[i] = g;
            }
            at += len;
        }
        return grads;
    }

    /// <summary>ONNX Concat on the same axis.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode("Concat", inputs, OnnxAttribute.Int("axis", axis));
}
