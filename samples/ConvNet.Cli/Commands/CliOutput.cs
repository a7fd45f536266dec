using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Spectre.Console;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// Where a command writes its results: rich output (Spectre.Console progress bars and tables) when stdout is a terminal
/// and <c>--json</c> is off, plain lines otherwise (redirected output, tests, <c>--json</c>, whose last line is one JSON object).
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    private CliOutput(TextWriter writer, IAnsiConsole? console, bool json)
    {
        Writer = writer;
        Console = console;
        Json = json;
    }

    /// <summary>The plain writer (stdout).</summary>
    public TextWriter Writer { get; }

    /// <summary>The rich console, or null when writing plain lines.</summary>
    public IAnsiConsole? Console { get; }

    /// <summary>Whether the last line must be a JSON object.</summary>
    public bool Json { get; }

    /// <summary>Rich output only when <paramref name="writer"/> is the process's stdout, a terminal, and <paramref name="json"/> is off.</summary>
    public static CliOutput Create(TextWriter writer, bool json)
    {
        bool terminal = !json && ReferenceEquals(writer, System.Console.Out) && !System.Console.IsOutputRedirected
            && AnsiConsole.Profile.Capabilities.Interactive;
        return new CliOutput(writer, terminal ? AnsiConsole.Console : null, json);
    }

    /// <summary>Writes one line (escaped for the rich console).</summary>
    public void Line(string text = "")
    {
        if (Console != null)
        {
            Console.WriteLine(text);
        }
        else
        {
            Writer.WriteLine(text);
        }
    }

    /// <summary>Writes <paramref name="json"/> as the last line.</summary>
    public void WriteJson(JsonObject json) => Writer.WriteLine(json.ToJsonString(JsonOptions));

    /// <summary>Formats a metric with 4 decimals (invariant culture).</summary>
    public static string F4(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>The number of rows of class <paramref name="c"/> (the confusion matrix's row sum).</summary>
    private static long Support(ConfusionMatrix cm, int c) => (long)Math.Round(cm.Counts[c].Sum());

    /// <summary>
    /// Prints ML.NET's metrics: the summary values, a per-class table (<paramref name="classNames"/> in key order) and
    /// ML.NET's confusion table.
    /// </summary>
    public void PrintMetrics(MulticlassClassificationMetrics m, IReadOnlyList<string> classNames, string title)
    {
        var cm = m.ConfusionMatrix;
        int k = cm.NumberOfClasses;
        string Name(int c) => c < classNames.Count ? classNames[c] : c.ToString(CultureInfo.InvariantCulture);
        if (Console != null)
        {
            var summary = new Table().Title(Markup.Escape(title)).AddColumns("metric", "value");
            summary.Columns[1].RightAligned();
            summary.AddRow("micro accuracy", F4(m.MicroAccuracy));
            summary.AddRow("macro accuracy", F4(m.MacroAccuracy));
            summary.AddRow("log-loss", F4(m.LogLoss));
            summary.AddRow("log-loss reduction", F4(m.LogLossReduction));
            Console.Write(summary);
            var perClass = new Table().AddColumns("class", "precision", "recall", "log-loss", "support");
            for (int c = 1; c < 5; c++)
            {
                perClass.Columns[c].RightAligned();
            }
            for (int c = 0; c < k; c++)
            {
                perClass.AddRow(Markup.Escape(Name(c)), F4(cm.PerClassPrecision[c]), F4(cm.PerClassRecall[c]), F4(m.PerClassLogLoss[c]),
                    Support(cm, c).ToString(CultureInfo.InvariantCulture));
            }
            Console.Write(perClass);
            // Plain text: the console would wrap the wide table at the terminal width.
            Writer.Write(cm.GetFormattedConfusionTable());
            return;
        }
        Line(title);
        Line($"  micro accuracy      {F4(m.MicroAccuracy)}");
        Line($"  macro accuracy      {F4(m.MacroAccuracy)}");
        Line($"  log-loss            {F4(m.LogLoss)}");
        Line($"  log-loss reduction  {F4(m.LogLossReduction)}");
        int width = Math.Max("class".Length, Enumerable.Range(0, k).Max(c => Name(c).Length)) + 2;
        Line($"  {"class".PadRight(width)}{"precision",10}{"recall",10}{"log-loss",10}{"support",9}");
        for (int c = 0; c < k; c++)
        {
            Line($"  {Name(c).PadRight(width)}{F4(cm.PerClassPrecision[c]),10}{F4(cm.PerClassRecall[c]),10}{F4(m.PerClassLogLoss[c]),10}{Support(cm, c),9}");
        }
        Writer.Write(cm.GetFormattedConfusionTable());
    }

    /// <summary>
    /// The metrics as JSON (camelCase): <c>microAccuracy</c>, <c>macroAccuracy</c>, <c>logLoss</c>, <c>logLossReduction</c>,
    /// <c>perClass</c> (label, precision, recall, logLoss, support) and <c>confusionMatrix</c> (rows: actual class). A
    /// value that is not finite is written as null.
    /// </summary>
    public static JsonObject MetricsJson(MulticlassClassificationMetrics m, IReadOnlyList<string> classNames)
    {
        var cm = m.ConfusionMatrix;
        int k = cm.NumberOfClasses;
        var perClass = new JsonArray();
        var matrix = new JsonArray();
        for (int c = 0; c < k; c++)
        {
            perClass.Add(new JsonObject
            {
                ["label"] = c < classNames.Count ? classNames[c] : c.ToString(CultureInfo.InvariantCulture),
                ["precision"] = Number(cm.PerClassPrecision[c]),
                ["recall"] = Number(cm.PerClassRecall[c]),
                ["logLoss"] = Number(m.PerClassLogLoss[c]),
                ["support"] = Support(cm, c),
            });
            matrix.Add(new JsonArray([.. cm.Counts[c].Select(v => (JsonNode?)(long)Math.Round(v))]));
        }
        return new JsonObject
        {
            ["microAccuracy"] = Number(m.MicroAccuracy),
            ["macroAccuracy"] = Number(m.MacroAccuracy),
            ["logLoss"] = Number(m.LogLoss),
            ["logLossReduction"] = Number(m.LogLossReduction),
            ["perClass"] = perClass,
            ["confusionMatrix"] = matrix,
        };
    }

    /// <summary>A JSON number, or null when <paramref name="value"/> is not finite.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
