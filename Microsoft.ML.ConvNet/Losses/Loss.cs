using System.Globalization;
using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Layers;
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

/// <summary>
/// Loss functions with PyTorch's definitions, differentiable with respect to their tensor inputs (built from
/// tensor operations, log-softmax and a column gather). Class targets are <c>int[]</c> class indices, one per row.
/// </summary>
public static partial class Loss
{
    /// <summary>
    /// Cross-entropy from logits [N, C] and class indices (PyTorch's <c>cross_entropy</c>): the negative
    /// log-softmax of the target class, ℓₙ = −w[yₙ]·log pₙ[yₙ]. With class weights the mean divides by Σₙ w[yₙ].
    /// With label smoothing ε the loss is (1 − ε)·nll + ε/C·Σ_c −w[c]·log pₙ[c] (the smoothing term reduced the
    /// same way, the weighted mean again dividing by Σₙ w[yₙ]), as in PyTorch 1.13.
    /// </summary>
    /// <param name="logits">Unnormalised scores [N, C].</param>
    /// <param name="targets">Class index of each row, in [0, C).</param>
    /// <param name="classWeights">Optional weight per class [C].</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <param name="reduction">Mean (default), sum, or one loss per row [N].</param>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, float[]? classWeights = null, float labelSmoothing = 0f, Reduction reduction = Reduction.Mean)
    {
        const string op = "CrossEntropy";
        CheckClassInputs(op, logits, targets, classWeights);
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"{op}: label smoothing must be in [0, 1], got {labelSmoothing}.");
        }
        var logProbs = Functional.LogSoftmax(logits, 1);
        var nll = Nll(logProbs, targets, classWeights, reduction);
        if (labelSmoothing == 0f)
        {
            return nll;
        }
        int c = logits.Shape[1];
        Tensor smooth; // −Σ_c w[c]·log p[n, c], per row [N]
        if (classWeights != null)
        {
            var w = Tensor.FromArray(classWeights, new Shape(1, c), logits.Device);
            smooth = (logProbs * w).Sum(1).Neg();
        }
        else
        {
            smooth = logProbs.Sum(1).Neg();
        }
        Tensor smoothReduced = reduction switch
        {
            Reduction.None => smooth,
            Reduction.Sum => smooth.Sum(),
            _ => classWeights != null ? smooth.Sum() * (1f / TargetWeightSum(targets, classWeights)) : smooth.Mean(),
        };
        return nll * (1f - labelSmoothing) + smoothReduced * (labelSmoothing / c);
    }

    /// <summary>
    /// Negative log-likelihood from log-probabilities [N, C] (PyTorch's <c>nll_loss</c>): ℓₙ = −w[yₙ]·x[n, yₙ];
    /// with class weights the mean divides by Σₙ w[yₙ].
    /// </summary>
    /// <param name="logProbs">Log-probabilities [N, C] (e.g. from log-softmax).</param>
    /// <param name="targets">Class index of each row, in [0, C).</param>
    /// <param name="classWeights">Optional weight per class [C].</param>
    /// <param name="reduction">Mean (default), sum, or one loss per row [N].</param>
    public static Tensor NllLoss(Tensor logProbs, int[] targets, float[]? classWeights = null, Reduction reduction = Reduction.Mean)
    {
        CheckClassInputs("NllLoss", logProbs, targets, classWeights);
        return Nll(logProbs, targets, classWeights, reduction);
    }

    /// <summary>
    /// Binary cross-entropy from logits, numerically stable (PyTorch's <c>binary_cross_entropy_with_logits</c>):
    /// ℓ = (1 − t)·x + (1 + (p − 1)·t)·log(1 + e⁻ˣ), with p the positive-class weight (1 when absent).
    /// </summary>
    /// <param name="logits">Scores, any shape.</param>
    /// <param name="targets">Targets in [0, 1], the logits' shape.</param>
    /// <param name="posWeight">Optional weight of positive examples, broadcast over the logits (typically [C]).</param>
    /// <param name="reduction">Mean (default), sum, or elementwise.</param>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "BinaryCrossEntropyWithLogits";
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Shape != targets.Shape)
        {
            throw new ShapeMismatchException(op, logits.Shape, targets.Shape, "the targets must have the logits' shape");
        }
        if (posWeight != null && !BroadcastsTo(posWeight.Shape, logits.Shape))
        {
            throw new ShapeMismatchException(op, logits.Shape, posWeight.Shape, "the positive weight must broadcast to the logits' shape");
        }
        // log(1 + e^−x) = log(e^−m + e^(−x−m)) + m with m = max(−x, 0): no overflow for any x.
        var m = Functional.Relu(logits.Neg());
        var softplus = (m.Neg().Exp() + (logits.Neg() - m).Exp()).Log() + m;
        var linear = targets.Affine(-1f, 1f) * logits;
        Tensor loss = posWeight == null
            ? linear + softplus
            : linear + (posWeight.Affine(1f, -1f) * targets).Affine(1f, 1f) * softplus;
        return Reduce(loss, reduction);
    }

    /// <summary>Mean squared error (x − t)², reduced; input and target must have the same shape.</summary>
    /// <param name="input">Predictions, any shape.</param>
    /// <param name="target">Targets, the input's shape.</param>
    /// <param name="reduction">Mean (default), sum, or elementwise.</param>
    public static Tensor Mse(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (input.Shape != target.Shape)
        {
            throw new ShapeMismatchException("Mse", input.Shape, target.Shape, "the target must have the input's shape");
        }
        return Reduce((input - target).Square(), reduction);
    }

    /// <summary>
    /// Multiclass hinge (SVM) loss, PyTorch's <c>multi_margin_loss</c>: ℓₙ = Σ_{j≠yₙ} max(0, margin − x[n, yₙ] + x[n, j])ᵖ / C.
    /// </summary>
    /// <param name="logits">Scores [N, C].</param>
    /// <param name="targets">Class index of each row, in [0, C).</param>
    /// <param name="margin">The margin.</param>
    /// <param name="p">1 or 2.</param>
    /// <param name="reduction">Mean (default), sum, or one loss per row [N].</param>
    public static Tensor MultiMargin(Tensor logits, int[] targets, float margin = 1f, int p = 1, Reduction reduction = Reduction.Mean)
    {
        const string op = "MultiMargin";
        CheckClassInputs(op, logits, targets, null);
        if (p is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"{op}: p must be 1 or 2, got {p}.");
        }
        int n = logits.Shape[0], c = logits.Shape[1];
        var index = (int[])targets.Clone();
        var own = GatherColumnsFunction.Forward(logits, index).Reshape(n, 1);
        var hinge = Functional.Relu((logits - own).Affine(1f, margin));
        if (p == 2)
        {
            hinge = hinge.Square();
        }
        var others = new float[n * c];
        Array.Fill(others, 1f / c);
        for (int i = 0; i < n; i++)
        {
            others[i * c + index[i]] = 0f;
        }
        var perRow = (hinge * Tensor.FromArray(others, new Shape(n, c), logits.Device)).Sum(1);
        return Reduce(perRow, reduction);
    }

    private static Tensor Nll(Tensor logProbs, int[] targets, float[]? classWeights, Reduction reduction)
    {
        var index = (int[])targets.Clone();
        var picked = GatherColumnsFunction.Forward(logProbs, index);
        if (classWeights == null)
        {
            return reduction switch
            {
                Reduction.None => picked.Neg(),
                Reduction.Sum => picked.Sum().Neg(),
                _ => picked.Mean().Neg(),
            };
        }
        var wy = new float[index.Length];
        for (int i = 0; i < wy.Length; i++)
        {
            wy[i] = classWeights[index[i]];
        }
        var weighted = picked * Tensor.FromArray(wy, new Shape(wy.Length), logProbs.Device);
        return reduction switch
        {
            Reduction.None => weighted.Neg(),
            Reduction.Sum => weighted.Sum().Neg(),
            _ => weighted.Sum() * (-1f / TargetWeightSum(index, classWeights)),
        };
    }

    /// <summary>Σₙ w[yₙ], accumulated in double: the divisor of PyTorch's weighted mean.</summary>
    private static float TargetWeightSum(int[] targets, float[] classWeights)
    {
        double s = 0;
        foreach (int t in targets)
        {
            s += classWeights[t];
        }
        return (float)s;
    }

    /// <summary>True when <paramref name="source"/> broadcasts to exactly <paramref name="target"/> (NumPy rules).</summary>
    private static bool BroadcastsTo(Shape source, Shape target)
    {
        if (source.Rank > target.Rank)
        {
            return false;
        }
        for (int i = 1; i <= source.Rank; i++)
        {
            int s = source[source.Rank - i];
            if (s != 1 && s != target[target.Rank - i])
            {
                return false;
            }
        }
        return true;
    }

    private static Tensor Reduce(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.None => loss,
        Reduction.Sum => loss.Sum(),
        Reduction.Mean => loss.Mean(),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), $"Unknown reduction {reduction}."),
    };

    private static void CheckClassInputs(string op, Tensor scores, int[] targets, float[]? classWeights)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(targets);
        if (scores.Rank != 2)
        {
            throw new ShapeMismatchException($"{op}: expected scores [N, C], got {scores.Shape}.");
        }
        int n = scores.Shape[0], c = scores.Shape[1];
        if (targets.Length != n)
        {
            throw new ShapeMismatchException(op, scores.Shape, new Shape(targets.Length),
                $"the scores have {n} row(s) but {targets.Length} target(s) were given");
        }
        for (int i = 0; i < targets.Length; i++)
        {
            if ((uint)targets[i] >= (uint)c)
            {
                throw new ArgumentOutOfRangeException(nameof(targets),
                    string.Create(CultureInfo.InvariantCulture, $"{op}: target {targets[i]} at row {i} is outside the {c} classes [0, {c})."));
            }
        }
        if (classWeights != null && classWeights.Length != c)
        {
            throw new ArgumentException($"{op}: {classWeights.Length} class weight(s) given for {c} classes.", nameof(classWeights));
        }
    }
}
