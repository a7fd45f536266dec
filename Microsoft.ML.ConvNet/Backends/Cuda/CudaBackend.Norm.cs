using Microsoft.ML.ConvNet.Backends.Cuda.Interop;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// Batch normalisation through cuDNN (spatial mode); group, layer and local-response normalisation as kernels (norm.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// cuDNN updates the running variance with the unbiased batch variance (as PyTorch, which calls the same function)
    /// and needs eps ≥ 1e-5 (CUDNN_BN_MIN_EPSILON); a smaller eps is refused rather than silently changed.
    /// </remarks>
    public void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor y, Tensor saveMean, Tensor saveInvStd, bool training, float momentum, float eps)
    {
        var (n, c, s) = Ncs(x, "BatchNormForward");
        if (eps < Cudnn.BatchNormMinEpsilon)
        {
            throw new NotSupportedException($"BatchNormForward on {Device}: eps = {eps} is below cuDNN's minimum {Cudnn.BatchNormMinEpsilon}.");
        }
        _device.MakeCurrent();
        nint xd = TensorDescriptor(n, c, s, 1), bnd = TensorDescriptor(1, c, 1, 1);
        var h = _device.CudnnHandle;
        if (training)
        {
            Dnn.BatchNormForwardTraining(h, xd, Ptr(x), xd, Ptr(y), bnd, Ptr(gamma), Ptr(beta), momentum,
                Ptr(runningMean), Ptr(runningVar), eps, Ptr(saveMean), Ptr(saveInvStd));
            return;
        }
        Dnn.BatchNormForwardInference(h, xd, Ptr(x), xd, Ptr(y), bnd, Ptr(gamma), Ptr(beta), Ptr(runningMean), Ptr(runningVar), eps);
        var a = new KernelArgs(stackalloc byte[64]);
        a.Ptr(Ptr(runningMean));
        a.Ptr(Ptr(runningVar));
        a.Ptr(Ptr(saveMean));
        a.Ptr(Ptr(saveInvStd));
        a.Float(eps);
        a.Int(c);
        Launch(KernelNames.BatchNormInferenceStats, c, a);
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
        Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var (n, c, s) = Ncs(x, "BatchNormBackward");
        _device.MakeCurrent();
        nint xd = TensorDescriptor(n, c, s, 1), bnd = TensorDescriptor(1, c, 1, 1);
        // With the saved statistics given, cuDNN does not use eps to recompute them; it still checks its minimum.
        Dnn.BatchNormBackward(_device.CudnnHandle, xd, Ptr(x), xd, Ptr(dy), xd, Ptr(dx), bnd, Ptr(gamma), Ptr(dgamma), Ptr(dbeta),
            Cudnn.BatchNormMinEpsilon, Ptr(saveMean), Ptr(saveInvStd));
    }

    /// <inheritdoc/>
    public void GroupNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int groups, float eps)
    {
        var (n, c, s) = Ncs(x, "GroupNormForward");
        CheckGroups(c, groups, "GroupNormForward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(PtrOrNull(gamma));
        a.Ptr(PtrOrNull(beta));
        a.Ptr(Ptr(y));
        a.Ptr(Ptr(mean));
        a.Ptr(Ptr(invStd));
        a.Int(n);
        a.Int(c);
        a.Long(s);
        a.Int(groups);
        a.Float(eps);
        LaunchBlocks(KernelNames.GroupNormForward, (long)n * groups, ReductionThreads((long)c / groups * s), a);
    }

    /// <inheritdoc/>
    public void GroupNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int groups)
    {
        var (n, c, s) = Ncs(x, "GroupNormBackward");
        CheckGroups(c, groups, "GroupNormBackward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(dy));
        a.Ptr(PtrOrNull(gamma));
        a.Ptr(Ptr(mean));
        a.Ptr(Ptr(invStd));
        a.Ptr(Ptr(dx));
        a.Int(n);
        a.Int(c);
        a.Long(s);
        a.Int(groups);
        LaunchBlocks(KernelNames.GroupNormBackward, (long)n * groups, ReductionThreads((long)c / groups * s), a);
        if (dgamma == null && dbeta == null)
        {
            return;
        }
        var p = new KernelArgs(stackalloc byte[96]);
        p.Ptr(Ptr(x));
        p.Ptr(Ptr(dy));
        p.Ptr(Ptr(mean));
        p.Ptr(Ptr(invStd));
        p.Ptr(PtrOrNull(dgamma));
        p.Ptr(PtrOrNull(dbeta));
        p.Int(n);
        p.Int(c);
        p.Long(s);
        p.Int(groups);
        LaunchBlocks(KernelNames.GroupNormParamGrads, c, ReductionThreads((long)n * s), p);
    }

    /// <inheritdoc/>
    public void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int inner, float eps)
    {
        long outer = Rows(x, inner, "LayerNormForward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(PtrOrNull(gamma));
        a.Ptr(PtrOrNull(beta));
        a.Ptr(Ptr(y));
        a.Ptr(Ptr(mean));
        a.Ptr(Ptr(invStd));
        a.Long(outer);
        a.Long(inner);
        a.Float(eps);
        LaunchBlocks(KernelNames.LayerNormForward, outer, ReductionThreads(inner), a);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int inner)
    {
        long outer = Rows(x, inner, "LayerNormBackward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(dy));
        a.Ptr(PtrOrNull(gamma));
        a.Ptr(Ptr(mean));
        a.Ptr(Ptr(invStd));
        a.Ptr(Ptr(dx));
        a.Long(outer);
        a.Long(inner);
        LaunchBlocks(KernelNames.LayerNormBackward, outer, ReductionThreads(inner), a);
        if (dgamma == null && dbeta == null)
        {
            return;
        }
        var p = new KernelArgs(stackalloc byte[96]);
        p.Ptr(Ptr(x));
        p.Ptr(Ptr(dy));
        p.Ptr(Ptr(mean));
        p.Ptr(Ptr(invStd));
        p.Ptr(PtrOrNull(dgamma));
        p.Ptr(PtrOrNull(dbeta));
        p.Long(outer);
        p.Long(inner);
        Launch(KernelNames.LayerNormParamGrads, inner, p);
    }

    /// <inheritdoc/>
    public void LrnForward(Tensor x, Tensor y, int size, float alpha, float beta, float k)
    {
        var (n, c, s) = Ncs(x, "LrnForward");
        CheckLrnSize(size, "LrnForward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Int(n);
        a.Int(c);
        a.Long(s);
        a.Int(size);
        a.Float(alpha);
        a.Float(beta);
        a.Float(k);
        Launch(KernelNames.LrnForward, x.Size, a);
    }

    /// <inheritdoc/>
    public void LrnBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int size, float alpha, float beta, float k)
    {
        var (n, c, s) = Ncs(x, "LrnBackward");
        CheckLrnSize(size, "LrnBackward");
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Ptr(Ptr(dy));
        a.Ptr(Ptr(dx));
        a.Int(n);
        a.Int(c);
        a.Long(s);
        a.Int(size);
        a.Float(alpha);
        a.Float(beta);
        a.Float(k);
        Launch(KernelNames.LrnBackward, x.Size, a);
    }

    /// <summary>x viewed as [N, C, S] (S = product of the trailing axes, 1 for [N, C]).</summary>
    private static (int N, int C, int S) Ncs(Tensor x, string op)
    {
        if (x.Rank < 2)
        {
            throw new ShapeMismatchException($"{op}: expected at least [N, C], got {x.Shape}.");
        }
        return (x.Shape[0], x.Shape[1], x.Shape.SizeOf(2, x.Rank));
    }

    private static long Rows(Tensor x, int inner, string op)
    {
        if (inner <= 0 || x.Size % inner != 0)
        {
            throw new ShapeMismatchException($"{op}: {x.Shape} does not split into rows of {inner}.");
        }
        return x.Size / inner;
    }

    private static void CheckGroups(int c, int groups, string op)
    {
        if (groups < 1 || c % groups != 0)
        {
            throw new ArgumentException($"{op}: {c} channels do not split into {groups} groups.");
        }
    }

    private static void CheckLrnSize(int size, string op)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"{op}: the window size must be positive, got {size}.");
        }
    }
}
