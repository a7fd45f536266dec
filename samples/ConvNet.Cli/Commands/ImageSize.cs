using System.Globalization;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>Parses image sizes written as <c>WxH</c> (also with ×, * or a comma), or one number for a square, e.g. <c>64x48</c>, <c>28</c>.</summary>
internal static class ImageSize
{
    /// <summary>The width and height, or a <see cref="UsageException"/> naming the text and the expected form.</summary>
    public static (int Width, int Height) Parse(string command, string text)
    {
        var parts = text.Split(['x', 'X', '×', '*', ','], StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0 || dims[i] > 4096)
            {
                throw new UsageException(command, $"--image-size '{text}' is not an image size: expected WxH with sizes from 1 to 4096, e.g. 28x28 or 64x48.");
            }
        }
        return dims.Length switch
        {
            1 => (dims[0], dims[0]),
            2 => (dims[0], dims[1]),
            _ => throw new UsageException(command, $"--image-size '{text}' has {dims.Length} sizes; expected WxH, e.g. 28x28."),
        };
    }
}
