using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Placeholder: kernels not written yet.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? momentumBuffer, float lr, float alpha, float eps, float weightDecay, float momentum) => throw new NotImplementedException();
}
