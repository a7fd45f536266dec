using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

// Fused optimizer updates (optim.cu), with the CPU backend's constants.
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening,
        float weightDecay, bool nesterov, bool firstStep)
    {
        CheckOptim("SgdUpdate", param, grad, momentumBuffer);
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(param));
        a.Ptr(Ptr(grad));
        a.Ptr(PtrOrNull(momentumBuffer));
        a.Float(lr);
        a.Float(momentum);
        a.Float(dampening);
        a.Float(weightDecay);
        a.Int(nesterov ? 1 : 0);
        a.Int(firstStep ? 1 : 0);
        a.Long(param.Size);
        Launch(KernelNames.SgdUpdate, param.Size, a);
    }

    /// <inheritdoc/>
    public void AdamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step)
    {
        CheckOptim("AdamUpdate", param, grad, m, v);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"AdamUpdate: the step count starts at 1, got {step}.");
        }
        double bc1 = 1.0 - Math.Pow(beta1, step);
        double bc2 = 1.0 - Math.Pow(beta2, step);
        var a = new KernelArgs(stackalloc byte[128]);
        a.Ptr(Ptr(param));
        a.Ptr(Ptr(grad));
        a.Ptr(Ptr(m));
        a.Ptr(Ptr(v));
        a.Float(beta1);
        a.Float(beta2);
        a.Float(eps);
        a.Float(decoupled ? 0f : weightDecay);
        a.Float(decoupled ? 1f - lr * weightDecay : 1f);
        a.Float((float)(lr / bc1));
        a.Float((float)(1.0 / Math.Sqrt(bc2)));
        a.Long(param.Size);
        Launch(KernelNames.AdamUpdate, param.Size, a);
    }

    /// <inheritdoc/>
    public void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? momentumBuffer, float lr, float alpha,
        float eps, float weightDecay, float momentum)
    {
        CheckOptim("RmsPropUpdate", param, grad, squareAvg, momentumBuffer);
        if (momentum > 0f && momentumBuffer == null)
        {
            throw new ArgumentNullException(nameof(momentumBuffer), "RmsPropUpdate: momentum > 0 needs a momentum buffer.");
        }
        var a = new KernelArgs(stackalloc byte[96]);
        a.Ptr(Ptr(param));
        a.Ptr(Ptr(grad));
        a.Ptr(Ptr(squareAvg));
        a.Ptr(momentum > 0f ? Ptr(momentumBuffer!) : 0);
        a.Float(lr);
        a.Float(alpha);
        a.Float(eps);
        a.Float(weightDecay);
        a.Float(momentum);
        a.Long(param.Size);
        Launch(KernelNames.RmsPropUpdate, param.Size, a);
    }

    private static void CheckOptim(string op, Tensor param, params Tensor?[] others)
    {
        foreach (var t in others)
        {
            if (t != null && t.Shape != param.Shape)
            {
                throw new ShapeMismatchException(op, param.Shape, t.Shape, "the gradient and state must have the parameter's shape");
            }
        }
    }
}
