using System.CommandLine;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet summary --arch NAME --input CxHxW [--classes K] [--small-input] [--device cpu|cuda:N|auto] [--json]</c>: the per-layer table of a
/// zoo architecture (shapes, parameters, MACs, activations, receptive field); with <c>--json</c> the last line of
/// stdout is the summary as one JSON object. <c>convnet summary --list</c> lists the architectures.
/// </summary>
internal static class SummaryCommand
{
    private const string Name = "summary";

    /// <summary>Builds the command.</summary>
    public static System.CommandLine.Command Create()
    {
        var arch = new Option<string?>("--arch", "-a") { Description = "Architecture name (see --list), e.g. resnet18." };
        var input = new Option<string>("--input", "-i") { Description = "Input shape per image as CxHxW.", DefaultValueFactory = _ => "3x224x224" };
        var classes = new Option<int>("--classes", "-k") { Description = "Number of output classes.", DefaultValueFactory = _ => 1000 };
        var small = new Option<bool>("--small-input") { Description = "Use the small-image stem (3×3 stride-1 first convolution, no initial max-pool) for 28–32 px inputs." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on the last line." };
        var list = new Option<bool>("--list") { Description = "List the architecture names." };
        var device = new Option<string>("--device", "-d") { Description = "Where the trial forward pass runs: cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "cpu" };
        var command = new System.CommandLine.Command(Name, "Show a model's layers: shapes, parameters, multiply-accumulates, activation memory, receptive field.")
        {
            arch, input, classes, small, json, list, device,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(list))
            {
                foreach (string n in ModelZoo.Names)
                {
                    output.WriteLine(n);
                }
                return 0;
            }
            string? name = parse.GetValue(arch);
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new UsageException(Name, "--arch is required (or --list to see the names).");
            }
            if (!ModelZoo.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new UsageException(Name, $"unknown architecture '{name}'. Known: {string.Join(", ", ModelZoo.Names)}.");
            }
            int numClasses = parse.GetValue(classes);
            if (numClasses <= 0)
            {
                throw new UsageException(Name, $"--classes must be positive, got {numClasses}.");
            }
            int[] shape = InputShape.Parse(Name, parse.GetValue(input)!);
            var target = CliDevice.Resolve(Name, parse.GetValue(device)!);
            using var model = ModelZoo.Create(name, new ModelOptions(numClasses, shape[0], parse.GetValue(small)));
            model.To(target);
            ModelSummary summary;
            try
            {
                summary = model.Summary(shape);
            }
            catch (Exception e) when (e is ShapeMismatchException or ArgumentException)
            {
                throw new UsageException(Name, $"{name} cannot run on a {string.Join("x", shape)} input: {e.Message}");
            }
            if (parse.GetValue(json))
            {
                output.WriteLine(summary.ToJson());
            }
            else
            {
                summary.Print(output);
            }
            return 0;
        });
        return command;
    }
}
