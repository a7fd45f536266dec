using System.Collections.Concurrent;
using Microsoft.ML.ConvNet.Backends.Cuda.Interop;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// Pooling: cuDNN where its rules equal PyTorch's (no dilation, floor-mode output size), kernels (pool.cu) otherwise
// and for adaptive average pooling.
public sealed partial class CudaBackend
{
    private readonly ConcurrentDictionary<(PoolKind, int, int, int, int, int, int), CudaHandle> _poolDescriptors = new();

    /// <inheritdoc/>
    public void Pool2dForward(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g)
    {
        CheckPool(kind, g);
        _device.MakeCurrent();
        if (UsesCudnn(g))
        {
            var pool = PoolDescriptor(kind, g);
            Dnn.PoolingForward(_device.CudnnHandle, pool, TensorDescriptor(g.N, g.C, g.H, g.W), Ptr(x), TensorDescriptor(g.N, g.C, g.OH, g.OW), Ptr(y));
            return;
        }
        var a = PoolArgs(stackalloc byte[128], Ptr(x), Ptr(y), 0, g);
        if (kind == PoolKind.Max)
        {
            a.Int(g.DilationH);
            a.Int(g.DilationW);
            Launch(KernelNames.MaxPoolForward, (long)g.N * g.C * g.OH * g.OW, a);
        }
        else
        {
            a.Int(kind == PoolKind.AvgIncludePad ? 1 : 0);
            Launch(KernelNames.AvgPoolForward, (long)g.N * g.C * g.OH * g.OW, a);
        }
    }

    /// <inheritdoc/>
    public void Pool2dBackward(PoolKind kind, Tensor x, Tensor y, Tensor dy, Tensor dx, in PoolGeometry g)
    {
        CheckPool(kind, g);
        _device.MakeCurrent();
        if (UsesCudnn(g))
        {
            var pool = PoolDescriptor(kind, g);
            nint xd = TensorDescriptor(g.N, g.C, g.H, g.W), yd = TensorDescriptor(g.N, g.C, g.OH, g.OW);
            Dnn.PoolingBackward(_device.CudnnHandle, pool, yd, Ptr(y), yd, Ptr(dy), xd, Ptr(x), xd, Ptr(dx));
            return;
        }
        if (kind == PoolKind.Max)
        {
            Fill(dx, 0f);
            var a = PoolArgs(stackalloc byte[128], Ptr(x), Ptr(dy), Ptr(dx), g);
            a.Int(g.DilationH);
            a.Int(g.DilationW);
            Launch(KernelNames.MaxPoolBackward, (long)g.N * g.C * g.OH * g.OW, a);
        }
        else
        {
            var a = PoolArgs(stackalloc byte[128], Ptr(dy), Ptr(dx), 0, g);
            a.Int(kind == PoolKind.AvgIncludePad ? 1 : 0);
            Launch(KernelNames.AvgPoolBackward, (long)g.N * g.C * g.H * g.W, a);
        }
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dForward(Tensor x, Tensor y)
    {
        var a = AdaptiveArgs(stackalloc byte[64], x, y, x.Shape, y.Shape);
        Launch(KernelNames.AdaptiveAvgPoolForward, y.Size, a);
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx)
    {
        var a = AdaptiveArgs(stackalloc byte[64], dy, dx, dx.Shape, dy.Shape);
        Launch(KernelNames.AdaptiveAvgPoolBackward, dx.Size, a);
    }

    private KernelArgs AdaptiveArgs(Span<byte> buffer, Tensor src, Tensor dst, Shape input, Shape output)
    {
        if (input.Rank != 4 || output.Rank != 4 || input[0] != output[0] || input[1] != output[1])
        {
            throw new ShapeMismatchException("AdaptiveAvgPool2d", input, output, "input and output must be [N, C, H, W] with the same N and C");
        }
        var a = new KernelArgs(buffer);
        a.Ptr(Ptr(src));
        a.Ptr(Ptr(dst));
        a.Long((long)input[0] * input[1]);
        a.Int(input[2]);
        a.Int(input[3]);
        a.Int(output[2]);
        a.Int(output[3]);
        return a;
    }

    /// <summary>Arguments shared by the pooling kernels: pointers, planes, sizes, kernel, stride, padding.</summary>
    private static KernelArgs PoolArgs(Span<byte> buffer, nint first, nint second, nint third, in PoolGeometry g)
    {
        var a = new KernelArgs(buffer);
        a.Ptr(first);
        a.Ptr(second);
        if (third != 0)
        {
            a.Ptr(third);
        }
        a.Long((long)g.N * g.C);
        a.Int(g.H);
        a.Int(g.W);
        a.Int(g.OH);
        a.Int(g.OW);
        a.Int(g.KernelH);
        a.Int(g.KernelW);
        a.Int(g.StrideH);
        a.Int(g.StrideW);
        a.Int(g.PadH);
        a.Int(g.PadW);
        return a;
    }

    private static void CheckPool(PoolKind kind, in PoolGeometry g)
    {
        if (kind != PoolKind.Max && (g.DilationH != 1 || g.DilationW != 1))
        {
            throw new ArgumentException($"Pool2d: average pooling has no dilation (got {g.DilationH}, {g.DilationW}).");
        }
    }

    /// <summary>cuDNN pools like PyTorch when there is no dilation and the output size is the floor-mode one.</summary>
    private static bool UsesCudnn(in PoolGeometry g)
        => g.DilationH == 1 && g.DilationW == 1
           && g.OH == (g.H + 2 * g.PadH - g.KernelH) / g.StrideH + 1
           && g.OW == (g.W + 2 * g.PadW - g.KernelW) / g.StrideW + 1;

    private nint PoolDescriptor(PoolKind kind, in PoolGeometry g)
        => _poolDescriptors.GetOrAdd((kind, g.KernelH, g.KernelW, g.PadH, g.PadW, g.StrideH, g.StrideW), key =>
        {
            int mode = key.Item1 switch
            {
                PoolKind.Max => Cudnn.PoolingMax,
                PoolKind.AvgIncludePad => Cudnn.PoolingAverageIncludePadding,
                _ => Cudnn.PoolingAverageExcludePadding,
            };
            return new CudaHandle(Dnn.CreatePooling(mode, key.Item2, key.Item3, key.Item4, key.Item5, key.Item6, key.Item7), Dnn.DestroyPooling);
        }).Value;
}
