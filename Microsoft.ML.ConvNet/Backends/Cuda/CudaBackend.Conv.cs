using System.Collections.Concurrent;
using Microsoft.ML.ConvNet.Backends.Cuda.Interop;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// GEMM through cuBLAS, convolutions through cuDNN, bf16 autocast for both.
public sealed partial class CudaBackend
{
    private readonly ConcurrentDictionary<(int, int, int, int, int), CudaHandle> _tensorDescriptors = new();
    private readonly ConcurrentDictionary<(int, int, int, int, int), CudaHandle> _filterDescriptors = new();
    private readonly ConcurrentDictionary<(ConvGeometry, int), CudaHandle> _convDescriptors = new();
    private readonly ConcurrentDictionary<ConvAlgorithmKey, ConvAlgorithm> _algorithms = new();

    private Cudnn Dnn => _device.Runtime.Cudnn;

    /// <summary>Convolution algorithms chosen so far (one per shape, direction, data type and math mode).</summary>
    public int CachedConvolutionAlgorithms => _algorithms.Count;

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, int aOffset, int lda, Tensor b, int bOffset, int ldb, float beta, Tensor c, int cOffset, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        _device.MakeCurrent();
        var blas = _device.Runtime.Cublas;
        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands, keep the flags.
        int opA = transA ? Cublas.OpT : Cublas.OpN, opB = transB ? Cublas.OpT : Cublas.OpN;
        nint pa = Ptr(a) + aOffset * (nint)4, pb = Ptr(b) + bOffset * (nint)4, pc = Ptr(c) + cOffset * (nint)4;
        if (Autocast.IsBFloat16Enabled && k > 0)
        {
            long aExtent = (long)((transA ? k : m) - 1) * lda + (transA ? m : k);
            long bExtent = (long)((transB ? n : k) - 1) * ldb + (transB ? k : n);
            using var a16 = ToBf16(pa, aExtent);
            using var b16 = ToBf16(pb, bExtent);
            nint handle = _device.CublasHandle(tf32: false);
            blas.GemmEx(handle, opB, opA, n, m, k, alpha, b16.Pointer, Cublas.DataBFloat16, ldb, a16.Pointer, Cublas.DataBFloat16, lda,
                beta, pc, Cublas.DataFloat, ldc, Cublas.ComputeFloat);
            return;
        }
        blas.Sgemm(_device.CublasHandle(CudaOptions.AllowTf32), opB, opA, n, m, k, alpha, pb, ldb, pa, lda, beta, pc, ldc);
    }

    /// <inheritdoc/>
    public void Conv2dForward(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g, Tensor? residual = null, UnaryOp? activation = null)
    {
        RunConvolution(x, w, y, g, RunForward);
        if (bias != null)
        {
            Dnn.AddTensor(_device.CudnnHandle, 1f, TensorDescriptor(1, g.K, 1, 1), Ptr(bias), 1f, TensorDescriptor(g.N, g.K, g.OH, g.OW), Ptr(y));
        }
        if (residual != null)
        {
            Binary(BinaryOp.Add, y, residual, y);
        }
        if (activation is UnaryOp op)
        {
            Unary(op, y, y, 0f);
        }
    }

    /// <inheritdoc/>
    public void Conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g) => RunConvolution(dy, w, dx, g, RunBackwardData);

    /// <inheritdoc/>
    public void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g) => RunConvolution(x, dy, dw, g, RunBackwardFilter);

    private delegate void ConvolutionCall(in ConvGeometry g, ConvDescriptors d, nint first, nint second, nint output, int type);

    /// <summary>
    /// Runs one cuDNN convolution call on two inputs into <paramref name="output"/>: in float32, or under bf16 autocast
    /// on bf16 copies of the inputs into a bf16 scratch output that is converted back to float32.
    /// </summary>
    private void RunConvolution(Tensor first, Tensor second, Tensor output, in ConvGeometry g, ConvolutionCall call)
    {
        _device.MakeCurrent();
        bool bf16 = Autocast.IsBFloat16Enabled;
        int type = bf16 ? Cudnn.DataBFloat16 : Cudnn.DataFloat;
        var d = Descriptors(g, type);
        if (!bf16)
        {
            call(g, d, Ptr(first), Ptr(second), Ptr(output), type);
            return;
        }
        using var first16 = ToBf16(Ptr(first), first.Size);
        using var second16 = ToBf16(Ptr(second), second.Size);
        using var output16 = Scratch(output.Size * 2L);
        call(g, d, first16.Pointer, second16.Pointer, output16.Pointer, type);
        FromBf16(output16.Pointer, Ptr(output), output.Size);
    }

    private void RunForward(in ConvGeometry g, ConvDescriptors d, nint x, nint w, nint y, int type)
    {
        var h = _device.CudnnHandle;
        var algo = ChooseAlgorithm(new ConvAlgorithmKey(ConvDirection.Forward, g, type, d.MathType), (results, ws, wsBytes, find) => find
            ? Dnn.FindForwardAlgorithms(h, d.X, x, d.W, w, d.Conv, d.Y, y, results, ws, wsBytes)
            : Dnn.GetForwardAlgorithms(h, d.X, d.W, d.Conv, d.Y, results),
            a => Dnn.ForwardWorkspace(h, d.X, d.W, d.Conv, d.Y, a));
        using var ws = Scratch(algo.WorkspaceBytes);
        Dnn.ConvolutionForward(h, 1f, d.X, x, d.W, w, d.Conv, algo.Algorithm, ws.Pointer, algo.WorkspaceBytes, 0f, d.Y, y);
    }

    private void RunBackwardData(in ConvGeometry g, ConvDescriptors d, nint dy, nint w, nint dx, int type)
    {
        var h = _device.CudnnHandle;
        var algo = ChooseAlgorithm(new ConvAlgorithmKey(ConvDirection.BackwardData, g, type, d.MathType), (results, ws, wsBytes, find) => find
            ? Dnn.FindBackwardDataAlgorithms(h, d.W, w, d.Y, dy, d.Conv, d.X, dx, results, ws, wsBytes)
            : Dnn.GetBackwardDataAlgorithms(h, d.W, d.Y, d.Conv, d.X, results),
            a => Dnn.BackwardDataWorkspace(h, d.W, d.Y, d.Conv, d.X, a));
        using var ws = Scratch(algo.WorkspaceBytes);
        Dnn.ConvolutionBackwardData(h, 1f, d.W, w, d.Y, dy, d.Conv, algo.Algorithm, ws.Pointer, algo.WorkspaceBytes, 0f, d.X, dx);
    }

    private void RunBackwardFilter(in ConvGeometry g, ConvDescriptors d, nint x, nint dy, nint dw, int type)
    {
        var h = _device.CudnnHandle;
        var algo = ChooseAlgorithm(new ConvAlgorithmKey(ConvDirection.BackwardFilter, g, type, d.MathType), (results, ws, wsBytes, find) => find
            ? Dnn.FindBackwardFilterAlgorithms(h, d.X, x, d.Y, dy, d.Conv, d.W, dw, results, ws, wsBytes)
            : Dnn.GetBackwardFilterAlgorithms(h, d.X, d.Y, d.Conv, d.W, results),
            a => Dnn.BackwardFilterWorkspace(h, d.X, d.Y, d.Conv, d.W, a));
        using var ws = Scratch(algo.WorkspaceBytes);
        Dnn.ConvolutionBackwardFilter(h, 1f, d.X, x, d.Y, dy, d.Conv, algo.Algorithm, ws.Pointer, algo.WorkspaceBytes, 0f, d.W, dw);
    }

    private delegate int AlgorithmSearch(Span<CudnnAlgoPerf> results, nint workspace, long workspaceBytes, bool find);

    /// <summary>
    /// The algorithm for one convolution shape, chosen once: cuDNN's heuristics rank the candidates; with
    /// <see cref="CudaOptions.BenchmarkConvolutionAlgorithms"/> they are timed (cudnnFind…Ex) with a workspace as large
    /// as the largest candidate needs (capped by <see cref="CudaOptions.MaxConvolutionWorkspaceBytes"/>).
    /// </summary>
    private ConvAlgorithm ChooseAlgorithm(ConvAlgorithmKey key, AlgorithmSearch search, Func<int, long> workspace)
    {
        if (_algorithms.TryGetValue(key, out var known))
        {
            return known;
        }
        long limit = CudaOptions.MaxConvolutionWorkspaceBytes;
        Span<CudnnAlgoPerf> results = stackalloc CudnnAlgoPerf[16];
        int count = search(results, 0, 0, find: false);
        ConvAlgorithm? chosen = null;
        if (CudaOptions.BenchmarkConvolutionAlgorithms)
        {
            long needed = 0;
            for (int i = 0; i < count; i++)
            {
                if (results[i].Status == 0 && (long)results[i].Memory <= limit)
                {
                    needed = Math.Max(needed, (long)results[i].Memory);
                }
            }
            using (var ws = Scratch(needed))
            {
                count = search(results, ws.Pointer, needed, find: true);
            }
        }
        for (int i = 0; i < count && chosen == null; i++)
        {
            if (results[i].Status == 0 && (long)results[i].Memory <= limit)
            {
                int algo = results[i].Algo;
                chosen = new ConvAlgorithm(algo, workspace(algo));
            }
        }
        if (chosen == null)
        {
            throw new CudaException($"cuDNN found no {key.Direction} convolution algorithm for {key.Geometry} within {limit} bytes of workspace.");
        }
        _algorithms[key] = chosen.Value;
        return chosen.Value;
    }

    private ConvDescriptors Descriptors(in ConvGeometry g, int type)
    {
        int math = type == Cudnn.DataBFloat16 ? Cudnn.TensorOpMath : CudaOptions.AllowTf32 ? Cudnn.DefaultMath : Cudnn.FmaMath;
        var geometry = g;
        var conv = _convDescriptors.GetOrAdd((geometry, math), key =>
            new CudaHandle(Dnn.CreateConvolution(key.Item1, key.Item2), Dnn.DestroyConvolution)).Value;
        var filter = _filterDescriptors.GetOrAdd((g.K, g.CPerGroup, g.R, g.S, type), key =>
            new CudaHandle(Dnn.CreateFilter(key.Item1, key.Item2, key.Item3, key.Item4, key.Item5), Dnn.DestroyFilter)).Value;
        return new ConvDescriptors(TensorDescriptor(g.N, g.C, g.H, g.W, type), filter, conv, TensorDescriptor(g.N, g.K, g.OH, g.OW, type), math);
    }

    /// <summary>A cached NCHW tensor descriptor.</summary>
    internal nint TensorDescriptor(int n, int c, int h, int w, int type = Cudnn.DataFloat)
        => _tensorDescriptors.GetOrAdd((n, c, h, w, type), key =>
            new CudaHandle(Dnn.CreateTensor(key.Item1, key.Item2, key.Item3, key.Item4, key.Item5), Dnn.DestroyTensor)).Value;

    /// <summary>bf16 copy of <paramref name="count"/> floats at <paramref name="src"/> in scratch memory.</summary>
    private ScratchBuffer ToBf16(nint src, long count)
    {
        var s = Scratch(Math.Max(count, 1) * 2);
        var a = new KernelArgs(stackalloc byte[32]);
        a.Ptr(src);
        a.Ptr(s.Pointer);
        a.Long(count);
        Launch(KernelNames.FloatToBf16, count, a);
        return s;
    }

    private void FromBf16(nint src, nint dst, long count)
    {
        var a = new KernelArgs(stackalloc byte[32]);
        a.Ptr(src);
        a.Ptr(dst);
        a.Long(count);
        Launch(KernelNames.Bf16ToFloat, count, a);
    }

    private readonly record struct ConvDescriptors(nint X, nint W, nint Conv, nint Y, int MathType);

    private readonly record struct ConvAlgorithmKey(ConvDirection Direction, ConvGeometry Geometry, int DataType, int MathType);

    private readonly record struct ConvAlgorithm(int Algorithm, long WorkspaceBytes);
}
