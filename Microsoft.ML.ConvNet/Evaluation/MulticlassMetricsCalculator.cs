using System.Globalization;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>Computes <see cref="MulticlassClassificationMetrics"/> from labels and per-class probabilities.</summary>
public static class MulticlassMetricsCalculator
{
    /// <summary>ML.NET's clip for probabilities inside a logarithm.</summary>
    public const double Epsilon = 1e-15;

    /// <summary>
    /// Computes the metrics of <paramref name="labels"/>.Length samples over K classes.
    /// </summary>
    /// <param name="labels">True class of each sample, in [0, K).</param>
    /// <param name="scores">Probabilities, [N, K] row-major. Scores are used as probabilities as they are (not renormalised).</param>
    /// <param name="topK">The K of <see cref="MulticlassClassificationMetrics.TopKAccuracy"/>, at least 1 (may exceed the class count).</param>
    /// <param name="classNames">Class names (K of them); when null, K = scores.Length / labels.Length and classes are named by index.</param>
    /// <returns>The metrics. The predicted class of a sample is the highest probability, the lowest index on ties.</returns>
    /// <exception cref="ArgumentException">No samples, a NaN score, or the lengths of labels, scores and class names do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label outside [0, K), or <paramref name="topK"/> &lt; 1.</exception>
    public static MulticlassClassificationMetrics Compute(int[] labels, float[] scores, int topK, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        int n = labels.Length;
        if (n == 0)
        {
            throw new ArgumentException("MulticlassMetricsCalculator.Compute: no samples (0 labels).", nameof(labels));
        }
        int k;
        if (classNames != null)
        {
            k = classNames.Count;
            if (k == 0)
            {
                throw new ArgumentException("MulticlassMetricsCalculator.Compute: no class names.", nameof(classNames));
            }
            if ((long)n * k != scores.Length)
            {
                throw new ArgumentException(
                    $"MulticlassMetricsCalculator.Compute: {n} labels × {k} classes need {(long)n * k} scores, but scores has length {scores.Length}.", nameof(scores));
            }
        }
        else
        {
            if (scores.Length == 0 || scores.Length % n != 0)
            {
                throw new ArgumentException(
                    $"MulticlassMetricsCalculator.Compute: scores has length {scores.Length}, which is not a positive multiple of the {n} labels.", nameof(scores));
            }
            k = scores.Length / n;
            classNames = Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        var confusion = new ConfusionMatrix(classNames);
        var classCount = new long[k];
        var classLogLoss = new double[k];
        var hitsAtRank = new long[k];
        double totalLogLoss = 0;
        for (int i = 0; i < n; i++)
        {
            int label = labels[i];
            if ((uint)label >= (uint)k)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"MulticlassMetricsCalculator.Compute: label {label} of sample {i} is outside [0, {k}).");
            }
            var row = scores.AsSpan(i * k, k);
            if (HasNaN(row, out int nan))
            {
                throw new ArgumentException($"MulticlassMetricsCalculator.Compute: the score of class {nan} of sample {i} is NaN.", nameof(scores));
            }
            int predicted = 0;
            for (int c = 1; c < k; c++)
            {
                if (row[c] > row[predicted])
                {
                    predicted = c;
                }
            }
            float truth = row[label];
            int rank = 0;
            for (int c = 0; c < k; c++)
            {
                if (row[c] > truth || (row[c] == truth && c < label))
                {
                    rank++;
                }
            }
            hitsAtRank[rank]++;
            double loss = -Math.Log(Math.Clamp((double)truth, Epsilon, 1.0));
            totalLogLoss += loss;
            classLogLoss[label] += loss;
            classCount[label]++;
            confusion.Add(label, predicted);
        }

        double logLoss = totalLogLoss / n;
        double priorLogLoss = 0;
        for (int c = 0; c < k; c++)
        {
            if (classCount[c] > 0)
            {
                double p = (double)classCount[c] / n;
                priorLogLoss -= p * Math.Log(p);
            }
        }
        double reduction = priorLogLoss > 0 ? (priorLogLoss - logLoss) / priorLogLoss : double.NaN;

        var topKAll = new double[topK];
        long cumulative = 0;
        for (int r = 0; r < topK; r++)
        {
            cumulative += r < k ? hitsAtRank[r] : 0;
            topKAll[r] = (double)cumulative / n;
        }
        var perClass = new double[k];
        for (int c = 0; c < k; c++)
        {
            perClass[c] = classCount[c] > 0 ? classLogLoss[c] / classCount[c] : 0;
        }
        return new MulticlassClassificationMetrics(
            confusion.Accuracy, confusion.MacroAccuracy, logLoss, reduction, topK, topKAll, perClass, confusion);
    }

    private static bool HasNaN(ReadOnlySpan<float> row, out int index)
    {
        for (int c = 0; c < row.Length; c++)
        {
            if (float.IsNaN(row[c]))
            {
                index = c;
                return true;
            }
        }
        index = -1;
        return false;
    }
}
