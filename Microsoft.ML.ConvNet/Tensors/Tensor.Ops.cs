using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Backends;

namespace Microsoft.ML.ConvNet.Tensors;

public sealed partial class Tensor
{
    // ---- arithmetic (broadcasting) ----------------------------------------------------------------

    /// <summary>this + other, broadcasting.</summary>
    public Tensor Add(Tensor other) => BinaryFunction.Forward(BinaryOp.Add, this, other);

    /// <summary>this − other, broadcasting.</summary>
    public Tensor Sub(Tensor other) => BinaryFunction.Forward(BinaryOp.Sub, this, other);

    /// <summary>this · other elementwise, broadcasting.</summary>
    public Tensor Mul(Tensor other) => BinaryFunction.Forward(BinaryOp.Mul, this, other);

    /// <summary>this / other elementwise, broadcasting.</summary>
    public Tensor Div(Tensor other) => BinaryFunction.Forward(BinaryOp.Div, this, other);

    /// <summary>this · scale + shift.</summary>
    public Tensor Affine(float scale, float shift) => AffineFunction.Forward(this, scale, shift);

    /// <summary>−this.</summary>
    public Tensor Neg() => Affine(-1f, 0f);

    /// <summary>e^this.</summary>
    public Tensor Exp() => UnaryFunction.Forward(UnaryOp.Exp, this);

    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => UnaryFunction.Forward(UnaryOp.Log, this);

    /// <summary>Square root.</summary>
    public Tensor Sqrt() => UnaryFunction.Forward(UnaryOp.Sqrt, this);

    /// <summary>Absolute value.</summary>
    public Tensor Abs() => UnaryFunction.Forward(UnaryOp.Abs, this);

    /// <summary>Elementwise square.</summary>
    public Tensor Square() => UnaryFunction.Forward(UnaryOp.Square, this);

    /// <summary>Broadcasting addition.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    /// <summary>Broadcasting subtraction.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);

    /// <summary>Broadcasting elementwise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);

    /// <summary>Broadcasting elementwise division.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, float b) => a.Affine(1f, b);

    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, float b) => a.Affine(1f, -b);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, float b) => a.Affine(b, 0f);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(float a, Tensor b) => b.Affine(a, 0f);

    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, float b) => a.Affine(1f / b, 0f);

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    // ---- shape ------------------------------------------------------------------------------------

    /// <summary>A view with a new shape over the same memory; one dimension may be −1 (inferred).</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var dims = (int[])shape.Clone();
        int infer = Array.IndexOf(dims, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                if (i != infer)
                {
                    known *= dims[i];
                }
            }
            if (known == 0 || Size % known != 0)
            {
                throw new ShapeMismatchException("Reshape", Shape, new Shape(shape.Select(d => Math.Max(d, 0)).ToArray()), "the element counts do not divide");
            }
            dims[infer] = Size / known;
        }
        var target = new Shape(dims);
        if (target.Size != Size)
        {
            throw new ShapeMismatchException("Reshape", Shape, target, $"{Size} elements cannot take a shape of {target.Size}");
        }
        return ReshapeFunction.Forward(this, target);
    }

    /// <summary>Same as <see cref="Reshape"/> (always a view here).</summary>
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Flattens axes from <paramref name="startAxis"/> on into one (default keeps the batch axis).</summary>
    public Tensor Flatten(int startAxis = 1)
    {
        startAxis = Rank == 0 ? 0 : Shape.NormalizeAxis(startAxis);
        var dims = new int[startAxis + 1];
        for (int i = 0; i < startAxis; i++)
        {
            dims[i] = Shape[i];
        }
        dims[startAxis] = Shape.SizeOf(startAxis, Rank);
        return Reshape(dims);
    }

    /// <summary>Reorders the axes: result axis i is this tensor's axis perm[i] (a copy).</summary>
    public Tensor Permute(params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        if (perm.Length != Rank || perm.Select(Shape.NormalizeAxis).Distinct().Count() != Rank)
        {
            throw new ArgumentException($"Permute: [{string.Join(", ", perm)}] is not a permutation of the axes of {Shape}.");
        }
        return PermuteFunction.Forward(this, perm.Select(Shape.NormalizeAxis).ToArray());
    }

    /// <summary>Swaps two axes (a copy).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var perm = Enumerable.Range(0, Rank).ToArray();
        (perm[Shape.NormalizeAxis(axis0)], perm[Shape.NormalizeAxis(axis1)]) = (perm[Shape.NormalizeAxis(axis1)], perm[Shape.NormalizeAxis(axis0)]);
        return Permute(perm);
    }

    /// <summary>The range [start, start+length) along <paramref name="axis"/> (a copy).</summary>
    public Tensor Slice(int axis, int start, int length)
    {
        axis = Shape.NormalizeAxis(axis);
        if (start < 0 || length < 0 || start + length > Shape[axis])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: [{start}, {start + length}) is outside axis {axis} of {Shape}.");
        }
        return SliceFunction.Forward(this, axis, start, length);
    }

    /// <summary>Rows [start, start+count) of the batch axis.</summary>
    public Tensor SliceBatch(int start, int count) => Slice(0, start, count);

    /// <summary>Concatenates tensors along <paramref name="axis"/> (channel concat for Inception and DenseNet is axis 1).</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return ConcatFunction.Forward(tensors, axis);
    }

    /// <summary>A copy (recorded: gradients flow through).</summary>
    public Tensor Clone() => Affine(1f, 0f);

    // ---- reductions -------------------------------------------------------------------------------

    /// <summary>Sum of all elements (a scalar).</summary>
    public Tensor Sum() => ReduceFunction.Forward(ReduceOp.Sum, this, 1, Size, 1, new Shape());

    /// <summary>Mean of all elements (a scalar).</summary>
    public Tensor Mean() => ReduceFunction.Forward(ReduceOp.Mean, this, 1, Size, 1, new Shape());

    /// <summary>Sum along an axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Reduce(ReduceOp.Sum, axis, keepDim);

    /// <summary>Mean along an axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Reduce(ReduceOp.Mean, axis, keepDim);

    /// <summary>Maximum along an axis (the gradient goes to the first maximum).</summary>
    public Tensor Max(int axis, bool keepDim = false) => Reduce(ReduceOp.Max, axis, keepDim);

    /// <summary>Minimum along an axis.</summary>
    public Tensor Min(int axis, bool keepDim = false) => Reduce(ReduceOp.Min, axis, keepDim);

    /// <summary>Index of the maximum along an axis, for each position of the other axes (row-major).</summary>
    public int[] ArgMax(int axis = -1)
    {
        axis = Shape.NormalizeAxis(axis);
        int outer = Shape.SizeOf(0, axis), inner = Shape.SizeOf(axis + 1, Rank);
        var result = new int[outer * inner];
        Backend.ArgMax(this, result, outer, Shape[axis], inner);
        return result;
    }

    private Tensor Reduce(ReduceOp op, int axis, bool keepDim)
    {
        axis = Shape.NormalizeAxis(axis);
        int outer = Shape.SizeOf(0, axis), inner = Shape.SizeOf(axis + 1, Rank);
        var dims = Shape.ToArray().ToList();
        if (keepDim)
        {
            dims[axis] = 1;
        }
        else
        {
            dims.RemoveAt(axis);
        }
        return ReduceFunction.Forward(op, this, outer, Shape[axis], inner, new Shape([.. dims]));
    }

    // ---- linear algebra ---------------------------------------------------------------------------

    /// <summary>Matrix product: [m, k]·[k, n] → [m, n], or batched [B, m, k]·[B, k, n] → [B, m, n].</summary>
    public Tensor MatMul(Tensor other) => MatMulFunction.Forward(this, other);
}
