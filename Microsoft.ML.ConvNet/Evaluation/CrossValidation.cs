namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>Seeded assignment of rows to cross-validation folds.</summary>
public static class CrossValidation
{
    /// <summary>
    /// Assigns each of <paramref name="count"/> rows to one of <paramref name="k"/> folds, reproducibly for a seed.
    /// Without <paramref name="stratifyLabels"/> the rows are shuffled and dealt to folds in turn, so fold sizes differ
    /// by at most one. With them, the rows of each label (in ascending label order) are shuffled and dealt in turn,
    /// the deal continuing from fold to fold across labels: every fold then holds each label's rows within one of
    /// its share, and fold sizes still differ by at most one.
    /// </summary>
    /// <param name="count">Number of rows, at least <paramref name="k"/>.</param>
    /// <param name="k">Number of folds, at least 2.</param>
    /// <param name="seed">Seed of the shuffle (<see cref="Random"/>'s seeded generator, stable across runs).</param>
    /// <param name="stratifyLabels">Optional label per row (any integers) to stratify on; length <paramref name="count"/>.</param>
    /// <returns>The fold, in [0, k), of each row.</returns>
    public static int[] Folds(int count, int k, int seed, int[]? stratifyLabels = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        if (count < k)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"CrossValidation.Folds: {count} rows cannot fill {k} folds.");
        }
        if (stratifyLabels != null && stratifyLabels.Length != count)
        {
            throw new ArgumentException(
                $"CrossValidation.Folds: count is {count} but stratifyLabels has length {stratifyLabels.Length}.", nameof(stratifyLabels));
        }
        var rng = new Random(seed);
        var folds = new int[count];
        int next = 0;
        if (stratifyLabels == null)
        {
            var rows = Enumerable.Range(0, count).ToArray();
            rng.Shuffle(rows);
            foreach (int row in rows)
            {
                folds[row] = next;
                next = (next + 1) % k;
            }
            return folds;
        }
        foreach (var group in Enumerable.Range(0, count).GroupBy(i => stratifyLabels[i]).OrderBy(g => g.Key))
        {
            var rows = group.ToArray();
            rng.Shuffle(rows);
            foreach (int row in rows)
            {
                folds[row] = next;
                next = (next + 1) % k;
            }
        }
        return folds;
    }

    /// <summary>Splits rows by <paramref name="folds"/> into the training rows (every other fold) and the test rows of <paramref name="fold"/>, both ascending.</summary>
    public static (int[] Train, int[] Test) Split(int[] folds, int fold)
    {
        ArgumentNullException.ThrowIfNull(folds);
        var train = new List<int>(folds.Length);
        var test = new List<int>();
        for (int i = 0; i < folds.Length; i++)
        {
            (folds[i] == fold ? test : train).Add(i);
        }
        if (test.Count == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fold), $"CrossValidation.Split: fold {fold} holds no rows.");
        }
        return (train.ToArray(), test.ToArray());
    }
}
