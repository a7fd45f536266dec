using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

// Placeholder signatures: normalisation.
public static partial class Functional
{
    /// <summary>
    /// Batch normalisation of [N, C], [N, C, L] or [N, C, H, W] per channel. Training uses batch statistics and updates
    /// the running ones in place; evaluation uses the running statistics.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias, bool training, float momentum = 0.1f, float eps = 1e-5f)
        => throw new NotImplementedException();

    /// <summary>Layer normalisation over the trailing <paramref name="normalizedShape"/> axes, elementwise affine.</summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight, Tensor? bias, float eps = 1e-5f)
        => throw new NotImplementedException();

    /// <summary>Group normalisation of [N, C, ...] in <paramref name="numGroups"/> groups, per-channel affine.</summary>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight, Tensor? bias, float eps = 1e-5f)
        => throw new NotImplementedException();

    /// <summary>Local response normalisation across channels (AlexNet): x / (k + α/n·Σ x²)^β.</summary>
    public static Tensor LocalResponseNorm(Tensor x, int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
        => throw new NotImplementedException();
}
