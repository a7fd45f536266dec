using System.Globalization;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>Parses per-sample shapes written as <c>CxHxW</c> (also with ×, * or commas), e.g. <c>3x224x224</c>.</summary>
internal static class InputShape
{
    /// <summary>The sizes, or a <see cref="UsageException"/> naming the text and the expected form.</summary>
    public static int[] Parse(string command, string text)
    {
        var parts = text.Split(['x', 'X', '×', '*', ','], StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
            {
                throw new UsageException(command, $"--input '{text}' is not a shape: expected positive sizes as CxHxW, e.g. 3x224x224.");
            }
        }
        if (dims.Length != 3)
        {
            throw new UsageException(command, $"--input '{text}' has {dims.Length} sizes; expected CxHxW, e.g. 3x224x224.");
        }
        return dims;
    }
}
