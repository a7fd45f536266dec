using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Losses;

public static partial class Loss
{
    /// <summary>
    /// Cross-entropy from logits [N, C] and soft targets [N, C] (a probability per class and row, as Mixup and CutMix
    /// make; PyTorch's <c>cross_entropy</c> with probability targets): ℓₙ = −Σ_c t[n, c]·log softmax(x)[n, c].
    /// Forward: log-softmax, then the target-weighted sum per row. Backward (by the tape through the same operations):
    /// ∂ℓₙ/∂x[n, c] = softmax(x)[n, c]·Σ_k t[n, k] − t[n, c], which is p − t for targets that sum to 1.
    /// </summary>
    /// <param name="logits">Unnormalised scores [N, C].</param>
    /// <param name="targets">Target probabilities [N, C] (not differentiated).</param>
    /// <param name="reduction">Mean over rows (default), sum, or one loss per row [N].</param>
    public static Tensor SoftTargetCrossEntropy(Tensor logits, Tensor targets, Reduction reduction = Reduction.Mean)
    {
        const string op = "SoftTargetCrossEntropy";
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank != 2)
        {
            throw new ShapeMismatchException($"{op}: expected logits [N, C], got {logits.Shape}.");
        }
        if (targets.Shape != logits.Shape)
        {
            throw new ShapeMismatchException(op, logits.Shape, targets.Shape, "the soft targets must have the logits' shape [N, C]");
        }
        var perRow = (Functional.LogSoftmax(logits, 1) * targets.Detach()).Sum(1).Neg();
        return Reduce(perRow, reduction);
    }
}
