using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// Elementwise kernels (elementwise.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor y, float alpha)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Int((int)op);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Float(alpha);
        a.Long(x.Size);
        Launch(KernelNames.Unary, x.Size, a);
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float alpha)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Int((int)op);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Ptr(Ptr(dy));
        a.Ptr(Ptr(dx));
        a.Float(alpha);
        a.Long(x.Size);
        Launch(KernelNames.UnaryBackward, x.Size, a);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var k = new KernelArgs(stackalloc byte[160]);
        k.Int((int)op);
        k.Ptr(Ptr(a));
        k.Ptr(Ptr(b));
        k.Ptr(Ptr(y));
        if (a.Shape == b.Shape)
        {
            k.Long(y.Size);
            Launch(KernelNames.BinarySame, y.Size, k);
            return;
        }
        if (b.Size == 1 && a.Shape == y.Shape)
        {
            k.Long(y.Size);
            Launch(KernelNames.BinaryScalar, y.Size, k);
            return;
        }
        int rank = y.Rank;
        var yd = y.Shape.Dims;
        k.Int(rank);
        k.Dims(yd);
        k.Dims(BroadcastStrides(a.Shape, yd));
        k.Dims(BroadcastStrides(b.Shape, yd));
        k.Long(y.Size);
        Launch(KernelNames.BinaryBroadcast, y.Size, k);
    }

    /// <inheritdoc/>
    public void Affine(Tensor x, Tensor y, float scale, float shift)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Float(scale);
        a.Float(shift);
        a.Long(x.Size);
        Launch(KernelNames.Affine, x.Size, a);
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Float(alpha);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Long(x.Size);
        Launch(KernelNames.Axpy, x.Size, a);
    }

    /// <summary>The strides of <paramref name="s"/> laid over the (right-aligned) output dims, 0 along broadcast axes.</summary>
    private static int[] BroadcastStrides(Shape s, ReadOnlySpan<int> outDims)
    {
        int rank = outDims.Length;
        int shift = rank - s.Rank;
        var own = s.Strides();
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = i < shift ? 1 : s[i - shift];
            result[i] = d == 1 ? 0 : own[i - shift];
        }
        return result;
    }
}
