using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.ConvNet.Training;

/// <summary>
/// A one-line progress bar for training in a terminal, fed by the trainers' batch and epoch callbacks: the epoch's bar,
/// batches done, running loss and accuracy, images per second and the epoch's remaining time (ETA), redrawn at most
/// five times a second; each finished epoch becomes one line. When the output is redirected (a file, a pipe, CI) the bar
/// is not drawn and only the epoch lines are written.
/// </summary>
/// <example>
/// <code>
/// var progress = new ConsoleProgress();
/// options.BatchCallback = progress.Batch;
/// options.MetricsCallback = m => progress.Epoch(m.ToString());
/// </code>
/// </example>
public sealed class ConsoleProgress
{
    private const int BarWidth = 24;
    private readonly TextWriter _writer;
    private readonly Stopwatch _sinceDraw = new();
    private readonly Stopwatch _epochClock = new();
    private int _epoch = -1;
    private int _drawnLength;

    /// <summary>Writes to <paramref name="writer"/> (default stdout); draws the bar when <paramref name="interactive"/> (default: stdout is a terminal).</summary>
    public ConsoleProgress(TextWriter? writer = null, bool? interactive = null)
    {
        _writer = writer ?? Console.Out;
        Interactive = interactive ?? (writer == null && !Console.IsOutputRedirected);
    }

    /// <summary>Whether the bar is drawn (otherwise only epoch lines are written).</summary>
    public bool Interactive { get; }

    /// <summary>Total epochs, shown as "epoch 2/5" when set (0: "epoch 2").</summary>
    public int Epochs { get; set; }

    /// <summary>Takes one training step's report; redraws the bar when due (always on an epoch's last batch).</summary>
    public void Batch(BatchReport report)
    {
        if (report.Epoch != _epoch)
        {
            _epoch = report.Epoch;
            _epochClock.Restart();
        }
        if (!Interactive)
        {
            return;
        }
        bool last = report.Batch + 1 >= report.BatchCount;
        if (_sinceDraw.IsRunning && _sinceDraw.ElapsedMilliseconds < 200 && !last)
        {
            return;
        }
        _sinceDraw.Restart();
        string line = Format(report, _epochClock.Elapsed);
        _writer.Write("\r" + line + (line.Length < _drawnLength ? new string(' ', _drawnLength - line.Length) : ""));
        _writer.Flush();
        _drawnLength = line.Length;
    }

    /// <summary>Ends the epoch: clears the bar and writes <paramref name="line"/> (e.g. the epoch report).</summary>
    public void Epoch(string line)
    {
        Clear();
        _writer.WriteLine(line);
    }

    /// <summary>Clears the bar (before other output).</summary>
    public void Clear()
    {
        if (Interactive && _drawnLength > 0)
        {
            _writer.Write("\r" + new string(' ', _drawnLength) + "\r");
            _drawnLength = 0;
        }
    }

    /// <summary>
    /// The bar's text, e.g. <c>epoch 2/5 [############------------]  50%  704/1407  loss 0.4123  acc 0.8512  5210 img/s  ETA 0:07</c>;
    /// the ETA is the epoch's remaining batches at the epoch's mean time per batch so far.
    /// </summary>
    public string Format(BatchReport report, TimeSpan epochElapsed)
    {
        int done = Math.Min(report.Batch + 1, Math.Max(report.BatchCount, 1));
        double fraction = report.BatchCount > 0 ? (double)done / report.BatchCount : 1;
        int filled = (int)Math.Round(fraction * BarWidth);
        var eta = done > 0 ? TimeSpan.FromSeconds(epochElapsed.TotalSeconds / done * (report.BatchCount - done)) : TimeSpan.Zero;
        string epoch = Epochs > 0 ? $"{report.Epoch}/{Epochs}" : report.Epoch.ToString(CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch} [{new string('#', filled)}{new string('-', BarWidth - filled)}] {(int)Math.Round(fraction * 100),3}%  {done}/{report.BatchCount}  loss {report.EpochLoss:F4}  acc {report.EpochAccuracy:F4}  {report.ImagesPerSecond:F0} img/s  ETA {FormatTime(eta)}");
    }

    private static string FormatTime(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
