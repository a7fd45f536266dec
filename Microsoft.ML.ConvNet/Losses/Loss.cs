using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Losses;

/// <summary>How per-sample losses are combined.</summary>
public enum Reduction
{
    /// <summary>One loss per sample.</summary>
    None,
    /// <summary>The mean (weighted mean with class weights, as PyTorch).</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
}

// Placeholder signatures: losses.
/// <summary>Loss functions (differentiable), PyTorch's definitions.</summary>
public static partial class Loss
{
    /// <summary>Cross-entropy from logits [N, C] and class indices, with optional class weights and label smoothing.</summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, float[]? classWeights = null, float labelSmoothing = 0f, Reduction reduction = Reduction.Mean)
        => throw new NotImplementedException();

    /// <summary>Negative log-likelihood from log-probabilities [N, C].</summary>
    public static Tensor NllLoss(Tensor logProbs, int[] targets, float[]? classWeights = null, Reduction reduction = Reduction.Mean)
        => throw new NotImplementedException();

    /// <summary>Binary cross-entropy from logits (numerically stable), targets in [0, 1], optional positive-class weight.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
        => throw new NotImplementedException();

    /// <summary>Mean squared error.</summary>
    public static Tensor Mse(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => throw new NotImplementedException();

    /// <summary>Multiclass hinge (SVM) loss, PyTorch's MultiMarginLoss: Σ_{j≠y} max(0, margin − x_y + x_j)^p / C.</summary>
    public static Tensor MultiMargin(Tensor logits, int[] targets, float margin = 1f, int p = 1, Reduction reduction = Reduction.Mean)
        => throw new NotImplementedException();
}
