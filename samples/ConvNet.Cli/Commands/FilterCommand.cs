using System.CommandLine;
using System.Globalization;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// <c>convnet filter --kernel sobel-x in.png out.png</c>: runs one of the classic image filters (<see cref="ImageFilters"/>)
/// on an image file, each colour channel on its own, and writes the result as a PNG. <c>convnet filter --list</c>
/// lists the filters.
/// </summary>
internal static class FilterCommand
{
    private const string Name = "filter";

    /// <summary>Builds the command.</summary>
    public static System.CommandLine.Command Create()
    {
        var kernel = new Option<string?>("--kernel", "-k") { Description = "The filter: " + string.Join(", ", ImageFilters.Names) + "." };
        var border = new Option<string>("--border")
        {
            Description = "Pixels outside the image: reflect101 (OpenCV's default, gfedcb|abcdefgh), replicate (aaaaaa|abcdefgh) or constant (zeros).",
            DefaultValueFactory = _ => "reflect101",
        };
        var scale = new Option<string>("--scale")
        {
            Description = "How results become 8-bit pixels: clamp (v*255), abs (|v|*255), minmax (stretched per channel) or auto (abs for edge and derivative filters, clamp otherwise).",
            DefaultValueFactory = _ => "auto",
        };
        var gray = new Option<bool>("--gray") { Description = "Convert the image to grey before filtering." };
        var list = new Option<bool>("--list") { Description = "List the filters with what they do." };
        var input = new Argument<string?>("input") { Description = "The image to filter (PNG, JPEG, BMP, GIF or WebP).", Arity = ArgumentArity.ZeroOrOne };
        var outputFile = new Argument<string?>("output") { Description = "The PNG file to write.", Arity = ArgumentArity.ZeroOrOne };
        var command = new System.CommandLine.Command(Name, "Run a classic image filter (Sobel, Gaussian blur, sharpen, ...) on an image file and write the result as a PNG.")
        {
            kernel, border, scale, gray, list, input, outputFile,
        };
        command.SetAction(parse =>
        {
            var writer = parse.InvocationConfiguration.Output;
            if (parse.GetValue(list))
            {
                int width = ImageFilters.Names.Max(n => n.Length) + 2;
                foreach (string n in ImageFilters.Names)
                {
                    writer.WriteLine($"{n.PadRight(width)}{ImageFilters.Describe(n)}");
                }
                return 0;
            }
            return Run(parse.GetValue(kernel), parse.GetValue(border)!, parse.GetValue(scale)!, parse.GetValue(gray), parse.GetValue(input), parse.GetValue(outputFile), writer);
        });
        return command;
    }

    private static int Run(string? kernel, string border, string scale, bool gray, string? input, string? output, TextWriter writer)
    {
        if (string.IsNullOrWhiteSpace(kernel))
        {
            throw new UsageException(Name, $"--kernel is required, one of: {string.Join(", ", ImageFilters.Names)}.");
        }
        string? filter = ImageFilters.Names.FirstOrDefault(n => string.Equals(n, kernel, StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException(Name, $"unknown kernel '{kernel}'. Known kernels: {string.Join(", ", ImageFilters.Names)} ('convnet filter --list' says what each does).");
        var mode = border.ToLowerInvariant() switch
        {
            "reflect101" or "reflect-101" or "default" => BorderMode.Reflect101,
            "constant" or "zero" => BorderMode.Constant,
            "replicate" => BorderMode.Replicate,
            _ => throw new UsageException(Name, $"unknown --border '{border}': use reflect101, replicate or constant."),
        };
        if (string.IsNullOrWhiteSpace(input) || string.IsNullOrWhiteSpace(output))
        {
            throw new UsageException(Name, "give the input image and the output PNG, e.g. 'convnet filter --kernel sobel-x in.png out.png'.");
        }
        var scaling = scale.ToLowerInvariant() switch
        {
            "auto" => filter.EndsWith("-magnitude", StringComparison.Ordinal) || Math.Abs(ImageFilters.Kernel(filter).Sum()) < 1e-6f ? PixelScaling.Abs : PixelScaling.Clamp,
            "clamp" => PixelScaling.Clamp,
            "abs" => PixelScaling.Abs,
            "minmax" => PixelScaling.MinMax,
            _ => throw new UsageException(Name, $"unknown --scale '{scale}': use auto, clamp, abs or minmax."),
        };
        string outPath = Path.GetFullPath(output);
        if (Directory.Exists(outPath))
        {
            throw new UsageException(Name, $"the output '{outPath}' is a folder; give the PNG file to write.");
        }
        if (!string.Equals(Path.GetExtension(outPath), ".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException(Name, $"the output '{output}' must be a .png file (the result is written as PNG).");
        }
        using var scope = new TensorScope();
        var image = ImageFile.Read(input, gray ? 1 : 0);
        var result = ImageFilters.Apply(image, filter, mode);
        ImageFile.WritePng(outPath, result, scaling);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{filter} ({mode}, {scaling}) of {Path.GetFullPath(input)} ({image.Shape[2]}x{image.Shape[1]}, {image.Shape[0]} channel{(image.Shape[0] == 1 ? "" : "s")}) written to {outPath}"));
        return 0;
    }
}
