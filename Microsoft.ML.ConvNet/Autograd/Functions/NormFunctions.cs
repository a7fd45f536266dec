using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Backends;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>
/// Training-mode batch normalisation of x [N, C, ...] per channel with batch statistics; gamma, beta [C].
/// Forward also updates runningMean/runningVar [C] in place (momentum, unbiased variance). The batch mean and
/// 1/σ [C] are kept for the backward pass:
/// dx = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy (sums over N and the spatial axes).
/// </summary>
internal sealed class BatchNormFunction : Function
{
    private Tensor? _mean;
    private Tensor? _invStd;

    public override string Name => "BatchNorm";

    public static Tensor Forward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps)
    {
        var stat = new Shape(x.Shape[1]);
        var y = x.EmptyLike();
        var mean = x.EmptyLike(stat);
        var invStd = x.EmptyLike(stat);
        x.Backend.BatchNormForward(x, gamma, beta, runningMean, runningVar, y, mean, invStd, training: true, momentum, eps);
        if (!WillRecord(x, gamma, beta))
        {
            mean.Dispose();
            invStd.Dispose();
            return y;
        }
        return Record(new BatchNormFunction { _mean = mean, _invStd = invStd }, y, x, gamma, beta);
    }

    public override Tensor?[] Backward(Tensor dy) => Gradients(this, dy, _mean!, _invStd!, dyIsFree: true);

    internal override bool BackwardReadsOutput => false;

    /// <summary>
    /// dx, dγ, dβ of a training-mode batch norm fn (inputs x, γ, β, …) for dy, from the batch mean and 1/σ, which it then
    /// disposes; slots beyond β stay null for the caller. When <paramref name="dyIsFree"/> (nothing reads dy afterwards),
    /// dx is written over dy on the CPU, where the kernel finishes each channel's sums before it writes: a training step
    /// then holds one gradient buffer of the layer's size here instead of two.
    /// </summary>
    internal static Tensor?[] Gradients(Function fn, Tensor dy, Tensor mean, Tensor invStd, bool dyIsFree)
    {
        Tensor x = fn.Inputs[0], gamma = fn.Inputs[1];
        var dx = dyIsFree && x.RequiresGrad && x.Device.Type == DeviceType.Cpu ? dy : x.EmptyLike();
        var dgamma = gamma.EmptyLike();
        var dbeta = gamma.EmptyLike();
        x.Backend.BatchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        mean.Dispose();
        invStd.Dispose();
        var grads = new Tensor?[fn.Inputs.Length];
        grads[0] = NormGradients.KeepIf(fn.Inputs[0].RequiresGrad, dx);
        grads[1] = NormGradients.KeepIf(fn.Inputs[1].RequiresGrad, dgamma);
        grads[2] = NormGradients.KeepIf(fn.Inputs[2].RequiresGrad, dbeta);
        return grads;
    }
}

/// <summary>
/// Normalisation with per-row statistics and an optional affine gamma/beta (group and layer norm): keeps mean and
/// 1/σ per row for the backward pass, and maps the present affine parameters to input slots 1 and 2.
/// </summary>
internal abstract class RowNormFunction(bool hasGamma, bool hasBeta) : Function
{
    private Tensor? _mean;
    private Tensor? _invStd;

    /// <summary>Runs the backend forward into y with the row statistics, and records the function when needed.</summary>
    protected static Tensor Run(RowNormFunction fn, Tensor x, Tensor? gamma, Tensor? beta, int rows,
        Action<Tensor, Tensor, Tensor> forward)
    {
        var y = x.EmptyLike();
        var mean = x.EmptyLike(new Shape(rows));
        var invStd = x.EmptyLike(new Shape(rows));
        forward(y, mean, invStd);
        var inputs = NormGradients.Inputs(x, gamma, beta);
        if (!WillRecord(inputs))
        {
            mean.Dispose();
            invStd.Dispose();
            return y;
        }
        fn._mean = mean;
        fn._invStd = invStd;
        return Record(fn, y, inputs);
    }

    /// <summary>
    /// The ONNX form of the optional affine step: <paramref name="y"/>·γ + β with γ and β (value names in
    /// <paramref name="inputs"/>) reshaped to <paramref name="affineShape"/> so that they broadcast.
    /// </summary>
    protected string AffineOnnx(OnnxGraph graph, string[] inputs, string y, string affineShape)
    {
        int next = 1;
        if (hasGamma)
        {
            y = graph.AddNode("Mul", [y, graph.AddNode("Reshape", [inputs[next++], affineShape])]);
        }
        if (hasBeta)
        {
            y = graph.AddNode("Add", [y, graph.AddNode("Reshape", [inputs[next], affineShape])]);
        }
        return y;
    }

    /// <summary>Calls the backend backward: (x, dy, gamma, mean, invStd, dx, dgamma, dbeta).</summary>
    protected abstract void RunBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta);

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        int gi = hasGamma ? 1 : -1;
        int bi = hasBeta ? (hasGamma ? 2 : 1) : -1;
        var gamma = gi > 0 ? Inputs[gi] : null;
        var dx = x.EmptyLike();
        var dgamma = gi > 0 && NeedsGrad(gi) ? Inputs[gi].EmptyLike() : null;
        var dbeta = bi > 0 && NeedsGrad(bi) ? Inputs[bi].EmptyLike() : null;
        RunBackward(x, dy, gamma, _mean!, _invStd!, dx, dgamma, dbeta);
        _mean!.Dispose();
        _invStd!.Dispose();
        var grads = new Tensor?[Inputs.Length];
        grads[0] = NormGradients.KeepIf(NeedsGrad(0), dx);
        if (gi > 0)
        {
            grads[gi] = dgamma;
        }
        if (bi > 0)
        {
            grads[bi] = dbeta;
        }
        return grads;
    }
}

/// <summary>
/// Group normalisation of x [N, C, ...] in G groups of C/G channels: statistics per (sample, group) over the
/// group's channels and spatial positions, then an optional affine gamma/beta [C] per channel.
/// Keeps mean and 1/σ [N·G]; dx = σ⁻¹·(d − mean(d) − x̂·mean(d·x̂)) per group with d = γ·dy.
/// </summary>
internal sealed class GroupNormFunction(int groups, float eps, bool hasGamma, bool hasBeta) : RowNormFunction(hasGamma, hasBeta)
{
    public override string Name => "GroupNorm";

    public static Tensor Forward(Tensor x, Tensor? gamma, Tensor? beta, int groups, float eps)
        => Run(new GroupNormFunction(groups, eps, gamma != null, beta != null), x, gamma, beta, x.Shape[0] * groups,
            (y, mean, invStd) => x.Backend.GroupNormForward(x, gamma, beta, y, mean, invStd, groups, eps));

    protected override void RunBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta)
        => x.Backend.GroupNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta, groups);

    /// <summary>
    /// ONNX has no GroupNormalization before opset 18: x [N, C, ...] is reshaped to [N, G, −1], normalised per
    /// (sample, group) by InstanceNormalization, reshaped back, then scaled and shifted per channel.
    /// </summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        var x = Inputs[0];
        var grouped = graph.AddNode("Reshape", [inputs[0], graph.ReshapeTarget(x, new Shape(x.Shape[0], groups, x.Size / x.Shape[0] / groups))]);
        var ones = graph.AddConstant("ones", Enumerable.Repeat(1f, groups).ToArray(), groups);
        var zeros = graph.AddConstant("zeros", new float[groups], groups);
        var normalized = graph.AddNode("InstanceNormalization", [grouped, ones, zeros], OnnxAttribute.Float("epsilon", eps));
        var y = graph.AddNode("Reshape", [normalized, graph.ReshapeTarget(x, x.Shape)]);
        var perChannel = Enumerable.Repeat(1L, x.Rank - 1).ToArray();
        perChannel[0] = x.Shape[1];
        return AffineOnnx(graph, inputs, y, graph.Int64s("channel_shape", perChannel));
    }
}

/// <summary>
/// Layer normalisation of x viewed as [outer, inner] over each row of <c>inner</c> elements, then an optional
/// elementwise affine gamma/beta [inner]. Keeps mean and 1/σ [outer];
/// dx = σ⁻¹·(d − mean(d) − x̂·mean(d·x̂)) per row with d = γ·dy; dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
/// </summary>
internal sealed class LayerNormFunction(int inner, float eps, bool hasGamma, bool hasBeta) : RowNormFunction(hasGamma, hasBeta)
{
    public override string Name => "LayerNorm";

    public static Tensor Forward(Tensor x, Tensor? gamma, Tensor? beta, int inner, float eps)
        => Run(new LayerNormFunction(inner, eps, gamma != null, beta != null), x, gamma, beta, x.Size / inner,
            (y, mean, invStd) => x.Backend.LayerNormForward(x, gamma, beta, y, mean, invStd, inner, eps));

    protected override void RunBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta)
        => x.Backend.LayerNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta, inner);

    /// <summary>ONNX LayerNormalization (without scale it normalises with a scale of ones) from the first normalised axis on.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        var shape = Inputs[0].Shape;
        int axis = shape.Rank - 1;
        while (axis > 0 && shape.SizeOf(axis, shape.Rank) != inner)
        {
            axis--;
        }
        var normalizedShape = shape.ToArray()[axis..].Select(d => (long)d).ToArray();
        var normalized = graph.AddNode("LayerNormalization",
            [inputs[0], graph.AddConstant("ones", Enumerable.Repeat(1f, inner).ToArray(), normalizedShape)],
            OnnxAttribute.Int("axis", axis), OnnxAttribute.Float("epsilon", eps));
        return AffineOnnx(graph, inputs, normalized, graph.Int64s("normalized_shape", normalizedShape));
    }
}

/// <summary>
/// Local response normalisation across channels of x [N, C, ...] (PyTorch's LocalResponseNorm):
/// y_c = x_c / (k + α/n·Σ_{c'} x_{c'}²)^β over the n channels c − ⌊n/2⌋ … c + ⌊(n−1)/2⌋. Keeps y for backward.
/// </summary>
internal sealed class LrnFunction(int size, float alpha, float beta, float k) : Function
{
    private Tensor? _y;

    public override string Name => "LocalResponseNorm";

    public static Tensor Forward(Tensor x, int size, float alpha, float beta, float k)
    {
        var y = x.EmptyLike();
        x.Backend.LrnForward(x, y, size, alpha, beta, k);
        return Record(new LrnFunction(size, alpha, beta, k) { _y = y }, y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        x.Backend.LrnBackward(x, _y!, dy, dx, size, alpha, beta, k);
        return [dx];
    }

    /// <summary>ONNX LRN; its window matches PyTorch's for odd sizes only.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => size % 2 == 1
            ? graph.AddNode("LRN", inputs, OnnxAttribute.Int("size", size), OnnxAttribute.Float("alpha", alpha),
                OnnxAttribute.Float("beta", beta), OnnxAttribute.Float("bias", k))
            : throw graph.Unsupported(Name, $"ONNX LRN centres an even window of {size} channels one channel later than PyTorch");
}

/// <summary>Helpers shared by the normalisation functions.</summary>
internal static class NormGradients
{
    /// <summary>The gradient when it is wanted; otherwise disposes it and returns null.</summary>
    public static Tensor? KeepIf(bool wanted, Tensor gradient)
    {
        if (wanted)
        {
            return gradient;
        }
        gradient.Dispose();
        return null;
    }

    /// <summary>x followed by the affine parameters that are present.</summary>
    public static Tensor[] Inputs(Tensor x, Tensor? gamma, Tensor? beta)
    {
        var list = new List<Tensor>(3) { x };
        if (gamma != null)
        {
            list.Add(gamma);
        }
        if (beta != null)
        {
            list.Add(beta);
        }
        return [.. list];
    }
}

/// <summary>
/// Training-mode batch normalisation, then an optional residual addition, then ReLU or ReLU6, as one operation:
/// y = act(BN(x) + r). The normalised values and the sum are never kept (PyTorch gets the same from its in-place
/// addition and activation): the backward pass takes the activation's mask from y, which the next layer keeps anyway, so
/// a conv → BN → ReLU layer holds two activations instead of three, and a residual block's end one instead of three.
/// dz = dy·act'(y); dr = dz; dx, dγ, dβ as <see cref="BatchNormFunction"/> with dz for dy.
/// </summary>
internal sealed class BatchNormActivationFunction(UnaryOp activation) : Function
{
    private Tensor? _mean;
    private Tensor? _invStd;
    private Tensor? _y;

    public override string Name => "BatchNormActivation";

    /// <summary>Inputs x, γ, β and, when given, the residual r (of x's shape).</summary>
    public static Tensor Forward(Tensor x, Tensor gamma, Tensor beta, Tensor? residual, UnaryOp activation, Tensor runningMean, Tensor runningVar, float momentum, float eps)
    {
        if (activation is not (UnaryOp.Relu or UnaryOp.Relu6))
        {
            throw new ArgumentOutOfRangeException(nameof(activation), $"BatchNormActivation: the activation's derivative must follow from its output (ReLU, ReLU6), got {activation}.");
        }
        var stat = new Shape(x.Shape[1]);
        var y = x.EmptyLike();
        var mean = x.EmptyLike(stat);
        var invStd = x.EmptyLike(stat);
        x.Backend.BatchNormForward(x, gamma, beta, runningMean, runningVar, y, mean, invStd, training: true, momentum, eps);
        if (residual != null)
        {
            y.Backend.Binary(BinaryOp.Add, y, residual, y);
        }
        y.Backend.Unary(activation, y, y, 0f);
        Tensor[] inputs = residual != null ? [x, gamma, beta, residual] : [x, gamma, beta];
        if (!WillRecord(inputs))
        {
            mean.Dispose();
            invStd.Dispose();
            return y;
        }
        return Record(new BatchNormActivationFunction(activation) { _mean = mean, _invStd = invStd, _y = y }, y, inputs);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        // The activation's derivative is applied to dy in place: ReLU's and ReLU6's read only the sign and range of their
        // argument, which y shares with it. dz is then the residual's gradient, or else free for the batch norm's dx.
        var dz = dy;
        dz.Backend.UnaryBackward(activation, _y!, _y!, dy, dz, 0f);
        bool residual = Inputs.Length == 4 && NeedsGrad(3);
        var grads = BatchNormFunction.Gradients(this, dz, _mean!, _invStd!, dyIsFree: !residual);
        if (residual)
        {
            grads[3] = dz;
        }
        return grads;
    }
}
