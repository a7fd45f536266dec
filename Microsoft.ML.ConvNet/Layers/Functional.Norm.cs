using Microsoft.ML.ConvNet.Autograd;
using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>Normalisation: batch, layer, group and local response normalisation (PyTorch's semantics).</summary>
public static partial class Functional
{
    /// <summary>
    /// Batch normalisation of [N, C], [N, C, L] or [N, C, H, W] per channel. Training uses batch statistics (biased
    /// variance) and updates the running ones in place: running = (1 − momentum)·running + momentum·batch, with the
    /// unbiased variance. Evaluation uses the running statistics: y = (x − mean)/√(var + eps)·weight + bias, which is
    /// differentiable with respect to x, weight and bias too. Null weight/bias mean ones/zeros.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias, bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        if (x.Rank < 2 || x.Rank > 4)
        {
            throw new ShapeMismatchException($"BatchNorm: expected input [N, C], [N, C, L] or [N, C, H, W], got {x.Shape}.");
        }
        int c = x.Shape[1];
        CheckPerChannel("BatchNorm", x, c, runningMean, "running mean");
        CheckPerChannel("BatchNorm", x, c, runningVar, "running variance");
        CheckPerChannel("BatchNorm", x, c, weight, "weight");
        CheckPerChannel("BatchNorm", x, c, bias, "bias");
        var channels = new Shape(c);
        if (training)
        {
            if (x.Size / c <= 1)
            {
                throw new ArgumentException($"BatchNorm: expected more than one value per channel when training, got input {x.Shape}.");
            }
            runningMean.MarkChanged();
            runningVar.MarkChanged();
            var w = weight ?? Tensor.Ones(channels, x.Device);
            var b = bias ?? Tensor.Zeros(channels, x.Device);
            var y = BatchNormFunction.Forward(x, w, b, runningMean, runningVar, momentum, eps);
            if (!y.RequiresGrad)
            {
                DisposeUnless(w, weight);
                DisposeUnless(b, bias);
            }
            return y;
        }

        if (!Function.WillRecord(x, weight ?? x, bias ?? x))
        {
            // Inference: one fused pass.
            var w = weight ?? Tensor.Ones(channels, x.Device);
            var b = bias ?? Tensor.Zeros(channels, x.Device);
            using var mean = Tensor.Empty(channels, x.Device).Unscope();
            using var invStd = Tensor.Empty(channels, x.Device).Unscope();
            var y = x.EmptyLike();
            x.Backend.BatchNormForward(x, w, b, runningMean, runningVar, y, mean, invStd, training: false, momentum, eps);
            DisposeUnless(w, weight);
            DisposeUnless(b, bias);
            return y;
        }

        // Evaluation with gradients: a per-channel affine map built from recorded tensor ops.
        var dims = Enumerable.Repeat(1, x.Rank).ToArray();
        dims[1] = c;
        Tensor invStdRunning;
        using (new NoGradScope())
        {
            using var shifted = runningVar + eps;
            using var std = shifted.Sqrt();
            using var one = Tensor.Ones(channels, x.Device);
            invStdRunning = one / std;
        }
        var scale = weight != null ? weight * invStdRunning : invStdRunning;
        var negatedMean = (runningMean * scale).Neg();
        var shift = bias != null ? bias + negatedMean : negatedMean;
        return x * scale.Reshape(dims) + shift.Reshape(dims);
    }

    /// <summary>
    /// Layer normalisation over the trailing <paramref name="normalizedShape"/> axes (biased variance), then an
    /// elementwise affine weight/bias of shape <paramref name="normalizedShape"/> (either may be null).
    /// </summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        var normalized = new Shape(normalizedShape);
        bool fits = normalizedShape.Length >= 1 && normalizedShape.Length <= x.Rank;
        for (int i = 0; fits && i < normalizedShape.Length; i++)
        {
            fits = x.Shape[x.Rank - normalizedShape.Length + i] == normalizedShape[i];
        }
        if (!fits || normalized.Size == 0)
        {
            throw new ShapeMismatchException("LayerNorm", x.Shape, normalized, "the input's trailing axes must equal the normalized shape");
        }
        foreach (var p in new[] { weight, bias })
        {
            if (p != null && p.Shape != normalized)
            {
                throw new ShapeMismatchException("LayerNorm", normalized, p.Shape, "weight and bias must have the normalized shape");
            }
        }
        return LayerNormFunction.Forward(x, weight, bias, normalized.Size, eps);
    }

    /// <summary>
    /// Group normalisation of [N, C, ...]: the C channels are split into <paramref name="numGroups"/> groups, each
    /// (sample, group) normalised over its channels and positions (biased variance), then a per-channel affine
    /// weight/bias [C] (either may be null). C must be divisible by <paramref name="numGroups"/>.
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
        {
            throw new ShapeMismatchException($"GroupNorm: expected input [N, C, ...], got {x.Shape}.");
        }
        int c = x.Shape[1];
        if (numGroups < 1 || c % numGroups != 0)
        {
            throw new ShapeMismatchException($"GroupNorm: the {c} channels of input {x.Shape} cannot be split into {numGroups} groups (channels must be divisible by groups).");
        }
        CheckPerChannel("GroupNorm", x, c, weight, "weight");
        CheckPerChannel("GroupNorm", x, c, bias, "bias");
        return GroupNormFunction.Forward(x, weight, bias, numGroups, eps);
    }

    /// <summary>
    /// Local response normalisation across channels (AlexNet) of [N, C, ...]:
    /// y_c = x_c / (k + α/n·Σ x_{c'}²)^β, the sum over the n = <paramref name="size"/> channels
    /// c − ⌊n/2⌋ … c + ⌊(n − 1)/2⌋ that exist (as torch.nn.LocalResponseNorm).
    /// </summary>
    public static Tensor LocalResponseNorm(Tensor x, int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
        {
            throw new ShapeMismatchException($"LocalResponseNorm: expected input [N, C, ...], got {x.Shape}.");
        }
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"LocalResponseNorm: the window size must be at least 1, got {size}.");
        }
        return LrnFunction.Forward(x, size, alpha, beta, k);
    }

    private static void CheckPerChannel(string operation, Tensor x, int channels, Tensor? t, string what)
    {
        if (t != null && (t.Rank != 1 || t.Size != channels))
        {
            throw new ShapeMismatchException(operation, x.Shape, t.Shape, $"the {what} must be [{channels}] (one per channel)");
        }
    }

    private static void DisposeUnless(Tensor created, Tensor? given)
    {
        if (given == null)
        {
            created.Dispose();
        }
    }
}
