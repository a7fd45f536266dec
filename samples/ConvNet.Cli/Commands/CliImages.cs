using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>Checks that image files decode (with ML.NET's <see cref="MLImage"/>), to name the file that does not.</summary>
internal static class CliImages
{
    /// <summary>Why <paramref name="path"/> cannot be decoded, or null when it can.</summary>
    public static string? Problem(string path)
    {
        if (!File.Exists(path))
        {
            return "the file does not exist";
        }
        try
        {
            using var stream = File.OpenRead(path);
            using var image = MLImage.CreateFromStream(stream);
            return image.Width > 0 && image.Height > 0 ? null : "the image is empty";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"not an image ML.NET can decode ({e.Message})";
        }
    }

    /// <summary>The first of <paramref name="paths"/> that cannot be decoded, with why; null when all can.</summary>
    public static (string Path, string Problem)? FirstUnreadable(IEnumerable<string> paths)
    {
        foreach (string path in paths)
        {
            if (Problem(path) is { } problem)
            {
                return (path, problem);
            }
        }
        return null;
    }
}
