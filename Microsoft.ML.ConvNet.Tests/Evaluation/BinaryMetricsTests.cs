using Microsoft.ML.ConvNet.Evaluation;

namespace Microsoft.ML.ConvNet.Tests.Evaluation;

[TestClass]
public sealed class BinaryMetricsTests
{
    // Six samples, threshold 0.5 (positive when p > 0.5):
    //   #  label  p    predicted
    //   0  +      0.9  +   TP
    //   1  +      0.6  +   TP
    //   2  −      0.6  +   FP
    //   3  +      0.4  −   FN
    //   4  −      0.3  −   TN
    //   5  −      0.1  −   TN
    // TP 2, FP 1, FN 1, TN 2: accuracy 4/6; positive precision 2/3, recall 2/3; negative precision 2/3, recall 2/3;
    // F1 = 2/3.
    // AUC (Mann–Whitney): ascending ranks 0.1→1, 0.3→2, 0.4→3, 0.6,0.6→4.5 each, 0.9→6. Positive rank sum
    // 3 + 4.5 + 6 = 13.5; U = 13.5 − 3·4/2 = 7.5; AUC = 7.5/(3·3) = 0.8333...
    // (Pairwise: 0.9 beats 3 negatives, 0.6 beats 2 and ties 1 → 2.5, 0.4 beats 2: 7.5/9.)
    // Average precision, thresholds from the top: 0.9 → P 1/1, R 1/3; 0.6 → P 2/3, R 2/3; 0.4 → P 3/4, R 1;
    // AP = 1/3·1 + 1/3·2/3 + 1/3·3/4 = 29/36 = 0.80555...
    // Log-loss = −(ln 0.9 + ln 0.6 + ln 0.4 + ln 0.4 + ln 0.7 + ln 0.9)/6 = 0.48513384... (negatives use 1 − p).
    // Entropy of (1/2, 1/2) = ln 2.
    private static readonly bool[] Labels = [true, true, false, true, false, false];
    private static readonly float[] Probabilities = [0.9f, 0.6f, 0.6f, 0.4f, 0.3f, 0.1f];

    [TestMethod]
    public void HandComputedExample()
    {
        var m = BinaryMetricsCalculator.Compute(Labels, Probabilities);
        Assert.AreEqual(4.0 / 6, m.Accuracy, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PositivePrecision, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PositiveRecall, 1e-12);
        Assert.AreEqual(2.0 / 3, m.NegativePrecision, 1e-12);
        Assert.AreEqual(2.0 / 3, m.NegativeRecall, 1e-12);
        Assert.AreEqual(2.0 / 3, m.F1Score, 1e-12);
        Assert.AreEqual(7.5 / 9, m.AreaUnderRocCurve, 1e-12);
        Assert.AreEqual(29.0 / 36, m.AreaUnderPrecisionRecallCurve, 1e-12);

        double logLoss = -(Math.Log(0.9f) + Math.Log(0.6f) + Math.Log(1 - (double)0.6f) + Math.Log(0.4f)
            + Math.Log(1 - (double)0.3f) + Math.Log(1 - (double)0.1f)) / 6;
        Assert.AreEqual(logLoss, m.LogLoss, 1e-12);
        Assert.AreEqual(0.4851338, m.LogLoss, 1e-7);
        Assert.AreEqual(Math.Log(2), m.Entropy, 1e-12);
        Assert.AreEqual((Math.Log(2) - logLoss) / Math.Log(2), m.LogLossReduction, 1e-12);

        // ML.NET's binary layout: index 0 = positive, 1 = negative.
        var cm = m.ConfusionMatrix;
        CollectionAssert.AreEqual(new[] { "positive", "negative" }, cm.ClassNames.ToArray());
        CollectionAssert.AreEqual(new double[] { 2, 1 }, cm.Counts[0].ToArray(), "TP, FN");
        CollectionAssert.AreEqual(new double[] { 1, 2 }, cm.Counts[1].ToArray(), "FP, TN");
    }

    [TestMethod]
    public void AsymmetricCountsSeparateTheFourRates()
    {
        // Labels + + + − −, p 0.8 0.7 0.2 0.9 0.1, threshold 0.5: TP 2 (0.8, 0.7), FN 1 (0.2), FP 1 (0.9), TN 1 (0.1).
        // Positive precision 2/3, recall 2/3; negative precision TN/(TN+FN) = 1/2, recall TN/(TN+FP) = 1/2.
        // AUC: pairs (pos, neg): 0.8 > 0.1 only (0.9 beats it): 1; 0.7: 1; 0.2: 1 → 3/6 = 0.5.
        var m = BinaryMetricsCalculator.Compute([true, true, true, false, false], [0.8f, 0.7f, 0.2f, 0.9f, 0.1f]);
        Assert.AreEqual(2.0 / 3, m.PositivePrecision, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PositiveRecall, 1e-12);
        Assert.AreEqual(0.5, m.NegativePrecision, 1e-12);
        Assert.AreEqual(0.5, m.NegativeRecall, 1e-12);
        Assert.AreEqual(0.5, m.AreaUnderRocCurve, 1e-12);
        Assert.AreEqual(3.0 / 5, m.Accuracy, 1e-12);
    }

    [TestMethod]
    public void AucWithTiesMatchesPairCounting()
    {
        var rng = new Random(11);
        const int n = 301;
        var labels = new bool[n];
        var p = new float[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.NextDouble() < 0.4;
            // Ten distinct values: many ties; positives shifted up a little.
            p[i] = MathF.Min(0.9f, MathF.Round((float)rng.NextDouble() * 0.8f + (labels[i] ? 0.2f : 0f), 1));
        }
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (labels[i] && !labels[j])
                {
                    pairs++;
                    wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
                }
            }
        }
        var m = BinaryMetricsCalculator.Compute(labels, p);
        Assert.AreEqual(wins / pairs, m.AreaUnderRocCurve, 1e-12);
    }

    [TestMethod]
    public void AllTiedScoresGiveHalfAuc()
    {
        // Every pair ties → each counts 1/2. AP: one step, P = 2/4 at R = 1 → 0.5.
        var m = BinaryMetricsCalculator.Compute([true, false, true, false], [0.3f, 0.3f, 0.3f, 0.3f]);
        Assert.AreEqual(0.5, m.AreaUnderRocCurve, 1e-12);
        Assert.AreEqual(0.5, m.AreaUnderPrecisionRecallCurve, 1e-12);
        Assert.AreEqual(0, m.PositivePrecision, "nothing predicted positive → 0");
        Assert.AreEqual(0, m.F1Score);
    }

    [TestMethod]
    public void ProbabilityEqualToTheThresholdIsNegative()
    {
        var m = BinaryMetricsCalculator.Compute([true, false], [0.5f, 0.5f]);
        Assert.AreEqual(0, m.ConfusionMatrix[0, 0], "0.5 is not > 0.5");
        Assert.AreEqual(1, m.ConfusionMatrix[0, 1]);
        var lower = BinaryMetricsCalculator.Compute([true, false], [0.5f, 0.5f], threshold: 0.4f);
        Assert.AreEqual(1, lower.ConfusionMatrix[0, 0]);
        Assert.AreEqual(1, lower.ConfusionMatrix[1, 0]);
    }

    [TestMethod]
    public void SingleClassLabelsLeaveAucUndefined()
    {
        // All positive: no negative to rank against → AUC NaN; AP is defined (precision 1 everywhere);
        // entropy 0 → reduction NaN.
        var pos = BinaryMetricsCalculator.Compute([true, true], [0.9f, 0.2f]);
        Assert.IsTrue(double.IsNaN(pos.AreaUnderRocCurve));
        Assert.AreEqual(1.0, pos.AreaUnderPrecisionRecallCurve, 1e-12);
        Assert.AreEqual(0, pos.Entropy);
        Assert.IsTrue(double.IsNaN(pos.LogLossReduction));
        Assert.AreEqual(0.5, pos.Accuracy);
        // All negative: AUC and AP both undefined.
        var neg = BinaryMetricsCalculator.Compute([false, false], [0.9f, 0.2f]);
        Assert.IsTrue(double.IsNaN(neg.AreaUnderRocCurve));
        Assert.IsTrue(double.IsNaN(neg.AreaUnderPrecisionRecallCurve));
        Assert.AreEqual(0, neg.PositiveRecall);
    }

    [TestMethod]
    public void LogLossClipsAt1e15()
    {
        // A positive at p = 0 and a negative at p = 1 each cost −ln(1e-15); a perfect pair costs 0.
        var m = BinaryMetricsCalculator.Compute([true, false, true, false], [0f, 1f, 1f, 0f]);
        Assert.AreEqual(-Math.Log(1e-15) / 2, m.LogLoss, 1e-12);
    }

    [TestMethod]
    public void MismatchedLengthsNameBothLengths()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => BinaryMetricsCalculator.Compute([true, false, true], [0.5f, 0.2f]));
        StringAssert.Contains(e.Message, "labels has length 3");
        StringAssert.Contains(e.Message, "probabilities has length 2");
        Assert.ThrowsExactly<ArgumentException>(() => BinaryMetricsCalculator.Compute([], []));
        Assert.ThrowsExactly<ArgumentException>(() => BinaryMetricsCalculator.Compute([true], [float.NaN]));
        Assert.ThrowsExactly<ArgumentException>(() => BinaryMetricsCalculator.Compute([true], [0.5f], float.NaN));
    }
}
