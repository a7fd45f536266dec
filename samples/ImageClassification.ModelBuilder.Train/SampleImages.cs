using Microsoft.ML.Data;

namespace ImageClassification_ModelBuilder;

/// <summary>A small synthetic image folder for trying the sample without data of one's own.</summary>
public static class SampleImages
{
    /// <summary>
    /// Draws three classes of 32×32 PNGs, stripes (horizontal, vertical, diagonal) of a random period, phase and
    /// colour, into <paramref name="root"/>/&lt;class&gt;/&lt;n&gt;.png, and returns <paramref name="root"/>.
    /// </summary>
    public static string DrawStripes(string root, int perClass, int seed = 1)
    {
        var random = new Random(seed);
        (string Name, Func<int, int, int> Position)[] classes = [("horizontal", (x, y) => y), ("vertical", (x, y) => x), ("diagonal", (x, y) => x + y)];
        foreach (var (name, position) in classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < perClass; i++)
            {
                int period = random.Next(2, 6), phase = random.Next(12);
                byte[] on = [(byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 255];
                byte[] off = [(byte)(255 - on[0]), (byte)(255 - on[1]), (byte)(255 - on[2]), 255];
                var pixels = new byte[32 * 32 * 4];
                for (int p = 0; p < 32 * 32; p++)
                {
                    ((position(p % 32, p / 32) + phase) / period % 2 == 0 ? on : off).CopyTo(pixels, 4 * p);
                }
                using var image = MLImage.CreateFromPixels(32, 32, MLPixelFormat.Rgba32, pixels);
                image.Save(Path.Combine(root, name, $"{i:D3}.png"));
            }
        }
        return root;
    }
}
