using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Tests.Fuzz;

/// <summary>How a loaded mutated file compares with its seed.</summary>
internal enum LoadedAs
{
    /// <summary>The same content as the seed (the mutation touched nothing that matters).</summary>
    Same,

    /// <summary>Different content, in a format (or a part of it) that carries no checksum: nothing could have told.</summary>
    ChangedWithoutChecksum,

    /// <summary>Different content that the format's checksum, or the reader's checks, should have caught: a failure.</summary>
    SilentlyWrong,
}

/// <summary>The outcome counts of one format's cases.</summary>
internal sealed class FuzzCounts(string format)
{
    public string Format { get; } = format;

    public int Tried { get; set; }

    public int ClearError { get; set; }

    public int Unsupported { get; set; }

    public int LoadedSame { get; set; }

    public int LoadedChanged { get; set; }

    public int Crash { get; set; }

    public int Hang { get; set; }

    public int SilentWrong { get; set; }

    public List<string> Failures { get; } = [];

    public TimeSpan Elapsed { get; set; }

    public static string Header =>
        $"{"format",-14} {"tried",6} {"clear error",11} {"unsupported",11} {"loaded same",11} {"loaded changed*",15} {"crash",5} {"hang",4} {"silent wrong",12} {"seconds",7}";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Format,-14} {Tried,6} {ClearError,11} {Unsupported,11} {LoadedSame,11} {LoadedChanged,15} {Crash,5} {Hang,4} {SilentWrong,12} {Elapsed.TotalSeconds,7:F1}");
}

/// <summary>
/// Runs a reader on each mutated file, each with a timeout, and sorts the outcome: loaded (and then judged against the
/// seed), a clear error (<see cref="InvalidFileException"/> whose <see cref="InvalidFileException.FilePath"/> is the
/// file and whose message names it; for ONNX also <see cref="NotSupportedException"/> naming it), a crash (any other
/// exception, or one that does not name the file) or a hang.
/// </summary>
internal static class FuzzHarness
{
    /// <summary>The time one case may take before it counts as a hang.</summary>
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(10);

    public static FuzzCounts Run<T>(string format, IReadOnlyList<FuzzCase> cases, string extension, Func<string, T> read,
        Func<FuzzCase, T, LoadedAs> judge, bool namedNotSupportedIsClear = false)
    {
        var counts = new FuzzCounts(format);
        string dir = Directory.CreateTempSubdirectory("convnet-fuzz-").FullName;
        var clock = Stopwatch.StartNew();
        try
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var c = cases[i];
                string path = Path.Combine(dir, $"case{i:D5}{extension}");
                File.WriteAllBytes(path, c.Bytes);
                counts.Tried++;
                var task = Task.Run(() =>
                {
                    var result = read(path);
                    return judge(c, result);
                });
                if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CaseTimeout))
                {
                    counts.Hang++;
                    counts.Failures.Add($"hang: {c}");
                    continue;
                }
                if (task.IsCompletedSuccessfully)
                {
                    switch (task.Result)
                    {
                        case LoadedAs.Same:
                            counts.LoadedSame++;
                            break;
                        case LoadedAs.ChangedWithoutChecksum:
                            counts.LoadedChanged++;
                            break;
                        default:
                            counts.SilentWrong++;
                            counts.Failures.Add($"silent wrong: {c}");
                            break;
                    }
                    continue;
                }
                var e = task.Exception!.InnerException!;
                if (e is InvalidFileException f && f.FilePath == path && f.Message.Contains(path, StringComparison.Ordinal))
                {
                    counts.ClearError++;
                }
                else if (namedNotSupportedIsClear && e is NotSupportedException && e.Message.Contains(path, StringComparison.Ordinal))
                {
                    counts.Unsupported++;
                }
                else
                {
                    counts.Crash++;
                    counts.Failures.Add($"crash: {c}: {e.GetType().FullName}: {e.Message}");
                }
                File.Delete(path);
            }
        }
        finally
        {
            counts.Elapsed = clock.Elapsed;
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A hung case may still hold its file.
            }
        }
        return counts;
    }

    /// <summary>Prints the counts (and the first failures) and asserts that nothing crashed, hung or loaded silently wrong.</summary>
    public static void Report(TestContext context, FuzzCounts counts, int minimum)
    {
        context.WriteLine(FuzzCounts.Header);
        context.WriteLine(counts.ToString());
        Console.WriteLine(FuzzCounts.Header);
        Console.WriteLine(counts.ToString());
        foreach (string failure in counts.Failures.Take(20))
        {
            context.WriteLine(failure);
            Console.WriteLine(failure);
        }
        Assert.IsGreaterThanOrEqualTo(minimum, counts.Tried, "cases tried");
        Assert.AreEqual(0, counts.Crash + counts.Hang + counts.SilentWrong,
            $"{counts.Format}: {counts.Crash} crashes, {counts.Hang} hangs, {counts.SilentWrong} silently wrong loads:\n{string.Join("\n", counts.Failures.Take(20))}");
    }
}
