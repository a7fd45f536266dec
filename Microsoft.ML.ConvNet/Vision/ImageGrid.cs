using Microsoft.ML.ConvNet.IO;
using SkiaSharp;

namespace Microsoft.ML.ConvNet.Vision;

/// <summary>One picture of a grid: planar RGB values in [0, 1] and an optional caption (lines split by '\n').</summary>
internal sealed record GridTile(float[] Rgb, int Height, int Width, string? Caption = null);

/// <summary>Draws pictures (filters, feature maps, images, saliency maps) as a captioned grid, with SkiaSharp.</summary>
internal static class ImageGrid
{
    private const int Margin = 8;
    private const float FontSize = 12f;
    private const float TitleSize = 15f;

    /// <summary>PNG bytes of <paramref name="tiles"/> in rows of <paramref name="columns"/>, each drawn in a <paramref name="cell"/>-pixel square.</summary>
    public static byte[] Render(string title, IReadOnlyList<GridTile> tiles, int columns, int cell)
    {
        if (tiles.Count == 0)
        {
            throw new ArgumentException("A grid needs at least one picture.", nameof(tiles));
        }
        columns = Math.Clamp(columns, 1, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        int captionLines = tiles.Max(t => t.Caption == null ? 0 : t.Caption.Split('\n').Length);
        using var typeface = Typeface();
        using var font = new SKFont(typeface, FontSize);
        using var titleFont = new SKFont(typeface, TitleSize) { Embolden = true };
        float lineHeight = FontSize + 3;
        int captionWidth = (int)Math.Ceiling(tiles.Where(t => t.Caption != null).SelectMany(t => t.Caption!.Split('\n')).Select(l => font.MeasureText(l)).DefaultIfEmpty(0).Max());
        int cellWidth = Math.Max(cell, captionWidth + 4);
        int cellHeight = cell + (int)Math.Ceiling(captionLines * lineHeight) + 4;
        int titleHeight = (int)TitleSize + 10;
        int width = Math.Max(Margin * 2 + columns * cellWidth + (columns - 1) * Margin, (int)titleFont.MeasureText(title) + 2 * Margin);
        int height = Margin + titleHeight + rows * cellHeight + (rows - 1) * Margin + Margin;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var text = new SKPaint { Color = new SKColor(0x20, 0x20, 0x20), IsAntialias = true };
        using var frame = new SKPaint { Color = new SKColor(0xC8, 0xC8, 0xC8), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawText(title, Margin, Margin + TitleSize, SKTextAlign.Left, titleFont, text);
        for (int i = 0; i < tiles.Count; i++)
        {
            var t = tiles[i];
            int x0 = Margin + i % columns * (cellWidth + Margin), y0 = Margin + titleHeight + i / columns * (cellHeight + Margin);
            float scale = (float)cell / Math.Max(t.Height, t.Width);
            float w = t.Width * scale, h = t.Height * scale;
            var dest = SKRect.Create(x0 + (cellWidth - w) / 2, y0 + (cell - h) / 2, w, h);
            using (var image = ToImage(t))
            {
                var sampling = scale >= 1 ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
                canvas.DrawImage(image, dest, sampling);
            }
            canvas.DrawRect(dest, frame);
            if (t.Caption != null)
            {
                var lines = t.Caption.Split('\n');
                for (int l = 0; l < lines.Length; l++)
                {
                    canvas.DrawText(lines[l], x0 + cellWidth / 2f, y0 + cell + 2 + (l + 1) * lineHeight - 3, SKTextAlign.Center, font, text);
                }
            }
        }
        canvas.Flush();
        return ImageFile.Encode(bitmap);
    }

    /// <summary>A sans-serif typeface (DejaVu Sans where installed, else the platform's default).</summary>
    internal static SKTypeface Typeface() => SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;

    private static SKImage ToImage(GridTile t)
    {
        int plane = t.Height * t.Width;
        var info = new SKImageInfo(t.Width, t.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = new byte[plane * 4];
        for (int i = 0; i < plane; i++)
        {
            pixels[4 * i] = Byte(t.Rgb[i]);
            pixels[4 * i + 1] = Byte(t.Rgb[plane + i]);
            pixels[4 * i + 2] = Byte(t.Rgb[2 * plane + i]);
            pixels[4 * i + 3] = 255;
        }
        using var data = SKData.CreateCopy(pixels);
        return SKImage.FromPixels(info, data, t.Width * 4);
    }

    private static byte Byte(float v) => float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);

    /// <summary>
    /// Planar RGB in [0, 1] of an image of 1 or 3 channels (other counts: the mean of the channels): kept as it is when
    /// all values lie in [0, 1], else stretched from its minimum to its maximum.
    /// </summary>
    public static float[] Display(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        int plane = height * width;
        var rgb = new float[3 * plane];
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in chw)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        bool keep = lo >= 0 && hi <= 1;
        float scale = keep ? 1 : hi > lo ? 1 / (hi - lo) : 0, shift = keep ? 0 : -lo * scale;
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                float v;
                if (channels == 3)
                {
                    v = chw[c * plane + i];
                }
                else
                {
                    v = 0;
                    for (int k = 0; k < channels; k++)
                    {
                        v += chw[k * plane + i];
                    }
                    v /= channels;
                }
                rgb[c * plane + i] = v * scale + shift;
            }
        }
        return rgb;
    }

    /// <summary>Planar RGB of one map through a perceptual colour map (dark blue → teal → yellow), stretched from its minimum to its maximum.</summary>
    public static float[] Colormap(ReadOnlySpan<float> map)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in map)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        int n = map.Length;
        var rgb = new float[3 * n];
        for (int i = 0; i < n; i++)
        {
            float t = hi > lo ? (map[i] - lo) / (hi - lo) : 0;
            var (r, g, b) = Viridis(t);
            rgb[i] = r;
            rgb[n + i] = g;
            rgb[2 * n + i] = b;
        }
        return rgb;
    }

    /// <summary>A grey picture blended with a heat map of <paramref name="map"/> (values ≥ 0): the saliency overlay.</summary>
    public static float[] Overlay(float[] displayRgb, ReadOnlySpan<float> map)
    {
        int n = map.Length;
        float hi = 0;
        foreach (float v in map)
        {
            hi = Math.Max(hi, v);
        }
        var rgb = new float[3 * n];
        for (int i = 0; i < n; i++)
        {
            float gray = (displayRgb[i] + displayRgb[n + i] + displayRgb[2 * n + i]) / 3;
            float t = hi > 0 ? Math.Clamp(map[i] / hi, 0, 1) : 0;
            // Heat: black-red-yellow over the dimmed image.
            float r = Math.Clamp(t * 2, 0, 1), g = Math.Clamp(t * 2 - 1, 0, 1);
            rgb[i] = 0.45f * gray + 0.55f * r;
            rgb[n + i] = 0.45f * gray + 0.55f * g;
            rgb[2 * n + i] = 0.45f * gray;
        }
        return rgb;
    }

    private static readonly (float R, float G, float B)[] ViridisAnchors =
    [
        (0.267f, 0.005f, 0.329f), (0.230f, 0.322f, 0.546f), (0.128f, 0.567f, 0.551f), (0.369f, 0.789f, 0.383f), (0.993f, 0.906f, 0.144f),
    ];

    /// <summary>An approximation of matplotlib's viridis at <paramref name="t"/> in [0, 1].</summary>
    internal static (float R, float G, float B) Viridis(float t)
    {
        t = Math.Clamp(t, 0, 1) * (ViridisAnchors.Length - 1);
        int i = Math.Min((int)t, ViridisAnchors.Length - 2);
        float f = t - i;
        var a = ViridisAnchors[i];
        var b = ViridisAnchors[i + 1];
        return (a.R + (b.R - a.R) * f, a.G + (b.G - a.G) * f, a.B + (b.B - a.B) * f);
    }
}
