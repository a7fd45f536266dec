using System.Globalization;
using System.Text;

namespace Microsoft.ML.ConvNet.Evaluation;

/// <summary>
/// Counts of (actual class, predicted class) pairs for a multiclass classifier, with the metrics derived from them:
/// accuracy, per-class precision, recall and F1, and a text table labelled with the class names.
/// Rows are actual classes, columns predicted classes (ML.NET's and scikit-learn's convention).
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly int[,] _counts;
    private readonly string[] _classNames;

    /// <summary>An empty matrix for the given classes.</summary>
    public ConfusionMatrix(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0)
        {
            throw new ArgumentException("A confusion matrix needs at least one class.", nameof(classNames));
        }
        _classNames = classNames.ToArray();
        _counts = new int[_classNames.Length, _classNames.Length];
    }

    /// <summary>An empty matrix for <paramref name="classCount"/> classes named by their index.</summary>
    public ConfusionMatrix(int classCount)
        : this(Enumerable.Range(0, classCount > 0 ? classCount : throw new ArgumentOutOfRangeException(nameof(classCount), $"A confusion matrix needs at least one class, got {classCount}."))
            .Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray())
    {
    }

    /// <summary>A matrix filled from pairs of actual and predicted labels.</summary>
    public static ConfusionMatrix From(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, IReadOnlyList<string> classNames)
    {
        var m = new ConfusionMatrix(classNames);
        m.Add(actual, predicted);
        return m;
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount => _classNames.Length;

    /// <summary>The class names, by index.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>Number of classes (ML.NET's name for <see cref="ClassCount"/>).</summary>
    public int NumberOfClasses => _classNames.Length;

    /// <summary>
    /// The counts as rows (actual class) of columns (predicted class), a snapshot in ML.NET's shape
    /// (<c>Counts[actual][predicted]</c>, as doubles because ML.NET's evaluators may weight samples).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<double>> Counts
    {
        get
        {
            var rows = new IReadOnlyList<double>[ClassCount];
            for (int i = 0; i < ClassCount; i++)
            {
                var row = new double[ClassCount];
                for (int j = 0; j < ClassCount; j++)
                {
                    row[j] = _counts[i, j];
                }
                rows[i] = row;
            }
            return rows;
        }
    }

    /// <summary>The number of samples of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public int this[int actual, int predicted]
    {
        get
        {
            CheckClass(actual, nameof(actual));
            CheckClass(predicted, nameof(predicted));
            return _counts[actual, predicted];
        }
    }

    /// <summary>Number of samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>Number of samples predicted correctly (the diagonal).</summary>
    public long Correct { get; private set; }

    /// <summary>Fraction predicted correctly (micro accuracy); 0 when empty.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Mean of the per-class recalls over the classes that occur (ML.NET's macro accuracy); 0 when empty.</summary>
    public double MacroAccuracy
    {
        get
        {
            double sum = 0;
            int n = 0;
            for (int c = 0; c < ClassCount; c++)
            {
                if (Support(c) > 0)
                {
                    sum += Recall(c);
                    n++;
                }
            }
            return n == 0 ? 0 : sum / n;
        }
    }

    /// <summary>Precision of every class (see <see cref="Precision"/>).</summary>
    public IReadOnlyList<double> PerClassPrecision => Enumerable.Range(0, ClassCount).Select(Precision).ToArray();

    /// <summary>Recall of every class (see <see cref="Recall"/>).</summary>
    public IReadOnlyList<double> PerClassRecall => Enumerable.Range(0, ClassCount).Select(Recall).ToArray();

    /// <summary>Counts one sample.</summary>
    public void Add(int actual, int predicted)
    {
        CheckClass(actual, nameof(actual));
        CheckClass(predicted, nameof(predicted));
        _counts[actual, predicted]++;
        Total++;
        if (actual == predicted)
        {
            Correct++;
        }
    }

    /// <summary>Counts pairs of actual and predicted labels (same length).</summary>
    public void Add(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted)
    {
        if (actual.Length != predicted.Length)
        {
            throw new ArgumentException($"ConfusionMatrix.Add: {actual.Length} actual labels but {predicted.Length} predictions.", nameof(predicted));
        }
        for (int i = 0; i < actual.Length; i++)
        {
            Add(actual[i], predicted[i]);
        }
    }

    /// <summary>Number of samples whose actual class is <paramref name="c"/> (the row sum).</summary>
    public int Support(int c)
    {
        CheckClass(c, nameof(c));
        int s = 0;
        for (int j = 0; j < ClassCount; j++)
        {
            s += _counts[c, j];
        }
        return s;
    }

    /// <summary>Number of samples predicted as class <paramref name="c"/> (the column sum).</summary>
    public int PredictedCount(int c)
    {
        CheckClass(c, nameof(c));
        int s = 0;
        for (int i = 0; i < ClassCount; i++)
        {
            s += _counts[i, c];
        }
        return s;
    }

    /// <summary>Of the samples predicted as <paramref name="c"/>, the fraction that are <paramref name="c"/>; 0 when none is predicted as <paramref name="c"/>.</summary>
    public double Precision(int c)
    {
        int p = PredictedCount(c);
        return p == 0 ? 0 : (double)_counts[c, c] / p;
    }

    /// <summary>Of the samples of class <paramref name="c"/>, the fraction predicted as <paramref name="c"/>; 0 when the class does not occur.</summary>
    public double Recall(int c)
    {
        int s = Support(c);
        return s == 0 ? 0 : (double)_counts[c, c] / s;
    }

    /// <summary>Harmonic mean of precision and recall of class <paramref name="c"/>; 0 when both are 0.</summary>
    public double F1Score(int c)
    {
        double p = Precision(c), r = Recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /// <summary>
    /// The matrix as a text table: one row per actual class (index and name) with its counts per predicted class
    /// and its recall, then a row of per-class precision, then the accuracy.
    /// </summary>
    public string GetFormattedConfusionTable()
    {
        var inv = CultureInfo.InvariantCulture;
        int maxCount = 0;
        foreach (int v in _counts)
        {
            maxCount = Math.Max(maxCount, v);
        }
        int cell = Math.Max(6, maxCount.ToString(inv).Length) + 1;
        var labels = _classNames.Select((n, i) => string.Equals(n, i.ToString(inv), StringComparison.Ordinal) ? n : $"{i} {n}").ToArray();
        int labelWidth = Math.Max("Precision".Length, labels.Max(l => l.Length)) + 1;
        var sb = new StringBuilder();
        sb.Append("Confusion matrix (rows: actual class, columns: predicted class)").AppendLine();
        sb.Append(new string(' ', labelWidth)).Append('|');
        for (int j = 0; j < ClassCount; j++)
        {
            sb.Append(j.ToString(inv).PadLeft(cell));
        }
        sb.Append(" |").Append("Recall".PadLeft(cell + 1)).AppendLine();
        string rule = new string('-', labelWidth) + "+" + new string('-', cell * ClassCount + 1) + "+" + new string('-', cell + 1);
        sb.Append(rule).AppendLine();
        for (int i = 0; i < ClassCount; i++)
        {
            sb.Append(labels[i].PadRight(labelWidth)).Append('|');
            for (int j = 0; j < ClassCount; j++)
            {
                sb.Append(_counts[i, j].ToString(inv).PadLeft(cell));
            }
            sb.Append(" |").Append(Recall(i).ToString("F4", inv).PadLeft(cell + 1)).AppendLine();
        }
        sb.Append(rule).AppendLine();
        sb.Append("Precision".PadRight(labelWidth)).Append('|');
        for (int j = 0; j < ClassCount; j++)
        {
            sb.Append(Precision(j).ToString("F4", inv).PadLeft(cell));
        }
        sb.Append(" |").AppendLine();
        sb.Append(inv, $"Accuracy {Accuracy:F4} ({Correct}/{Total}), macro accuracy {MacroAccuracy:F4}").AppendLine();
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => GetFormattedConfusionTable();

    private void CheckClass(int c, string name)
    {
        if ((uint)c >= (uint)ClassCount)
        {
            throw new ArgumentOutOfRangeException(name, $"Class {c} is outside [0, {ClassCount}).");
        }
    }
}
