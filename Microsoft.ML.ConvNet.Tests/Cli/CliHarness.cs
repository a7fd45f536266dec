using System.Text.Json;
using Microsoft.ML.ConvNet.Cli;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tests.Data;
using SkiaSharp;

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

    /// <summary>The IDX bytes of test image <paramref name="index"/> (28×28, gray).</summary>
    public static byte[] FashionImage(int index)
    {
        var data = FashionTest;
        int size = data.SampleSize;
        var bytes = new byte[size];
        for (int p = 0; p < size; p++)
        {
            bytes[p] = (byte)MathF.Round(data.Images[index * size + p] * 255);
        }
        return bytes;
    }

    /// <summary>
    /// Writes 28×28 gray <paramref name="pixels"/> to <paramref name="path"/> with SkiaSharp, as a gray or an RGB image
    /// (three equal channels), PNG or JPEG by the extension; creates the folder.
    /// </summary>
    public static void WriteImage(byte[] pixels, string path, bool rgb = false)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var info = new SKImageInfo(28, 28, rgb ? SKColorType.Rgba8888 : SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var target = bitmap.GetPixelSpan();
        for (int i = 0; i < pixels.Length; i++)
        {
            if (rgb)
            {
                target[4 * i] = target[4 * i + 1] = target[4 * i + 2] = pixels[i];
                target[4 * i + 3] = 255;
            }
            else
            {
                target[i] = pixels[i];
            }
        }
        bool jpeg = path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase);
        using var data = bitmap.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes test image <paramref name="index"/> to <paramref name="path"/> (format from the extension), creating its folder.</summary>
    public static void WriteImage(int index, string path, bool rgb = false) => WriteImage(FashionImage(index), path, rgb);

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
            WriteImage(i, file, rgb: n % 10 == 0);
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
