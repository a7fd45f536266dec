using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>Sum, mean, max or min of x viewed as [outer, axis, inner] along the middle axis.</summary>
internal sealed class ReduceFunction(ReduceOp op, int outer, int axis, int inner) : Function
{
    private Tensor? _y;

    public override string Name => op.ToString();

    public static Tensor Forward(ReduceOp op, Tensor x, int outer, int axis, int inner, Shape outShape)
    {
        if (axis == 0)
        {
            throw new ShapeMismatchException($"{op}: cannot reduce an empty axis of {x.Shape}.");
        }
        var y = x.EmptyLike(outShape);
        x.Backend.Reduce(op, x, y, outer, axis, inner);
        return Record(new ReduceFunction(op, outer, axis, inner) { _y = y }, y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        if (op is ReduceOp.Max or ReduceOp.Min)
        {
            x.Backend.ReduceExtremumBackward(x, _y!, dy, dx, outer, axis, inner);
            return [dx];
        }
        // Broadcast dy [outer, 1, inner] over the reduced axis.
        for (int o = 0; o < outer; o++)
        {
            x.Backend.CopyBlocks(dy, o * inner, 0, dx, o * axis * inner, inner, inner, axis);
        }
        if (op == ReduceOp.Mean)
        {
            x.Backend.Affine(dx, dx, 1f / axis, 0f);
        }
        return [dx];
    }

    /// <summary>
    /// ONNX ReduceSum/Mean/Max/Min over the input axes that make up the reduced middle of [outer, axis, inner]
    /// (keepdims), then a Reshape to the output shape when the kept axes differ. The batch axis of a batch-dependent
    /// input is never taken for a reduced one.
    /// </summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        var shape = Inputs[0].Shape;
        int first = graph.DynamicBatch && graph.BatchDependent.Contains(Inputs[0]) ? 1 : 0;
        while (first < shape.Rank && shape.SizeOf(0, first) != outer)
        {
            first++;
        }
        int last = first;
        while (last < shape.Rank && shape.SizeOf(first, last) != axis)
        {
            last++;
        }
        if (last == first)
        {
            return graph.AddNode("Reshape", [inputs[0], graph.ReshapeTarget(Inputs[0], output.Shape)]);
        }
        var axes = Enumerable.Range(first, last - first).Select(a => (long)a).ToArray();
        var keep = OnnxAttribute.Int("keepdims", 1);
        var y = op == ReduceOp.Sum
            ? graph.AddNode("ReduceSum", [inputs[0], graph.Int64s("axes", axes)], keep)
            : graph.AddNode("Reduce" + op, inputs, keep, OnnxAttribute.Ints("axes", axes));
        var kept = shape.ToArray();
        Array.Fill(kept, 1, first, last - first);
        return new Shape(kept) == output.Shape ? y : graph.AddNode("Reshape", [y, graph.ReshapeTarget(Inputs[0], output.Shape)]);
    }
}

/// <summary>Matrix product of [.., m, k] and [.., k, n] (2-D, or batched 3-D with equal batch sizes).</summary>
internal sealed class MatMulFunction : Function
{
    public override string Name => "MatMul";

    public static Tensor Forward(Tensor a, Tensor b)
    {
        bool batched = a.Rank == 3 && b.Rank == 3 && a.Shape[0] == b.Shape[0];
        if (!(a.Rank == 2 && b.Rank == 2 || batched) || a.Shape[-1] != b.Shape[-2])
        {
            throw new ShapeMismatchException("MatMul", a.Shape, b.Shape, "expected [m, k]·[k, n] or [B, m, k]·[B, k, n]");
        }
        int batch = batched ? a.Shape[0] : 1;
        int m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
        var y = a.EmptyLike(batched ? new Shape(batch, m, n) : new Shape(m, n));
        for (int i = 0; i < batch; i++)
        {
            a.Backend.Gemm(false, false, m, n, k, 1f, a, i * m * k, k, b, i * k * n, n, 0f, y, i * m * n, n);
        }
        return Record(new MatMulFunction(), y, a, b);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        Tensor a = Inputs[0], b = Inputs[1];
        int batch = a.Rank == 3 ? a.Shape[0] : 1;
        int m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
        Tensor? da = null, db = null;
        if (NeedsGrad(0))
        {
            da = a.EmptyLike();
            for (int i = 0; i < batch; i++)
            {
                a.Backend.Gemm(false, true, m, k, n, 1f, dy, i * m * n, n, b, i * k * n, n, 0f, da, i * m * k, k);
            }
        }
        if (NeedsGrad(1))
        {
            db = b.EmptyLike();
            for (int i = 0; i < batch; i++)
            {
                a.Backend.Gemm(true, false, k, n, m, 1f, a, i * m * k, k, dy, i * m * n, n, 0f, db, i * k * n, n);
            }
        }
        return [da, db];
    }

    /// <summary>ONNX MatMul.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output) => graph.AddNode("MatMul", inputs);
}
