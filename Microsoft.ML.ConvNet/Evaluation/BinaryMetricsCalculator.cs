using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>Computes <see cref="BinaryClassificationMetrics"/> from labels and probabilities of the positive class.</summary>
public static class BinaryMetricsCalculator
{
    private static readonly string[] ClassNames = ["positive", "negative"];

    /// <summary>
    /// Computes the metrics. A sample is predicted positive when its probability is strictly greater than
    /// <paramref name="threshold"/> (ML.NET's rule: a probability equal to the threshold is negative).
    /// </summary>
    /// <param name="labels">True labels (true = positive).</param>
    /// <param name="probabilities">Probability of the positive class per sample, same length as <paramref name="labels"/>.</param>
    /// <param name="threshold">Decision threshold on the probability.</param>
    /// <exception cref="ArgumentException">No samples, lengths differ, a NaN probability, or a NaN threshold.</exception>
    public static BinaryClassificationMetrics Compute(bool[] labels, float[] probabilities, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (labels.Length != probabilities.Length)
        {
            throw new ArgumentException(
                $"BinaryMetricsCalculator.Compute: labels has length {labels.Length} but probabilities has length {probabilities.Length}.", nameof(probabilities));
        }
        if (labels.Length == 0)
        {
            throw new ArgumentException("BinaryMetricsCalculator.Compute: no samples (0 labels).", nameof(labels));
        }
        if (float.IsNaN(threshold))
        {
            throw new ArgumentException("BinaryMetricsCalculator.Compute: the threshold is NaN.", nameof(threshold));
        }
        int n = labels.Length;
        var confusion = new ConfusionMatrix(ClassNames);
        long positives = 0;
        double totalLogLoss = 0;
        for (int i = 0; i < n; i++)
        {
            float p = probabilities[i];
            if (float.IsNaN(p))
            {
                throw new ArgumentException($"BinaryMetricsCalculator.Compute: the probability of sample {i} is NaN.", nameof(probabilities));
            }
            bool positive = labels[i];
            if (positive)
            {
                positives++;
            }
            double q = positive ? p : 1.0 - p;
            totalLogLoss -= Math.Log(Math.Clamp(q, MulticlassMetricsCalculator.Epsilon, 1.0));
            confusion.Add(positive ? 0 : 1, p > threshold ? 0 : 1);
        }
        long negatives = n - positives;
        double prior = (double)positives / n;
        double entropy = positives == 0 || negatives == 0 ? 0 : -(prior * Math.Log(prior) + (1 - prior) * Math.Log(1 - prior));

        // Sort once by probability; both areas walk groups of tied probabilities.
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        var keys = (float[])probabilities.Clone();
        Array.Sort(keys, order);
        double auc = RocArea(labels, keys, order, positives, negatives);
        double auprc = AveragePrecision(labels, keys, order, positives);
        return new BinaryClassificationMetrics(confusion.Accuracy, auc, auprc, totalLogLoss / n, entropy, confusion);
    }

    /// <summary>Mann–Whitney: (sum of the positives' ranks − P(P+1)/2) / (P·N), tied probabilities sharing their mean rank.</summary>
    private static double RocArea(bool[] labels, float[] sorted, int[] order, long positives, long negatives)
    {
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }
        double positiveRankSum = 0;
        int n = sorted.Length;
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && sorted[end] == sorted[start])
            {
                end++;
            }
            double meanRank = (start + 1 + end) / 2.0; // ranks start+1 .. end, 1-based
            for (int j = start; j < end; j++)
            {
                if (labels[order[j]])
                {
                    positiveRankSum += meanRank;
                }
            }
            start = end;
        }
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Average precision, walking the ascending sort from the highest probability down, one step per distinct probability.</summary>
    private static double AveragePrecision(bool[] labels, float[] sorted, int[] order, long positives)
    {
        if (positives == 0)
        {
            return double.NaN;
        }
        long tp = 0, fp = 0;
        double area = 0, previousRecall = 0;
        for (int end = sorted.Length; end > 0;)
        {
            int start = end - 1;
            while (start > 0 && sorted[start - 1] == sorted[end - 1])
            {
                start--;
            }
            for (int j = start; j < end; j++)
            {
                if (labels[order[j]])
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            double recall = (double)tp / positives;
            area += (recall - previousRecall) * tp / (tp + fp);
            previousRecall = recall;
            end = start;
        }
        return area;
    }
}
