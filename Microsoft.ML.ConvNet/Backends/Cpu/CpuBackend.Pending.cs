using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Primitives whose kernels live in their own partial files once written.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, int aOffset, int lda, Tensor b, int bOffset, int ldb, float beta, Tensor c, int cOffset, int ldc) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Conv2dForward(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Pool2dForward(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Pool2dBackward(PoolKind kind, Tensor x, Tensor y, Tensor dy, Tensor dx, in PoolGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdaptiveAvgPool2dForward(Tensor x, Tensor y) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, bool training, float momentum, float eps) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void GroupNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int groups, float eps) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void GroupNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int groups) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int inner, float eps) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LayerNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int inner) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LrnForward(Tensor x, Tensor y, int size, float alpha, float beta, float k) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LrnBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int size, float alpha, float beta, float k) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? momentumBuffer, float lr, float alpha, float eps, float weightDecay, float momentum) => throw new NotImplementedException();
}
