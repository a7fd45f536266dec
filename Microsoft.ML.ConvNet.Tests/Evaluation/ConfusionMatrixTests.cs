using Microsoft.ML.ConvNet.Evaluation;

namespace Microsoft.ML.ConvNet.Tests.Evaluation;

[TestClass]
public sealed class ConfusionMatrixTests
{
    // Hand-computed example, classes cat/dog/bird/fish (fish never occurs nor is predicted):
    //              predicted
    //  actual    cat dog bird | recall
    //  cat        2   1   0   | 2/3
    //  dog        0   1   1   | 1/2
    //  bird       1   1   2   | 2/4
    //  precision 2/3 1/3 2/3     accuracy 5/9
    private static readonly int[] Actual = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    private static readonly int[] Predicted = [0, 1, 0, 1, 2, 2, 2, 0, 1];

    private static ConfusionMatrix Example() => ConfusionMatrix.From(Actual, Predicted, ["cat", "dog", "bird", "fish"]);

    [TestMethod]
    public void CountsMatchTheHandComputedTable()
    {
        var m = Example();
        int[,] expected = { { 2, 1, 0, 0 }, { 0, 1, 1, 0 }, { 1, 1, 2, 0 }, { 0, 0, 0, 0 } };
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                Assert.AreEqual(expected[i, j], m[i, j], $"[{i}, {j}]");
            }
        }
        Assert.AreEqual(9, m.Total);
        Assert.AreEqual(5, m.Correct);
        Assert.AreEqual(5.0 / 9, m.Accuracy, 1e-12);
        CollectionAssert.AreEqual(new[] { 3, 2, 4, 0 }, Enumerable.Range(0, 4).Select(m.Support).ToArray());
        CollectionAssert.AreEqual(new[] { 3, 3, 3, 0 }, Enumerable.Range(0, 4).Select(m.PredictedCount).ToArray());
    }

    [TestMethod]
    public void PrecisionRecallAndF1()
    {
        var m = Example();
        double[] precision = [2.0 / 3, 1.0 / 3, 2.0 / 3, 0];
        double[] recall = [2.0 / 3, 1.0 / 2, 2.0 / 4, 0];
        for (int c = 0; c < 4; c++)
        {
            Assert.AreEqual(precision[c], m.Precision(c), 1e-12, $"precision of {c}");
            Assert.AreEqual(recall[c], m.Recall(c), 1e-12, $"recall of {c}");
            Assert.AreEqual(precision[c], m.PerClassPrecision[c], 1e-12);
            Assert.AreEqual(recall[c], m.PerClassRecall[c], 1e-12);
        }
        Assert.AreEqual(0.4, m.F1Score(1), 1e-12, "2·(1/3)(1/2)/(1/3 + 1/2)");
        Assert.AreEqual(2.0 / 3, m.F1Score(0), 1e-12);
        Assert.AreEqual(0, m.F1Score(3));
        Assert.AreEqual((2.0 / 3 + 0.5 + 0.5) / 3, m.MacroAccuracy, 1e-12, "mean recall over the classes that occur");
    }

    [TestMethod]
    public void TableShowsNamesCountsRecallPrecisionAndAccuracy()
    {
        string table = Example().GetFormattedConfusionTable();
        var lines = table.Split(Environment.NewLine);
        var cat = lines.Single(l => l.StartsWith("0 cat", StringComparison.Ordinal));
        var bird = lines.Single(l => l.StartsWith("2 bird", StringComparison.Ordinal));
        CollectionAssert.AreEqual(new[] { "0", "cat", "|", "2", "1", "0", "0", "|", "0.6667" }, cat.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        CollectionAssert.AreEqual(new[] { "2", "bird", "|", "1", "1", "2", "0", "|", "0.5000" }, bird.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var precision = lines.Single(l => l.StartsWith("Precision", StringComparison.Ordinal));
        CollectionAssert.AreEqual(new[] { "Precision", "|", "0.6667", "0.3333", "0.6667", "0.0000", "|" }, precision.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        StringAssert.Contains(table, "Accuracy 0.5556 (5/9)");
        // Columns line up: every row of counts has the same length.
        var rows = lines.Where(l => l.Contains('|', StringComparison.Ordinal)).ToList();
        Assert.AreEqual(1, rows.Select(r => r.IndexOf('|', StringComparison.Ordinal)).Distinct().Count(), table);
        Assert.AreEqual(1, rows.Select(r => r.LastIndexOf('|')).Distinct().Count(), table);
    }

    [TestMethod]
    public void InvalidInputIsRejected()
    {
        var m = new ConfusionMatrix(3);
        Assert.AreEqual("0", m.ClassNames[0]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => m.Add(3, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => m.Add(0, -1));
        Assert.ThrowsExactly<ArgumentException>(() => m.Add([0, 1], [0]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ConfusionMatrix(0));
        Assert.AreEqual(0, m.Accuracy);
        Assert.AreEqual(0, m.Precision(1));
    }
}
