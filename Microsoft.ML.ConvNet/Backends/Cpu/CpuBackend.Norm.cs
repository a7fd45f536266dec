using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Placeholder: kernels not written yet.
public sealed partial class CpuBackend
{
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
}
