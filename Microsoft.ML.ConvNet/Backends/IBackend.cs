using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends;

/// <summary>
/// The closed list of primitives every device implements. Layers and models never call these directly:
/// they use <see cref="Tensor"/> operations and <c>Layers.Functional</c>, whose autograd functions call here.
/// Outputs are pre-allocated by the caller with the right shape; a primitive writes (=) its outputs unless
/// it says it accumulates (+=). Shapes in the comments are row-major, images <c>[N, C, H, W]</c>.
/// </summary>
public interface IBackend
{
    /// <summary>The device this backend runs on.</summary>
    Device Device { get; }

    /// <summary>Allocates storage for <paramref name="length"/> floats (contents undefined).</summary>
    Storage Allocate(int length);

    // ---- data movement ---------------------------------------------------------------------------

    /// <summary>Copies host values into <paramref name="dst"/> (whole tensor).</summary>
    void Upload(ReadOnlySpan<float> src, Tensor dst);

    /// <summary>Copies a tensor's values to host memory.</summary>
    void Download(Tensor src, Span<float> dst);

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    void Fill(Tensor t, float value);

    /// <summary>
    /// Strided block copy: for b in [0, blockCount): dst[dstOffset + b*dstStride + i] = src[srcOffset + b*srcStride + i],
    /// i in [0, blockLength). Covers copies, concat and slicing along any axis.
    /// </summary>
    void CopyBlocks(Tensor src, int srcOffset, int srcStride, Tensor dst, int dstOffset, int dstStride, int blockLength, int blockCount);

    /// <summary>y = x with axes permuted: y.shape[i] = x.shape[perm[i]].</summary>
    void Permute(Tensor x, Tensor y, ReadOnlySpan<int> perm);

    // ---- elementwise -----------------------------------------------------------------------------

    /// <summary>y = op(x) elementwise; <paramref name="alpha"/> parametrises LeakyReLU/ELU.</summary>
    void Unary(UnaryOp op, Tensor x, Tensor y, float alpha);

    /// <summary>dx = dy * op'(x) (y = op(x) is given too, for ops whose derivative is cheaper from y).</summary>
    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float alpha);

    /// <summary>y = a op b with NumPy broadcasting; y has the broadcast shape.</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    /// <summary>y = x * scale + shift.</summary>
    void Affine(Tensor x, Tensor y, float scale, float shift);

    /// <summary>y += alpha * x (same shapes). Used to accumulate gradients.</summary>
    void Axpy(float alpha, Tensor x, Tensor y);

    // ---- reductions ------------------------------------------------------------------------------

    /// <summary>Sums <paramref name="x"/> over the axes where <paramref name="y"/>'s (right-aligned) shape is 1 or missing. Inverse of broadcasting.</summary>
    void SumTo(Tensor x, Tensor y);

    /// <summary>Reduces x viewed as [outer, axis, inner] along the middle axis into y [outer, inner].</summary>
    void Reduce(ReduceOp op, Tensor x, Tensor y, int outer, int axis, int inner);

    /// <summary>Gradient of a max/min reduction: dx = dy at the first extremal element of each row, 0 elsewhere.</summary>
    void ReduceExtremumBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner);

    /// <summary>Index of the maximum of x viewed as [outer, axis, inner] along the middle axis (first on ties).</summary>
    void ArgMax(Tensor x, Span<int> result, int outer, int axis, int inner);

    /// <summary>Softmax (or log-softmax) of x viewed as [outer, axis, inner] along the middle axis.</summary>
    void Softmax(Tensor x, Tensor y, int outer, int axis, int inner, bool log);

    /// <summary>Gradient of <see cref="Softmax"/> from its output y.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int outer, int axis, int inner, bool log);

    /// <summary>y[n] = x[n, index[n]] for x [N, C].</summary>
    void GatherColumns(Tensor x, ReadOnlySpan<int> index, Tensor y);

    /// <summary>dx = 0; dx[n, index[n]] = dy[n] for dx [N, C].</summary>
    void ScatterColumns(Tensor dy, ReadOnlySpan<int> index, Tensor dx);

    // ---- linear algebra and convolution ----------------------------------------------------------

    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C, row-major, op(A) is [m, k], op(B) is [k, n]; the offsets and leading
    /// dimensions address sub-matrices (batched matmul walks the batch with offsets).
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, int aOffset, int lda, Tensor b, int bOffset, int ldb, float beta, Tensor c, int cOffset, int ldc);

    /// <summary>
    /// y [N, K, OH, OW] = activation(conv(x [N, C, H, W], w [K, C/groups, R, S]) + bias [K] + residual [N, K, OH, OW]);
    /// the bias, the residual and the activation are optional. The CPU backend adds them, and applies ReLU, ReLU6 and
    /// SiLU, as it writes each output, instead of in separate passes over y.
    /// </summary>
    void Conv2dForward(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g, Tensor? residual = null, UnaryOp? activation = null);

    /// <summary>dx [N, C, H, W] = gradient of the convolution with respect to its input (written).</summary>
    void Conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g);

    /// <summary>dw [K, C/groups, R, S] = gradient with respect to the filter (written).</summary>
    void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g);

    // ---- pooling ---------------------------------------------------------------------------------

    /// <summary>Max or average pooling, y [N, C, OH, OW] from x [N, C, H, W].</summary>
    void Pool2dForward(PoolKind kind, Tensor x, Tensor y, in PoolGeometry g);

    /// <summary>dx (written) from dy; max pooling routes to the first maximum of each window.</summary>
    void Pool2dBackward(PoolKind kind, Tensor x, Tensor y, Tensor dy, Tensor dx, in PoolGeometry g);

    /// <summary>Adaptive average pooling of x [N, C, H, W] to y [N, C, OH, OW] (PyTorch's window rule).</summary>
    void AdaptiveAvgPool2dForward(Tensor x, Tensor y);

    /// <summary>Gradient of <see cref="AdaptiveAvgPool2dForward"/>, dx written.</summary>
    void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx);

    // ---- normalisation ---------------------------------------------------------------------------

    /// <summary>
    /// Batch normalisation of x viewed as [N, C, S] (S = H*W, or 1 for [N, C]). Training: uses batch statistics,
    /// writes saveMean/saveInvStd [C] and updates the running statistics with <paramref name="momentum"/>
    /// (unbiased variance, as PyTorch). Inference: uses the running statistics.
    /// </summary>
    void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor y, Tensor saveMean, Tensor saveInvStd, bool training, float momentum, float eps);

    /// <summary>Training-mode batch-norm gradients: dx written, dgamma and dbeta written.</summary>
    void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
        Tensor dx, Tensor dgamma, Tensor dbeta);

    /// <summary>
    /// Group normalisation of x viewed as [N, G, M] (M = C/G * S); affine per channel (gamma/beta [C], optional).
    /// Layer norm is the case G = 1 with C = 1 and gamma over M: see <see cref="LayerNormForward"/>.
    /// Writes mean/invStd [N*G].
    /// </summary>
    void GroupNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int groups, float eps);

    /// <summary>Gradients of <see cref="GroupNormForward"/>; dgamma/dbeta written when not null.</summary>
    void GroupNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int groups);

    /// <summary>Layer normalisation of x viewed as [outer, inner] over inner, elementwise affine [inner] (optional).</summary>
    void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int inner, float eps);

    /// <summary>Gradients of <see cref="LayerNormForward"/>; dgamma/dbeta written when not null.</summary>
    void LayerNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int inner);

    /// <summary>Local response normalisation across channels (AlexNet; PyTorch's formula with alpha/size).</summary>
    void LrnForward(Tensor x, Tensor y, int size, float alpha, float beta, float k);

    /// <summary>Gradient of <see cref="LrnForward"/>, dx written.</summary>
    void LrnBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int size, float alpha, float beta, float k);

    // ---- optimizer updates -----------------------------------------------------------------------

    /// <summary>One SGD step in place (PyTorch's semantics for momentum, dampening, Nesterov and weight decay).</summary>
    void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening,
        float weightDecay, bool nesterov, bool firstStep);

    /// <summary>One Adam/AdamW step in place; <paramref name="step"/> starts at 1; decoupled = AdamW weight decay.</summary>
    void AdamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step);

    /// <summary>One RMSprop step in place (PyTorch's semantics, optional momentum buffer).</summary>
    void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? momentumBuffer, float lr, float alpha,
        float eps, float weightDecay, float momentum);
}

/// <summary>Elementwise unary operations.</summary>
public enum UnaryOp
{
    /// <summary>max(0, x)</summary>
    Relu,
    /// <summary>min(max(0, x), 6)</summary>
    Relu6,
    /// <summary>x if x &gt; 0 else alpha*x</summary>
    LeakyRelu,
    /// <summary>x if x &gt; 0 else alpha*(exp(x)-1)</summary>
    Elu,
    /// <summary>scale * elu(x, 1.6733)</summary>
    Selu,
    /// <summary>x * Phi(x) (exact, erf)</summary>
    Gelu,
    /// <summary>1/(1+exp(-x))</summary>
    Sigmoid,
    /// <summary>tanh(x)</summary>
    Tanh,
    /// <summary>x * sigmoid(x) (Swish)</summary>
    Silu,
    /// <summary>x * relu6(x+3)/6</summary>
    Hardswish,
    /// <summary>relu6(x+3)/6</summary>
    Hardsigmoid,
    /// <summary>exp(x)</summary>
    Exp,
    /// <summary>ln(x)</summary>
    Log,
    /// <summary>-x</summary>
    Neg,
    /// <summary>sqrt(x)</summary>
    Sqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>x*x</summary>
    Square,
}

/// <summary>Elementwise binary operations with broadcasting.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a - b</summary>
    Sub,
    /// <summary>a * b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
}

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp
{
    /// <summary>Sum.</summary>
    Sum,
    /// <summary>Arithmetic mean.</summary>
    Mean,
    /// <summary>Maximum.</summary>
    Max,
    /// <summary>Minimum.</summary>
    Min,
}

/// <summary>Pooling kinds.</summary>
public enum PoolKind
{
    /// <summary>Maximum over the window.</summary>
    Max,
    /// <summary>Average over the window, padding counted in the divisor (PyTorch's default).</summary>
    AvgIncludePad,
    /// <summary>Average over the window, padding excluded from the divisor.</summary>
    AvgExcludePad,
}
