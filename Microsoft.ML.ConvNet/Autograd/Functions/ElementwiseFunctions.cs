using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>y = a op b with broadcasting; gradients are summed back to each input's shape.</summary>
internal sealed class BinaryFunction(BinaryOp op) : Function
{
    public override string Name => op.ToString();

    /// <summary>a, b: any broadcast-compatible shapes → y: the broadcast shape.</summary>
    public static Tensor Forward(BinaryOp op, Tensor a, Tensor b)
    {
        var shape = Shape.Broadcast(a.Shape, b.Shape, op.ToString());
        var y = a.EmptyLike(shape);
        a.Backend.Binary(op, a, b, y);
        return Record(new BinaryFunction(op), y, a, b);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        Tensor a = Inputs[0], b = Inputs[1];
        Tensor? da = null, db = null;
        switch (op)
        {
            case BinaryOp.Add:
                da = NeedsGrad(0) ? ReduceTo(dy, a.Shape) : null;
                db = NeedsGrad(1) ? ReduceTo(dy, b.Shape) : null;
                break;
            case BinaryOp.Sub:
                da = NeedsGrad(0) ? ReduceTo(dy, a.Shape) : null;
                if (NeedsGrad(1))
                {
                    // ReduceTo hands back dy itself when no reduction is needed, and dy may also be da:
                    // negate into a fresh tensor then, never in place.
                    var reduced = ReduceTo(dy, b.Shape);
                    db = ReferenceEquals(reduced, dy) ? dy.EmptyLike() : reduced;
                    db.Backend.Affine(reduced, db, -1f, 0f);
                }
                break;
            case BinaryOp.Mul:
                da = NeedsGrad(0) ? ProductReducedTo(dy, b, a.Shape, BinaryOp.Mul) : null;
                db = NeedsGrad(1) ? ProductReducedTo(dy, a, b.Shape, BinaryOp.Mul) : null;
                break;
            case BinaryOp.Div:
                da = NeedsGrad(0) ? ProductReducedTo(dy, b, a.Shape, BinaryOp.Div) : null;
                if (NeedsGrad(1))
                {
                    // d(a/b)/db = -a/b²
                    using var t1 = Raw(BinaryOp.Div, a, b);
                    using var t2 = Raw(BinaryOp.Div, t1, b);
                    db = ProductReducedTo(dy, t2, b.Shape, BinaryOp.Mul);
                    db.Backend.Affine(db, db, -1f, 0f);
                }
                break;
        }
        return [da, db];
    }

    /// <summary>ONNX Add, Sub, Mul or Div (the same NumPy-style broadcasting).</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output) => graph.AddNode(op.ToString(), inputs);

    private static Tensor Raw(BinaryOp op, Tensor a, Tensor b)
    {
        var y = a.EmptyLike(Shape.Broadcast(a.Shape, b.Shape, op.ToString()));
        a.Backend.Binary(op, a, b, y);
        return y;
    }

    private static Tensor ProductReducedTo(Tensor dy, Tensor other, Shape target, BinaryOp op)
    {
        var p = Raw(op, dy, other);
        if (p.Shape == target)
        {
            return p;
        }
        using (p)
        {
            return ReduceTo(p, target);
        }
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="target"/>; returns the same tensor when no reduction is needed.</summary>
    internal static Tensor ReduceTo(Tensor g, Shape target)
    {
        if (g.Shape == target)
        {
            return g;
        }
        var r = g.EmptyLike(target);
        g.Backend.SumTo(g, r);
        return r;
    }
}

/// <summary>y = op(x) for the activations and elementwise math functions.</summary>
internal sealed class UnaryFunction(UnaryOp op, float alpha) : Function
{
    private Tensor? _y;

    public override string Name => op.ToString();

    /// <summary>x: any shape → y: same shape.</summary>
    public static Tensor Forward(UnaryOp op, Tensor x, float alpha = 0f)
    {
        var y = x.EmptyLike();
        x.Backend.Unary(op, x, y, alpha);
        return Record(new UnaryFunction(op, alpha) { _y = y }, y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        x.Backend.UnaryBackward(op, x, _y!, dy, dx, alpha);
        return [dx];
    }

    /// <summary>
    /// The ONNX operator of the same name where opset 17 has one; ReLU6 is Clip(0, 6), SiLU x·Sigmoid(x), GELU
    /// 0.5·x·(1 + Erf(x/√2)) and Square x·x.
    /// </summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        string x = inputs[0];
        return op switch
        {
            UnaryOp.Relu => graph.AddNode("Relu", inputs),
            UnaryOp.Relu6 => graph.AddNode("Clip", [x, graph.Scalar(0f), graph.Scalar(6f)]),
            UnaryOp.LeakyRelu => graph.AddNode("LeakyRelu", inputs, OnnxAttribute.Float("alpha", alpha)),
            UnaryOp.Elu => graph.AddNode("Elu", inputs, OnnxAttribute.Float("alpha", alpha)),
            UnaryOp.Selu => graph.AddNode("Selu", inputs),
            UnaryOp.Gelu => graph.AddNode("Mul", [graph.AddNode("Mul", [x, graph.Scalar(0.5f)]),
                graph.AddNode("Add", [graph.AddNode("Erf", [graph.AddNode("Mul", [x, graph.Scalar(MathF.Sqrt(0.5f))])]), graph.Scalar(1f)])]),
            UnaryOp.Sigmoid => graph.AddNode("Sigmoid", inputs),
            UnaryOp.Tanh => graph.AddNode("Tanh", inputs),
            UnaryOp.Silu => graph.AddNode("Mul", [x, graph.AddNode("Sigmoid", inputs)]),
            UnaryOp.Hardswish => graph.AddNode("HardSwish", inputs),
            UnaryOp.Hardsigmoid => graph.AddNode("HardSigmoid", inputs, OnnxAttribute.Float("alpha", 1f / 6f), OnnxAttribute.Float("beta", 0.5f)),
            UnaryOp.Exp => graph.AddNode("Exp", inputs),
            UnaryOp.Log => graph.AddNode("Log", inputs),
            UnaryOp.Neg => graph.AddNode("Neg", inputs),
            UnaryOp.Sqrt => graph.AddNode("Sqrt", inputs),
            UnaryOp.Abs => graph.AddNode("Abs", inputs),
            UnaryOp.Square => graph.AddNode("Mul", [x, x]),
            _ => throw graph.Unsupported(Name),
        };
    }
}

/// <summary>y = x * scale + shift.</summary>
internal sealed class AffineFunction(float scale, float shift) : Function
{
    public override string Name => "Affine";

    public static Tensor Forward(Tensor x, float scale, float shift)
    {
        var y = x.EmptyLike();
        x.Backend.Affine(x, y, scale, shift);
        return Record(new AffineFunction(scale, shift), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var dx = dy.EmptyLike();
        dy.Backend.Affine(dy, dx, scale, 0f);
        return [dx];
    }

    /// <summary>ONNX Mul by the scale and Add of the shift (each left out when it is the identity).</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        string y = inputs[0];
        if (scale == -1f && shift == 0f)
        {
            return graph.AddNode("Neg", inputs);
        }
        if (scale != 1f)
        {
            y = graph.AddNode("Mul", [y, graph.Scalar(scale)]);
        }
        if (shift != 0f)
        {
            y = graph.AddNode("Add", [y, graph.Scalar(shift)]);
        }
        return y == inputs[0] ? graph.AddNode("Identity", inputs) : y;
    }
}
