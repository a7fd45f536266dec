using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Placeholder: kernels not written yet.
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
}
