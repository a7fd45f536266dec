using Microsoft.ML.ConvNet.Pipelines;

namespace Microsoft.ML.ConvNet.Tests.Evaluation;

/// <summary>
/// The catalogs' Evaluate on scored data views against hand-computed values: the five-sample example of
/// <see cref="MulticlassMetricsTests"/> as a view (key labels with values, Score vectors, PredictedLabel keys), and a
/// binary example with a Boolean label.
/// </summary>
[TestClass]
public sealed class EvaluateDataViewTests
{
    public sealed class ScoredRow
    {
        [KeyType(3)]
        public uint Label { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = [];

        [KeyType(3)]
        public uint PredictedLabel { get; set; }
    }

    public sealed class BinaryRow
    {
        public bool Label { get; set; }

        [VectorType(2)]
        public float[] Score { get; set; } = [];
    }

    private static double Ln(float p) => Math.Log(p);

    [TestMethod]
    public void MulticlassEvaluateGivesTheHandComputedValues()
    {
        var ml = new ConvNetContext(1);
        // Labels a, b, c, a, b (keys 1, 2, 3, 1, 2) plus one row with a missing label (key 0), which is skipped.
        ScoredRow[] rows =
        [
            new() { Label = 1, Score = [0.7f, 0.2f, 0.1f], PredictedLabel = 1 },
            new() { Label = 2, Score = [0.5f, 0.4f, 0.1f], PredictedLabel = 1 },
            new() { Label = 3, Score = [0.2f, 0.3f, 0.5f], PredictedLabel = 3 },
            new() { Label = 0, Score = [0.0f, 0.0f, 1.0f], PredictedLabel = 3 },
            new() { Label = 1, Score = [0.1f, 0.6f, 0.3f], PredictedLabel = 2 },
            new() { Label = 2, Score = [0.25f, 0.5f, 0.25f], PredictedLabel = 2 },
        ];
        var m = ml.MulticlassClassification.Evaluate(ml.Data.LoadFromEnumerable(rows), topKPredictionCount: 2);

        // Confusion a: [1 1 0], b: [1 1 0], c: [0 0 1]; micro 3/5, macro (1/2 + 1/2 + 1)/3.
        Assert.AreEqual(0.6, m.MicroAccuracy, 1e-12);
        Assert.AreEqual(2.0 / 3, m.MacroAccuracy, 1e-12);
        // Log-loss −(ln .7 + ln .4 + ln .5 + ln .1 + ln .5)/5 = 0.99236903; the prior (2/5, 2/5, 1/5) has log-loss 1.05492017.
        Assert.AreEqual(0.99236903, m.LogLoss, 1e-7);
        Assert.AreEqual((1.0549201679861442 - m.LogLoss) / 1.0549201679861442, m.LogLossReduction, 1e-12);
        Assert.AreEqual(0.0592947, m.LogLossReduction, 1e-6);
        // The true class ranks 0, 1, 0, 2, 0: top-1 3/5, top-2 4/5.
        CollectionAssert.AreEqual(new[] { 0.6, 0.8 }, m.TopKAccuracyForAllK.ToArray());
        Assert.AreEqual(0.8, m.TopKAccuracy);
        // Per class: a −(ln .7 + ln .1)/2 = 1.3296300, b −(ln .4 + ln .5)/2 = 0.8047190, c −ln .5 = 0.6931472.
        Assert.AreEqual(-(Ln(0.7f) + Ln(0.1f)) / 2, m.PerClassLogLoss[0], 1e-12);
        Assert.AreEqual(1.3296300, m.PerClassLogLoss[0], 1e-7);
        Assert.AreEqual(0.8047190, m.PerClassLogLoss[1], 1e-7);
        Assert.AreEqual(0.6931472, m.PerClassLogLoss[2], 1e-7);
        CollectionAssert.AreEqual(new[] { 0.5, 0.5, 1.0 }, m.ConfusionMatrix.PerClassPrecision.ToArray());
        CollectionAssert.AreEqual(new[] { 0.5, 0.5, 1.0 }, m.ConfusionMatrix.PerClassRecall.ToArray());
        StringAssert.Contains(m.ConfusionMatrix.GetFormattedConfusionTable(), "Precision");
    }

    [TestMethod]
    public void BinaryEvaluateWithABooleanLabelGivesTheHandComputedValues()
    {
        var ml = new ConvNetContext(1);
        // p(true) = Score[1]. Positives 0.9, 0.6, 0.4; negatives 0.7, 0.2. Threshold 0.5 predicts 0.9, 0.6, 0.7 positive.
        BinaryRow[] rows =
        [
            new() { Label = true, Score = [0.1f, 0.9f] },
            new() { Label = true, Score = [0.4f, 0.6f] },
            new() { Label = true, Score = [0.6f, 0.4f] },
            new() { Label = false, Score = [0.3f, 0.7f] },
            new() { Label = false, Score = [0.8f, 0.2f] },
        ];
        var m = ml.BinaryClassification.Evaluate(ml.Data.LoadFromEnumerable(rows));
        // TP 2, FN 1, FP 1, TN 1: accuracy 3/5, precision 2/3, recall 2/3, F1 2/3; negative precision 1/2, recall 1/2.
        Assert.AreEqual(0.6, m.Accuracy, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PositivePrecision, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PositiveRecall, 1e-12);
        Assert.AreEqual(2.0 / 3, m.F1Score, 1e-12);
        Assert.AreEqual(0.5, m.NegativePrecision, 1e-12);
        Assert.AreEqual(0.5, m.NegativeRecall, 1e-12);
        // AUC: of the 6 (positive, negative) pairs, the positive scores higher in 0.9>0.7, 0.9>0.2, 0.6>0.2, 0.4>0.2: 4/6.
        Assert.AreEqual(4.0 / 6, m.AreaUnderRocCurve, 1e-12);

        // The same data with a two-category key label (key 2 positive) gives the same metrics.
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: KeyOrdinality.ByValue).Fit(ml.Data.LoadFromEnumerable(rows));
        var k = ml.BinaryClassification.Evaluate(keyed.Transform(ml.Data.LoadFromEnumerable(rows)));
        Assert.AreEqual(m.Accuracy, k.Accuracy);
        Assert.AreEqual(m.AreaUnderRocCurve, k.AreaUnderRocCurve);
        Assert.AreEqual(m.F1Score, k.F1Score);
    }
}
