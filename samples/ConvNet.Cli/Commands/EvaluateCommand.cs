using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet evaluate --model model.zip --dataset &lt;folder | fashion-mnist&gt; [--data-dir DIR] [--test-limit N] [--json]</c>:
/// the metrics of a saved model (loaded with <c>mlContext.Model.Load</c>, scored by ML.NET and rated by ML.NET's evaluator)
/// on an image folder (every image; folder names are matched to the model's class names) or on Fashion-MNIST's test set. With <c>--json</c> the last line of stdout is one JSON object.
/// </summary>
internal static class EvaluateCommand
{
    private const string Name = "evaluate";

    /// <summary>Builds the command.</summary>
    public static System.CommandLine.Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "The model file written by 'convnet train'." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = "An image folder (one sub-folder per class, named as the model's classes) or 'fashion-mnist' (its test set)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST files." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Evaluate on at most N images (Fashion-MNIST: the first N; a folder: N drawn with a fixed seed)." };
        var json = new Option<bool>("--json") { Description = "End the output with the metrics as one JSON object on the last line." };
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "Leave out image files that cannot be used (missing, undecodable, truncated), listing them, instead of failing." };
        var command = new System.CommandLine.Command(Name, "Evaluate a saved model on an image folder or the Fashion-MNIST test set.")
        {
            model, dataset, dataDir, testLimit, json, skipBad,
        };
        command.SetAction(parse => Run(parse.GetValue(model), parse.GetValue(dataset), parse.GetValue(dataDir), parse.GetValue(testLimit),
            parse.GetValue(skipBad), CliOutput.Create(parse.InvocationConfiguration.Output, parse.GetValue(json))));
        return command;
    }

    private static int Run(string? modelPath, string? dataset, string? dataDir, int? limit, bool skipBad, CliOutput output)
    {
        if (string.IsNullOrWhiteSpace(modelPath))
        {
            throw new UsageException(Name, "--model is required: the model file written by 'convnet train'.");
        }
        if (string.IsNullOrWhiteSpace(dataset))
        {
            throw new UsageException(Name, $"--dataset is required: an image folder or '{CliData.FashionMnistName}'.");
        }
        if (limit is <= 0)
        {
            throw new UsageException(Name, $"--test-limit must be positive, got {limit}.");
        }
        bool fashion = CliData.IsFashionMnist(dataset);
        if (!fashion && dataDir != null)
        {
            throw new UsageException(Name, $"--data-dir applies to '{CliData.FashionMnistName}'; for an image folder, pass the folder as --dataset.");
        }

        var ml = new MLContext(seed: 1);
        using var model = CliModel.Load(ml, modelPath);
        IDataView scored;
        string[]? files = null;
        List<string> skippedImages = [];
        if (fashion)
        {
            var (rows, _) = CliData.FashionMnistRows(dataDir, DatasetSplit.Test, limit);
            var labels = CliData.MatchLabels([.. rows.Select(r => r.Label)], model.ClassNames, "Fashion-MNIST");
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i].Label = labels[i];
            }
            scored = model.ScoreFashionMnist(rows);
        }
        else
        {
            var rows = CliData.Subset(CliData.ImageFolder(dataset), limit, seed: 1);
            var bad = CliImages.CheckAll([.. rows.Select(r => r.ImagePath)], skipBad, output);
            skippedImages = bad.Select(b => b.Problem).ToList();
            var badFiles = bad.Select(b => b.Path).ToHashSet(StringComparer.Ordinal);
            rows = [.. rows.Where(r => !badFiles.Contains(r.ImagePath))];
            if (rows.Length == 0)
            {
                throw new CliFailureException($"--dataset folder '{Path.GetFullPath(dataset)}': none of its image files can be used.", ConvNetCli.InvalidFile);
            }
            var labels = CliData.MatchLabels([.. rows.Select(r => r.Label)], model.ClassNames, $"folder '{Path.GetFullPath(dataset)}'");
            files = [.. rows.Select(r => r.ImagePath)];
            scored = model.ScoreFiles(files, labels);
        }
        MulticlassClassificationMetrics metrics;
        try
        {
            metrics = ml.MulticlassClassification.Evaluate(scored, CliData.LabelKeyColumn);
        }
        catch (Exception e) when (files != null && e is not CliFailureException && CliImages.FirstUnreadable(files) is { } bad)
        {
            throw new CliFailureException(bad.Problem, ConvNetCli.InvalidFile);
        }
        long rowsScored = metrics.ConfusionMatrix.Counts.Sum(r => (long)Math.Round(r.Sum()));
        string source = fashion ? CliData.FashionMnistName : Path.GetFullPath(dataset);
        output.PrintMetrics(metrics, model.ClassNames, $"Evaluation of {model.Path} on {rowsScored} images of {source}:");
        if (output.Json)
        {
            var json = CliOutput.MetricsJson(metrics, model.ClassNames);
            json["model"] = model.Path;
            json["dataset"] = source;
            json["testRows"] = rowsScored;
            json["skippedImages"] = new JsonArray([.. skippedImages.Select(n => (JsonNode?)n)]);
            output.WriteJson(json);
        }
        return 0;
    }
}
