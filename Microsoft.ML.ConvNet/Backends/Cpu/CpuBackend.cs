using System.Numerics.Tensors;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// The CPU device: managed kernels over pooled host buffers, vectorised with <see cref="TensorPrimitives"/> and
/// <c>Vector512/256/128</c>, parallel over the batch or channels. Split by concern into partial files.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    private CpuBackend()
    {
    }

    /// <summary>The single instance.</summary>
    public static CpuBackend Instance { get; } = new();

    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    /// <inheritdoc/>
    public Storage Allocate(int length) => new CpuStorage(BufferPool.Rent(length));

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, Tensor dst) => src.CopyTo(dst.Span);

    /// <inheritdoc/>
    public void Download(Tensor src, Span<float> dst) => src.Span.CopyTo(dst);

    /// <inheritdoc/>
    public void Fill(Tensor t, float value) => t.Span.Fill(value);

    /// <inheritdoc/>
    public void CopyBlocks(Tensor src, int srcOffset, int srcStride, Tensor dst, int dstOffset, int dstStride, int blockLength, int blockCount)
    {
        var s = src.Span;
        var d = dst.Span;
        if (blockLength == 1)
        {
            // Single elements (a scalar broadcast, a column gather): a plain loop, not a span copy per element.
            for (int b = 0; b < blockCount; b++)
            {
                d[dstOffset + b * dstStride] = s[srcOffset + b * srcStride];
            }
            return;
        }
        for (int b = 0; b < blockCount; b++)
        {
            s.Slice(srcOffset + b * srcStride, blockLength).CopyTo(d.Slice(dstOffset + b * dstStride, blockLength));
        }
    }

    /// <inheritdoc/>
    public void Permute(Tensor x, Tensor y, ReadOnlySpan<int> perm)
    {
        int rank = x.Rank;
        var xs = x.Shape.Strides();
        var ydims = y.Shape.ToArray();
        // Stride in x of each output axis.
        var srcStride = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            srcStride[i] = xs[perm[i]];
        }
        var src = x.Span;
        var dst = y.Span;
        var idx = new int[rank];
        int offset = 0;
        for (int o = 0; o < dst.Length; o++)
        {
            dst[o] = src[offset];
            for (int a = rank - 1; a >= 0; a--)
            {
                idx[a]++;
                offset += srcStride[a];
                if (idx[a] < ydims[a])
                {
                    break;
                }
                offset -= srcStride[a] * idx[a];
                idx[a] = 0;
            }
        }
    }

    /// <inheritdoc/>
    public void Affine(Tensor x, Tensor y, float scale, float shift)
    {
        if (shift == 0f)
        {
            TensorPrimitives.Multiply(x.Span, scale, y.Span);
        }
        else
        {
            TensorPrimitives.Multiply(x.Span, scale, y.Span);
            TensorPrimitives.Add(y.Span, shift, y.Span);
        }
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        if (alpha == 1f)
        {
            TensorPrimitives.Add(x.Span, y.Span, y.Span);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(x.Span, alpha, y.Span, y.Span);
        }
    }
}
