using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// Reductions (reduce.cu), softmax (cuDNN), column gather/scatter.
public sealed partial class CudaBackend
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
        var xs = x.Shape.Strides();
        Span<int> keptDims = stackalloc int[rank], keptStride = stackalloc int[rank], redDims = stackalloc int[rank], redStride = stackalloc int[rank];
        long redCount = 1;
        for (int i = 0; i < rank; i++)
        {
            int xd = x.Shape[i];
            int yd = i < shift ? 1 : y.Shape[i - shift];
            if (yd != 1 && yd != xd)
            {
                throw new ShapeMismatchException("SumTo", x.Shape, y.Shape, $"axis {i} cannot be reduced to {yd}");
            }
            bool reduced = yd == 1;
            keptDims[i] = reduced ? 1 : xd;
            keptStride[i] = reduced ? 0 : xs[i];
            redDims[i] = reduced ? xd : 1;
            redStride[i] = reduced ? xs[i] : 0;
            redCount *= reduced ? xd : 1;
        }
        if (y.Size == 0)
        {
            return;
        }
        var a = new KernelArgs(stackalloc byte[192]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Int(rank);
        a.Dims(keptDims);
        a.Dims(keptStride);
        a.Dims(redDims);
        a.Dims(redStride);
        a.Long(redCount);
        a.Long(y.Size);
        LaunchBlocks(KernelNames.SumTo, y.Size, ReductionThreads(redCount), a);
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor y, int outer, int axis, int inner)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Int((int)op);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Long(outer);
        a.Long(axis);
        a.Long(inner);
        LaunchBlocks(KernelNames.ReduceAxis, (long)outer * inner, ReductionThreads(axis), a);
    }

    /// <inheritdoc/>
    public void ReduceExtremumBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner)
    {
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Ptr(Ptr(dy));
        a.Ptr(Ptr(dx));
        a.Long(outer);
        a.Long(axis);
        a.Long(inner);
        Launch(KernelNames.ReduceExtremumBackward, (long)outer * inner, a);
    }

    /// <inheritdoc/>
    public unsafe void ArgMax(Tensor x, Span<int> result, int outer, int axis, int inner)
    {
        if (result.Length != outer * inner)
        {
            throw new ArgumentException($"ArgMax: the result holds {result.Length} indices, expected {outer * inner}.");
        }
        using var indices = Scratch(Math.Max(result.Length, 1) * 4L);
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(x));
        a.Ptr(indices.Pointer);
        a.Long(outer);
        a.Long(axis);
        a.Long(inner);
        Launch(KernelNames.ArgMax, (long)outer * inner, a);
        if (result.IsEmpty)
        {
            return;
        }
        _device.MakeCurrent();
        fixed (int* p = result)
        {
            _device.Driver.CopyDtoHAsync(p, indices.Pointer, result.Length * 4L, _device.Stream);
            _device.Driver.StreamSynchronize(_device.Stream);
        }
    }

    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor y, int outer, int axis, int inner, bool log)
    {
        if (x.Size == 0)
        {
            return;
        }
        _device.MakeCurrent();
        // cuDNN's channel mode: softmax over C of [N, C, H, W] = [outer, axis, inner, 1].
        nint d = TensorDescriptor(outer, axis, inner, 1);
        Dnn.SoftmaxForward(_device.CudnnHandle, log, d, Ptr(x), d, Ptr(y));
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner, bool log)
    {
        if (y.Size == 0)
        {
            return;
        }
        _device.MakeCurrent();
        nint d = TensorDescriptor(outer, axis, inner, 1);
        Dnn.SoftmaxBackward(_device.CudnnHandle, log, d, Ptr(y), d, Ptr(dy), d, Ptr(dx));
    }

    /// <inheritdoc/>
    public void GatherColumns(Tensor x, ReadOnlySpan<int> index, Tensor y)
    {
        var (n, c) = CheckColumns("GatherColumns", x, index);
        using var idx = UploadScratch(index);
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(x));
        a.Ptr(idx.Pointer);
        a.Ptr(Ptr(y));
        a.Int(n);
        a.Int(c);
        Launch(KernelNames.GatherColumns, n, a);
    }

    /// <inheritdoc/>
    public void ScatterColumns(Tensor dy, ReadOnlySpan<int> index, Tensor dx)
    {
        var (n, c) = CheckColumns("ScatterColumns", dx, index);
        Fill(dx, 0f);
        using var idx = UploadScratch(index);
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(dy));
        a.Ptr(idx.Pointer);
        a.Ptr(Ptr(dx));
        a.Int(n);
        a.Int(c);
        Launch(KernelNames.ScatterColumns, n, a);
    }

    private static (int N, int C) CheckColumns(string op, Tensor matrix, ReadOnlySpan<int> index)
    {
        if (matrix.Rank != 2 || matrix.Shape[0] != index.Length)
        {
            throw new ShapeMismatchException($"{op}: expected [N, C] with N = {index.Length} indices, got {matrix.Shape}.");
        }
        int c = matrix.Shape[1];
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)c)
            {
                throw new IndexOutOfRangeException($"{op}: index {index[i]} at row {i} is outside [0, {c}).");
            }
        }
        return (index.Length, c);
    }
}
