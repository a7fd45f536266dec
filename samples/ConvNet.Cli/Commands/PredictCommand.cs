using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet predict --model model.zip FILE... [--json]</c>: the predicted class and the class probabilities of each
/// image file (PNG, JPEG, BMP, GIF, WebP), scored by the saved ML.NET model (<c>mlContext.Model.Load</c>); a model
/// trained on pixels gets them from the files through ML.NET's image transforms. With <c>--json</c> the last line of
/// stdout is <c>{"predictions":[{"file":..,"label":..,"probability":..,"scores":{"class":p,...}},...],"errors":[{"file":..,"error":..,"exitCode":..}]}</c>.
/// Every file that can be read is scored; each one that cannot (missing, undecodable, truncated) is reported on stderr,
/// and the exit code is then 4 (3 when the bad files are all missing).
/// </summary>
internal static class PredictCommand
{
    private const string Name = "predict";

    /// <summary>Builds the command.</summary>
    public static System.CommandLine.Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "The model file written by 'convnet train'." };
        var files = new Argument<string[]>("files") { Description = "Image files to classify.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the predictions as one JSON object on the last line." };
        var command = new System.CommandLine.Command(Name, "Classify image files with a saved model.") { model, files, json };
        command.SetAction(parse => Run(parse.GetValue(model), parse.GetValue(files) ?? [],
            CliOutput.Create(parse.InvocationConfiguration.Output, parse.GetValue(json)), parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string? modelPath, string[] files, CliOutput output, TextWriter error)
    {
        if (string.IsNullOrWhiteSpace(modelPath))
        {
            throw new UsageException(Name, "--model is required: the model file written by 'convnet train'.");
        }
        if (files.Length == 0)
        {
            throw new UsageException(Name, "give at least one image file to classify.");
        }
        // Every file is checked first; the good ones are scored, each bad one is reported, and the exit code says so at the end.
        var full = files.Select(Path.GetFullPath).ToArray();
        var bad = CliImages.Unreadable(full);
        var badFiles = bad.Select(b => b.Path).ToHashSet(StringComparer.Ordinal);
        var good = Enumerable.Range(0, files.Length).Where(i => !badFiles.Contains(full[i])).ToArray();

        var ml = new MLContext(seed: 1);
        using var model = CliModel.Load(ml, modelPath);
        var scores = good.Length > 0 ? CliModel.Scores(model.ScoreFiles([.. good.Select(i => full[i])], null)) : [];
        var names = model.ClassNames;
        var predictions = new JsonArray();
        var table = output.Console != null ? new Table().AddColumns("file", "label", "probability", "next most probable") : null;
        table?.Columns[2].RightAligned();
        for (int k = 0; k < good.Length; k++)
        {
            int i = good[k];
            var s = scores[k];
            var ranked = Enumerable.Range(0, s.Length).OrderByDescending(c => s[c]).ThenBy(c => c).ToArray();
            int best = ranked[0];
            string next = string.Join(", ", ranked.Skip(1).Take(2).Select(c => $"{names[c]} {CliOutput.F4(s[c])}"));
            if (table != null)
            {
                table.AddRow(Markup.Escape(files[i]), Markup.Escape(names[best]), CliOutput.F4(s[best]), Markup.Escape(next));
            }
            else
            {
                output.Line($"{files[i]}: {names[best]} ({CliOutput.F4(s[best])}); next: {next}");
            }
            var byClass = new JsonObject();
            for (int c = 0; c < s.Length; c++)
            {
                byClass[names[c]] = s[c];
            }
            predictions.Add(new JsonObject
            {
                ["file"] = files[i],
                ["label"] = names[best],
                ["probability"] = s[best],
                ["scores"] = byClass,
            });
        }
        if (table != null && good.Length > 0)
        {
            output.Console!.Write(table);
        }
        foreach (var (_, problem, _) in bad)
        {
            error.WriteLine($"convnet {Name}: {problem}");
        }
        if (output.Json)
        {
            var errors = new JsonArray([.. bad.Select(b => (JsonNode?)new JsonObject { ["file"] = b.Path, ["error"] = b.Problem, ["exitCode"] = b.Code })]);
            output.WriteJson(new JsonObject { ["model"] = model.Path, ["predictions"] = predictions, ["errors"] = errors });
        }
        if (bad.Count == 0)
        {
            return 0;
        }
        error.WriteLine($"convnet {Name}: {bad.Count} of {files.Length} files could not be classified; the other {good.Length} were.");
        return bad.Any(b => b.Code == ConvNetCli.InvalidFile) ? ConvNetCli.InvalidFile : ConvNetCli.MissingFile;
    }
}
