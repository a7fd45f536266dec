namespace Microsoft.ML.ConvNet.Cli.Commands;

using System.CommandLine;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// <c>convnet evaluate --model model.zip --dataset &lt;folder | fashion-mnist&gt; [--data-dir DIR] [--test-limit N] [--json]</c>:
/// the metrics of a saved model on an image folder (every image; folder names are matched to the model's class names)
/// or on Fashion-MNIST's test set. With <c>--json</c> the last line of stdout is one JSON object.
/// </summary>
internal static class EvaluateCommand
{
    private const string Name = "evaluate";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "The model file written by 'convnet train'." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = "An image folder (one sub-folder per class, named as the model's classes) or 'fashion-mnist' (its test set)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST files." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Evaluate on at most N images (Fashion-MNIST: the first N; a folder: N drawn with a fixed seed)." };
        var json = new Option<bool>("--json") { Description = "End the output with the metrics as one JSON object on the last line." };
        var command = new Command(Name, "Evaluate a saved model on an image folder or the Fashion-MNIST test set.")
        {
            model, dataset, dataDir, testLimit, json,
        };
        command.SetAction(parse => Run(parse.GetValue(model), parse.GetValue(dataset), parse.GetValue(dataDir), parse.GetValue(testLimit),
            CliOutput.Create(parse.InvocationConfiguration.Output, parse.GetValue(json))));
        return command;
    }

    private static int Run(string? modelPath, string? dataset, string? dataDir, int? limit, CliOutput output)
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

        var ctx = new ConvNetContext(seed: 1);
        using var model = CliModel.Load(ctx, modelPath);
        IDataView scored;
        if (fashion)
        {
            scored = model.Loader is { } loader
                ? model.ScoreImages(CliData.FashionMnistImages(dataDir, DatasetSplit.Test, limit, loader.OutputColumnName, model.ClassNames))
                : model.ScorePixels(CliData.FashionMnistPixels(ctx, dataDir, DatasetSplit.Test, limit, model.ClassNames));
        }
        else
        {
            var loader = model.Loader ?? throw new CliFailureException(
                $"model file '{model.Path}' reads pixel vectors, not image files; evaluate it on '{CliData.FashionMnistName}'.");
            var (paths, labels) = CliData.ImageFolder(ctx, dataset);
            if (limit is int n && n < paths.Length)
            {
                var order = Enumerable.Range(0, paths.Length).ToArray();
                new Random(1).Shuffle(order);
                var keep = order[..n].Order().ToArray();
                paths = keep.Select(i => paths[i]).ToArray();
                labels = keep.Select(i => labels[i]).ToArray();
            }
            scored = model.ScoreFiles(CliData.PathsAndKeyLabels(paths, labels, model.ClassNames, loader.InputColumnName, dataset));
        }
        long rows = scored.GetRowCount() ?? 0;
        var metrics = ctx.MulticlassClassification.Evaluate(scored);
        string source = fashion ? CliData.FashionMnistName : Path.GetFullPath(dataset);
        output.PrintMetrics(metrics, $"Evaluation of {model.Path} on {rows} images of {source}:");
        if (output.Json)
        {
            var json = CliOutput.MetricsJson(metrics);
            json["model"] = model.Path;
            json["dataset"] = source;
            json["testRows"] = rows;
            output.WriteJson(json);
        }
        return 0;
    }
}
