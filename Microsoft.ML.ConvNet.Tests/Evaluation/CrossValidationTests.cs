using Microsoft.ML.ConvNet.Evaluation;

namespace Microsoft.ML.ConvNet.Tests.Evaluation;

[TestClass]
public sealed class CrossValidationTests
{
    [TestMethod]
    public void FoldsAreBalancedAndReproducible()
    {
        var a = CrossValidation.Folds(103, 5, seed: 42, stratifyLabels: null);
        var b = CrossValidation.Folds(103, 5, seed: 42, stratifyLabels: null);
        var c = CrossValidation.Folds(103, 5, seed: 43, stratifyLabels: null);
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
        var sizes = Enumerable.Range(0, 5).Select(f => a.Count(x => x == f)).ToArray();
        // 103 = 5·20 + 3: three folds of 21, two of 20.
        CollectionAssert.AreEquivalent(new[] { 21, 21, 21, 20, 20 }, sizes);
        Assert.IsTrue(a.All(f => f is >= 0 and < 5));
        // Shuffled: not simply row % k.
        Assert.IsFalse(Enumerable.Range(0, 103).All(i => a[i] == i % 5));
    }

    [TestMethod]
    public void StratifiedFoldsKeepEachLabelsShare()
    {
        // Labels 0 ×50, 1 ×30, 7 ×7 (unequal, not multiples of k = 4).
        int[] labels = [.. Enumerable.Repeat(1, 30), .. Enumerable.Repeat(0, 50), .. Enumerable.Repeat(7, 7)];
        var folds = CrossValidation.Folds(labels.Length, 4, seed: 1, stratifyLabels: labels);
        CollectionAssert.AreEqual(folds, CrossValidation.Folds(labels.Length, 4, seed: 1, stratifyLabels: labels));
        foreach (int label in new[] { 0, 1, 7 })
        {
            int total = labels.Count(l => l == label);
            for (int f = 0; f < 4; f++)
            {
                int inFold = Enumerable.Range(0, labels.Length).Count(i => labels[i] == label && folds[i] == f);
                Assert.IsTrue(inFold == total / 4 || inFold == (total + 3) / 4, $"label {label} fold {f}: {inFold} of {total}");
            }
        }
        var sizes = Enumerable.Range(0, 4).Select(f => folds.Count(x => x == f)).ToArray();
        Assert.IsTrue(sizes.Max() - sizes.Min() <= 1, string.Join(", ", sizes));
    }

    [TestMethod]
    public void SplitGivesComplementaryRows()
    {
        var folds = CrossValidation.Folds(10, 3, seed: 5);
        var seen = new int[10];
        for (int f = 0; f < 3; f++)
        {
            var (train, test) = CrossValidation.Split(folds, f);
            Assert.AreEqual(10, train.Length + test.Length);
            Assert.IsFalse(train.Intersect(test).Any());
            Assert.IsTrue(test.All(i => folds[i] == f));
            foreach (int i in test)
            {
                seen[i]++;
            }
        }
        Assert.IsTrue(seen.All(s => s == 1), "every row is tested exactly once");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CrossValidation.Split(folds, 3));
    }

    [TestMethod]
    public void InvalidArgumentsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CrossValidation.Folds(10, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CrossValidation.Folds(3, 4, 0));
        var e = Assert.ThrowsExactly<ArgumentException>(() => CrossValidation.Folds(10, 2, 0, new int[9]));
        StringAssert.Contains(e.Message, "count is 10");
        StringAssert.Contains(e.Message, "length 9");
    }
}
