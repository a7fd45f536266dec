using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet predict --model model.zip FILE... [--json]</c>: the predicted class and the class probabilities of each
/// image file (PNG, JPEG, BMP, GIF, WebP), scored by the saved ML.NET model (<c>mlContext.Model.Load</c>); a model
/// trained on pixels gets them from the files through ML.NET's image transforms. With <c>--json</c> the last line of
/// stdout is <c>{"predictions":[{"file":..,"label":..,"probability":..,"scores":{"class":p,...}},...]}</c>.
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
            CliOutput.Create(parse.InvocationConfiguration.Output, parse.GetValue(json))));
        return command;
    }

    private static int Run(string? modelPath, string[] files, CliOutput output)
    {
        if (string.IsNullOrWhiteSpace(modelPath))
        {
            throw new UsageException(Name, "--model is required: the model file written by 'convnet train'.");
        }
        if (files.Length == 0)
        {
            throw new UsageException(Name, "give at least one image file to classify.");
        }
        var full = new string[files.Length];
        for (int i = 0; i < files.Length; i++)
        {
            full[i] = Path.GetFullPath(files[i]);
            if (!File.Exists(full[i]))
            {
                throw new CliFailureException(Directory.Exists(full[i])
                    ? $"'{files[i]}' is a folder; give image files (use 'convnet evaluate --dataset' for a folder)."
                    : $"image file '{full[i]}' does not exist.");
            }
        }

        var ml = new MLContext(seed: 1);
        using var model = CliModel.Load(ml, modelPath);
        foreach (string file in full)
        {
            if (CliImages.Problem(file) is { } problem)
            {
                throw new CliFailureException($"image file '{file}' cannot be read: {problem}");
            }
        }
        var scores = CliModel.Scores(model.ScoreFiles(full, null));
        var names = model.ClassNames;

        var predictions = new JsonArray();
        var table = output.Console != null ? new Table().AddColumns("file", "label", "probability", "next most probable") : null;
        table?.Columns[2].RightAligned();
        for (int i = 0; i < files.Length; i++)
        {
            var s = scores[i];
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
        if (table != null)
        {
            output.Console!.Write(table);
        }
        if (output.Json)
        {
            output.WriteJson(new JsonObject { ["model"] = model.Path, ["predictions"] = predictions });
        }
        return 0;
    }
}
