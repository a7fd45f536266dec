using System.Text.Json;
using Microsoft.ML.ConvNet.Cli;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Data.Images;
using Microsoft.ML.ConvNet.Tests.Data;

namespace Microsoft.ML.ConvNet.Tests.Cli;

/// <summary>Runs <c>convnet</c> in-process and writes the image files its tests read.</summary>
internal static class CliHarness
{
    private static readonly Lazy<ImageDataset> TestImages = new(() =>
        FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Test, new FashionMnistOptions { Limit = 2000, VerifyChecksums = false }));

    /// <summary>The first 2000 Fashion-MNIST test images, in [0, 1].</summary>
    public static ImageDataset FashionTest => TestImages.Value;

    /// <summary>Runs the command line; returns the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = ConvNetCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The last non-empty line of <paramref name="stdout"/> parsed as JSON.</summary>
    public static JsonElement LastLineJson(string stdout)
    {
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        using var doc = JsonDocument.Parse(last);
        return doc.RootElement.Clone();
    }

    /// <summary>Test image <paramref name="index"/> as a 28×28 gray image with its IDX bytes.</summary>
    public static ImageBuffer FashionImage(int index)
    {
        var data = FashionTest;
        int size = data.SampleSize;
        var bytes = new byte[size];
        for (int p = 0; p < size; p++)
        {
            bytes[p] = (byte)MathF.Round(data.Images[index * size + p] * 255);
        }
        return new ImageBuffer(28, 28, 1, bytes);
    }

    /// <summary>The same image with three equal channels.</summary>
    public static ImageBuffer ToRgb(ImageBuffer gray)
    {
        var rgb = new ImageBuffer(gray.Width, gray.Height, 3);
        for (int i = 0; i < gray.Pixels.Length; i++)
        {
            rgb.Pixels[3 * i] = rgb.Pixels[3 * i + 1] = rgb.Pixels[3 * i + 2] = gray.Pixels[i];
        }
        return rgb;
    }

    /// <summary>Writes test image <paramref name="index"/> to <paramref name="path"/> (format from the extension), creating its folder.</summary>
    public static void WriteImage(int index, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ImageCodec.Save(FashionImage(index), path);
    }

    /// <summary>
    /// Writes an image folder of the test images of <paramref name="classes"/> (Fashion-MNIST class indices): up to
    /// <paramref name="perClass"/> images each, in sub-folders named after the classes ('/' written as '_'), alternately
    /// PNG and JPEG, every fifth PNG in RGB. Returns the files written.
    /// </summary>
    public static IReadOnlyList<(string Path, string Label)> WriteFolder(string root, int[] classes, int perClass)
    {
        var data = FashionTest;
        var written = new List<(string, string)>();
        var counts = new int[FashionMnist.ClassCount];
        for (int i = 0; i < data.Count; i++)
        {
            int label = data.Labels[i];
            if (!classes.Contains(label) || counts[label] >= perClass)
            {
                continue;
            }
            int n = counts[label]++;
            string name = FashionMnist.ClassNames[label].Replace('/', '_');
            string file = Path.Combine(root, name, $"{i:D4}{(n % 2 == 0 ? ".png" : ".jpg")}");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var image = FashionImage(i);
            ImageCodec.Save(n % 10 == 0 ? ToRgb(image) : image, file);
            written.Add((file, FashionMnist.ClassNames[label]));
        }
        return written;
    }

    /// <summary>A new empty temporary folder.</summary>
    public static string TempFolder(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"convnet-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
