using Microsoft.ML.ConvNet.Evaluation;

namespace Microsoft.ML.ConvNet.Tests.Evaluation;

[TestClass]
public sealed class MulticlassMetricsTests
{
    // Five samples over classes a, b, c (probabilities per row; rank = position of the true class in the sort):
    //   #  label  p(a)  p(b)  p(c)  predicted  p(true)  rank
    //   0  a      0.7   0.2   0.1   a          0.7      0
    //   1  b      0.5   0.4   0.1   a          0.4      1
    //   2  c      0.2   0.3   0.5   c          0.5      0
    //   3  a      0.1   0.6   0.3   b          0.1      2
    //   4  b      0.25  0.5   0.25  b          0.5      0
    // Confusion (rows actual, columns predicted): a: [1 1 0], b: [1 1 0], c: [0 0 1].
    // Micro accuracy 3/5; recalls a 1/2, b 1/2, c 1/1 → macro accuracy (1/2 + 1/2 + 1)/3 = 2/3.
    // Precisions: a 1/2 (column a = 2), b 1/2, c 1/1.
    // Log-loss = −(ln 0.7 + ln 0.4 + ln 0.5 + ln 0.1 + ln 0.5)/5 = 0.99236903...
    // Per class: a −(ln 0.7 + ln 0.1)/2 = 1.32963..., b −(ln 0.4 + ln 0.5)/2 = 0.80472..., c −ln 0.5 = 0.69315...
    // Prior = label frequencies (2/5, 2/5, 1/5): prior log-loss = −(0.4 ln 0.4 + 0.4 ln 0.4 + 0.2 ln 0.2) = 1.05492...
    // Reduction = (1.05492 − 0.99237)/1.05492 = 0.05929...
    // Top-k from the ranks 0,1,0,2,0: top-1 3/5, top-2 4/5, top-3 5/5.
    private static readonly int[] Labels = [0, 1, 2, 0, 1];
    private static readonly float[] Scores =
    [
        0.7f, 0.2f, 0.1f,
        0.5f, 0.4f, 0.1f,
        0.2f, 0.3f, 0.5f,
        0.1f, 0.6f, 0.3f,
        0.25f, 0.5f, 0.25f,
    ];

    // The float32 probabilities differ from the decimal ones by ~1e-8 relative; logs differ by less than 1e-7.
    private const double Tol = 1e-7;

    private static double Ln(float p) => Math.Log(p);

    [TestMethod]
    public void HandComputedExample()
    {
        var m = MulticlassMetricsCalculator.Compute(Labels, Scores, topK: 2, ["a", "b", "c"]);

        Assert.AreEqual(3.0 / 5, m.MicroAccuracy, 1e-12);
        Assert.AreEqual(2.0 / 3, m.MacroAccuracy, 1e-12);
        double logLoss = -(Ln(0.7f) + Ln(0.4f) + Ln(0.5f) + Ln(0.1f) + Ln(0.5f)) / 5;
        Assert.AreEqual(logLoss, m.LogLoss, 1e-12);
        Assert.AreEqual(0.99236903, m.LogLoss, Tol);
        double prior = -(0.4 * Math.Log(0.4) * 2 + 0.2 * Math.Log(0.2));
        Assert.AreEqual(1.0549201679861442, prior, 1e-12);
        Assert.AreEqual((prior - logLoss) / prior, m.LogLossReduction, 1e-12);
        Assert.AreEqual(0.0592947, m.LogLossReduction, Tol);

        Assert.AreEqual(2, m.TopKPredictionCount);
        Assert.AreEqual(4.0 / 5, m.TopKAccuracy, 1e-12);
        CollectionAssert.AreEqual(new[] { 3.0 / 5, 4.0 / 5 }, m.TopKAccuracyForAllK.ToArray());

        Assert.AreEqual(-(Ln(0.7f) + Ln(0.1f)) / 2, m.PerClassLogLoss[0], 1e-12);
        Assert.AreEqual(-(Ln(0.4f) + Ln(0.5f)) / 2, m.PerClassLogLoss[1], 1e-12);
        Assert.AreEqual(-Ln(0.5f), m.PerClassLogLoss[2], 1e-12);
        Assert.AreEqual(1.3296300, m.PerClassLogLoss[0], Tol);

        var cm = m.ConfusionMatrix;
        Assert.AreEqual(3, cm.NumberOfClasses);
        double[][] expected = [[1, 1, 0], [1, 1, 0], [0, 0, 1]];
        for (int i = 0; i < 3; i++)
        {
            CollectionAssert.AreEqual(expected[i], cm.Counts[i].ToArray(), $"row {i}");
        }
        CollectionAssert.AreEqual(new[] { 0.5, 0.5, 1.0 }, cm.PerClassPrecision.ToArray());
        CollectionAssert.AreEqual(new[] { 0.5, 0.5, 1.0 }, cm.PerClassRecall.ToArray());
        StringAssert.Contains(cm.GetFormattedConfusionTable(), "0 a");
    }

    [TestMethod]
    public void TopKForAllKReachesOneAndMayExceedTheClassCount()
    {
        var m = MulticlassMetricsCalculator.Compute(Labels, Scores, topK: 5, classNames: null);
        CollectionAssert.AreEqual(new[] { 0.6, 0.8, 1.0, 1.0, 1.0 }, m.TopKAccuracyForAllK.ToArray());
        Assert.AreEqual(1.0, m.TopKAccuracy);
        Assert.AreEqual(m.MicroAccuracy, m.TopKAccuracyForAllK[0]);
        CollectionAssert.AreEqual(new[] { "0", "1", "2" }, m.ConfusionMatrix.ClassNames.ToArray());
    }

    [TestMethod]
    public void TiesRankTheLowerClassIndexFirst()
    {
        // Both rows score [0.4, 0.2, 0.4]: classes 0 and 2 tie. The predicted class is 0 (lowest index);
        // class 0 has rank 0, class 2 rank 1 (one tie with a lower index), class 1 rank 2.
        //   label 0 → top-1 hit; label 2 → top-1 miss, top-2 hit. So top-1 = 1/2, top-2 = 2/2.
        var m = MulticlassMetricsCalculator.Compute([0, 2], [0.4f, 0.2f, 0.4f, 0.4f, 0.2f, 0.4f], topK: 3);
        CollectionAssert.AreEqual(new[] { 0.5, 1.0, 1.0 }, m.TopKAccuracyForAllK.ToArray());
        Assert.AreEqual(0.5, m.MicroAccuracy);
        Assert.AreEqual(1, m.ConfusionMatrix[2, 0]);
    }

    [TestMethod]
    public void ClassAbsentFromLabels()
    {
        // Class "d" (index 3) never occurs but is scored: it is left out of the macro accuracy, its per-class log-loss
        // is 0 (as ML.NET), its row is empty. Rows: label 0 predicted 0, label 1 predicted 3 (0.6 on the absent class).
        // Macro = (1 + 0)/2; log-loss = −(ln 0.7 + ln 0.3)/2; prior (1/2, 1/2) → ln 2.
        int[] labels = [0, 1];
        float[] scores = [0.7f, 0.1f, 0.1f, 0.1f, 0.05f, 0.3f, 0.05f, 0.6f];
        var m = MulticlassMetricsCalculator.Compute(labels, scores, 1, ["a", "b", "c", "d"]);
        Assert.AreEqual(0.5, m.MicroAccuracy);
        Assert.AreEqual(0.5, m.MacroAccuracy);
        double logLoss = -(Ln(0.7f) + Ln(0.3f)) / 2;
        Assert.AreEqual(logLoss, m.LogLoss, 1e-12);
        Assert.AreEqual((Math.Log(2) - logLoss) / Math.Log(2), m.LogLossReduction, 1e-12);
        CollectionAssert.AreEqual(new[] { -Ln(0.7f), -Ln(0.3f), 0, 0 }, m.PerClassLogLoss.ToArray());
        Assert.AreEqual(1, m.ConfusionMatrix[1, 3]);
        Assert.AreEqual(0, m.ConfusionMatrix.Support(3));
        Assert.AreEqual(0, m.ConfusionMatrix.Precision(3), "predicted once, never right");
    }

    [TestMethod]
    public void SingleClassLabelsMakeTheReductionUndefined()
    {
        // All labels are class 1: the prior predicts it with probability 1, log-loss 0, so the reduction is 0/0 → NaN.
        var m = MulticlassMetricsCalculator.Compute([1, 1], [0.2f, 0.8f, 0.4f, 0.6f], 1);
        Assert.IsTrue(double.IsNaN(m.LogLossReduction));
        Assert.AreEqual(1.0, m.MicroAccuracy);
        Assert.AreEqual(1.0, m.MacroAccuracy);
        Assert.AreEqual(-(Ln(0.8f) + Ln(0.6f)) / 2, m.LogLoss, 1e-12);
    }

    [TestMethod]
    public void ProbabilitiesAreClippedAt1e15()
    {
        // p(true) = 0 → −ln(1e-15) = 34.538776...; p(true) = 1 → 0.
        var m = MulticlassMetricsCalculator.Compute([0, 1], [0f, 1f, 0f, 1f], 1);
        Assert.AreEqual(-Math.Log(1e-15) / 2, m.LogLoss, 1e-12);
        Assert.AreEqual(34.538776394910684, m.PerClassLogLoss[0], 1e-9);
        Assert.AreEqual(0, m.PerClassLogLoss[1]);
    }

    [TestMethod]
    public void AgreesWithPlainLoopsOnRandomData()
    {
        var rng = new Random(7);
        const int n = 200, k = 6;
        var labels = new int[n];
        var scores = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(k);
            float sum = 0;
            for (int c = 0; c < k; c++)
            {
                // Quantised to produce ties.
                scores[i * k + c] = MathF.Round((float)rng.NextDouble(), 1) + 0.01f;
                sum += scores[i * k + c];
            }
            for (int c = 0; c < k; c++)
            {
                scores[i * k + c] /= sum;
            }
        }
        var m = MulticlassMetricsCalculator.Compute(labels, scores, k);
        for (int topK = 1; topK <= k; topK++)
        {
            int hits = 0;
            for (int i = 0; i < n; i++)
            {
                // ML.NET: stable sort by descending score, then look for the label among the first topK.
                var order = Enumerable.Range(0, k).OrderByDescending(c => scores[i * k + c]).ToArray();
                if (Array.IndexOf(order, labels[i]) < topK)
                {
                    hits++;
                }
            }
            Assert.AreEqual((double)hits / n, m.TopKAccuracyForAllK[topK - 1], 1e-12, $"top-{topK}");
        }
        double logLoss = Enumerable.Range(0, n).Average(i => -Math.Log(scores[i * k + labels[i]]));
        Assert.AreEqual(logLoss, m.LogLoss, 1e-10);
    }

    [TestMethod]
    public void MismatchedLengthsNameBothLengths()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => MulticlassMetricsCalculator.Compute([0, 1], new float[5], 1));
        StringAssert.Contains(e.Message, "length 5");
        StringAssert.Contains(e.Message, "2 labels");

        e = Assert.ThrowsExactly<ArgumentException>(() => MulticlassMetricsCalculator.Compute([0, 1], new float[5], 1, ["a", "b", "c"]));
        StringAssert.Contains(e.Message, "2 labels × 3 classes need 6 scores");
        StringAssert.Contains(e.Message, "length 5");
    }

    [TestMethod]
    public void InvalidInputsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => MulticlassMetricsCalculator.Compute([], [], 1));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MulticlassMetricsCalculator.Compute([0, 3], new float[6], 1));
        StringAssert.Contains(e.Message, "label 3 of sample 1");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MulticlassMetricsCalculator.Compute([0], [1f], 0));
        var nan = Assert.ThrowsExactly<ArgumentException>(() => MulticlassMetricsCalculator.Compute([0], [0.5f, float.NaN], 1));
        StringAssert.Contains(nan.Message, "class 1 of sample 0 is NaN");
    }
}
