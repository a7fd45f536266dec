using System.Globalization;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// Reads the labelled images of an ML.NET view into an <see cref="ImageDataset"/> (the batches of training). A row whose
/// image cannot be read (an undecodable or missing file, an empty path) is an error naming the row and the text columns
/// that locate it (its file path), or, when skipping is on, it is left out and counted. ML.NET's image loader reads on
/// worker threads and wraps their errors; the reader then finds the failing row itself and resumes after it.
/// </summary>
internal sealed class ImageRowReader(MLContext ml, ImageInput input, string labelColumn, int classes, string[] classNames, bool skipUnreadable)
{
    private readonly List<string> _skipped = [];

    /// <summary>Rows left out because their image could not be read.</summary>
    public int Skipped => _skipped.Count;

    /// <summary>The rows left out, one line each: the row, its file and why.</summary>
    public IReadOnlyList<string> SkippedImages => _skipped;

    /// <summary>Reads every row with a label (rows with a missing key label are left out) of <paramref name="data"/>.</summary>
    public ImageDataset Read(IDataView data, string what, CancellationToken cancellationToken)
    {
        var prepared = input.Preparer(ml, data.Schema).Transform(data);
        var images = new List<float>();
        var labels = new List<int>();
        float[] sample = new float[input.Size];
        long start = 0;
        while (true)
        {
            var view = start == 0 ? prepared : ml.Data.SkipRows(prepared, start);
            long row = start - 1;
            bool inRow = false;
            try
            {
                using var cursor = view.GetRowCursor([view.Schema[labelColumn], view.Schema[input.ReadColumnName]]);
                var label = LabelGetter(cursor);
                var pixels = input.CreateReader(cursor);
                while (cursor.MoveNext())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    row = start + cursor.Position;
                    inRow = true;
                    int key = label();
                    if (key < 0)
                    {
                        inRow = false;
                        continue;
                    }
                    if (pixels(sample) is string problem)
                    {
                        inRow = false;
                        Unreadable(prepared, row, problem, what);
                        continue;
                    }
                    images.AddRange(sample);
                    labels.Add(key);
                    inRow = false;
                }
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException && !IsOwn(e))
            {
                // A getter that throws names its own row; a worker thread's error surfaces at a later MoveNext.
                string problem = $"the image in column '{input.ColumnName}' cannot be read ({Root(e).Message})";
                long failing = inRow ? row : FindFailingRow(prepared, row, out problem) ?? throw new InvalidDataException(
                    $"ConvNetTrainer: reading the {what} data failed after row {row}: {Root(e).Message}", e);
                Unreadable(prepared, failing, problem, what);
                start = failing + 1;
            }
        }
        if (labels.Count == 0)
        {
            throw new ArgumentException($"ConvNetTrainer: the {what} data has no rows with a label and a readable image.", nameof(data));
        }
        return new ImageDataset([.. images], new Shape(input.Shape), [.. labels], classNames);
    }

    /// <summary>A getter of the label as a class index (−1 for a missing key).</summary>
    private Func<int> LabelGetter(DataViewRow row)
    {
        var column = row.Schema[labelColumn];
        if (column.Type is BooleanDataViewType)
        {
            var b = row.GetGetter<bool>(column);
            bool flag = false;
            return () =>
            {
                b(ref flag);
                return flag ? 1 : 0;
            };
        }
        var g = row.GetGetter<uint>(column);
        uint key = 0;
        return () =>
        {
            g(ref key);
            if (key > classes)
            {
                throw new InvalidDataException($"ConvNetTrainer: label key {key} of column '{labelColumn}' is outside its {classes} categories.");
            }
            return (int)key - 1;
        };
    }

    private void Unreadable(IDataView data, long row, string problem, string what)
    {
        string where = $"row {row} of the {what} data{Locate(data, row)}: {problem}";
        if (!skipUnreadable)
        {
            throw new InvalidDataException($"ConvNetTrainer: {where}. Fix or remove the file, or set Options.SkipUnreadableImages to leave such rows out.");
        }
        _skipped.Add(where);
    }

    /// <summary>After an error past row <paramref name="lastGood"/>, reads the following rows one at a time to find the one whose image fails.</summary>
    private long? FindFailingRow(IDataView data, long lastGood, out string problem)
    {
        const int Window = 4096;
        long count = data.GetRowCount() ?? long.MaxValue;
        for (long row = lastGood + 1; row < Math.Min(count, lastGood + 1 + Window); row++)
        {
            var one = ml.Data.TakeRows(ml.Data.SkipRows(data, row), 1);
            try
            {
                using var cursor = one.GetRowCursor([one.Schema[input.ReadColumnName]]);
                if (!cursor.MoveNext())
                {
                    break;
                }
                input.CreateReader(cursor)(new float[input.Size]);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                problem = $"the image in column '{input.ColumnName}' cannot be read ({Root(e).Message})";
                return row;
            }
        }
        problem = "";
        return null;
    }

    /// <summary>" (ImagePath 'x.jpg')": the row's text columns, which name its file.</summary>
    internal static string Locate(IDataView data, long row)
    {
        var text = data.Schema.Where(c => !c.IsHidden && c.Type is TextDataViewType).ToList();
        if (text.Count == 0)
        {
            return "";
        }
        try
        {
            var ml = new MLContext();
            var one = ml.Data.TakeRows(ml.Data.SkipRows(data, row), 1);
            using var cursor = one.GetRowCursor(text.Select(c => one.Schema[c.Index]));
            if (!cursor.MoveNext())
            {
                return "";
            }
            var parts = text.Select(c =>
            {
                ReadOnlyMemory<char> value = default;
                cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[c.Index])(ref value);
                return string.Create(CultureInfo.InvariantCulture, $"{c.Name} '{value}'");
            });
            return " (" + string.Join(", ", parts) + ")";
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
        {
            return "";
        }
    }

    private static bool IsOwn(Exception e) => e is InvalidDataException { Message: var m } && m.StartsWith("ConvNetTrainer:", StringComparison.Ordinal);

    /// <summary>The innermost exception: ML.NET wraps its workers' errors ("Splitter/consolidator worker encountered exception").</summary>
    internal static Exception Root(Exception e)
    {
        while (e.InnerException != null)
        {
            e = e.InnerException;
        }
        return e;
    }
}
