using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Placeholder: kernels not written yet.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Pool2dForward(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Pool2dBackward(PoolKind kind, Tensor x, Tensor y, Tensor dy, Tensor dx, in PoolGeometry g) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdaptiveAvgPool2dForward(Tensor x, Tensor y) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx) => throw new NotImplementedException();
}
