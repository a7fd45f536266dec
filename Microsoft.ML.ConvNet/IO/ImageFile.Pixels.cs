using Microsoft.ML.ConvNet.Tensors;
using SkiaSharp;

namespace Microsoft.ML.ConvNet.IO;

/// <summary>How float pixels become 8-bit ones when an image is written.</summary>
public enum PixelScaling
{
    /// <summary>v · 255, saturated to [0, 255] (OpenCV's <c>convertTo(CV_8U, 255)</c>): for images in [0, 1].</summary>
    Clamp,

    /// <summary>|v| · 255, saturated (OpenCV's <c>convertScaleAbs</c> of v · 255): for signed filter outputs such as derivatives.</summary>
    Abs,

    /// <summary>Each channel stretched from its minimum to its maximum over [0, 255] (OpenCV's <c>normalize</c> with <c>NORM_MINMAX</c>).</summary>
    MinMax,
}

/// <summary>Reads and writes image files (PNG, JPEG, BMP, GIF, WebP) as <c>[C, H, W]</c> float tensors in [0, 1], with SkiaSharp.</summary>
public static partial class ImageFile
{
    /// <summary>
    /// Decodes <paramref name="path"/> to a <c>[C, H, W]</c> tensor in [0, 1] (red, green, blue planes; alpha is dropped).
    /// <paramref name="channels"/>: 1 (grey, by ITU-R BT.601 luma as OpenCV's <c>COLOR_RGB2GRAY</c>), 3, or 0 for the
    /// file's own (1 for a grey file, else 3).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">The file is not a complete image SkiaSharp can decode, or too large (see <see cref="Check"/>); the message names it.</exception>
    public static Tensor Read(string path, int channels = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (channels is not (0 or 1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 0 (as the file), 1 or 3, got {channels}.");
        }
        string full = Path.GetFullPath(path);
        var (_, problem, decoded) = Decode(InputFile.ReadAllBytes(full, MaxBytes, "image file"));
        if (decoded == null)
        {
            throw new InvalidFileException(full, $"image file '{full}' {problem}.");
        }
        int width = decoded.Width, height = decoded.Height;
        bool grayFile = decoded.Grey;
        int c = channels == 0 ? (grayFile ? 1 : 3) : channels;
        var rgba = decoded.Rgba;
        int plane = width * height;
        var data = new float[c * plane];
        for (int i = 0; i < plane; i++)
        {
            float r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            if (c == 1)
            {
                data[i] = grayFile ? r / 255f : (0.299f * r + 0.587f * g + 0.114f * b) / 255f;
            }
            else
            {
                data[i] = r / 255f;
                data[plane + i] = g / 255f;
                data[2 * plane + i] = b / 255f;
            }
        }
        return Tensor.FromArray(data, new Shape(c, height, width));
    }

    /// <summary>
    /// Writes a <c>[C, H, W]</c> (or <c>[1, C, H, W]</c>) image with 1 or 3 channels as a PNG, atomically, scaling its
    /// values as <paramref name="scaling"/> says. Creates the folder when missing.
    /// </summary>
    public static void WritePng(string path, Tensor image, PixelScaling scaling = PixelScaling.Clamp)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(image);
        var dims = image.Shape.Dims.ToArray();
        if (dims.Length == 4 && dims[0] == 1)
        {
            dims = dims[1..];
        }
        if (dims.Length != 3 || dims[0] is not (1 or 3))
        {
            throw new ArgumentException($"WritePng expects an image [C, H, W] with 1 or 3 channels, got {image.Shape}.", nameof(image));
        }
        byte[] png = EncodePng(image.ToArray(), dims[0], dims[1], dims[2], scaling);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        AtomicFile.Write(full, s => s.Write(png));
    }

    /// <summary>PNG bytes of planar pixels <paramref name="chw"/> (1 or 3 channels).</summary>
    public static byte[] EncodePng(ReadOnlySpan<float> chw, int channels, int height, int width, PixelScaling scaling = PixelScaling.Clamp)
    {
        if (channels is not (1 or 3) || height <= 0 || width <= 0 || chw.Length != channels * height * width)
        {
            throw new ArgumentException($"EncodePng expects {channels}x{height}x{width} pixels with 1 or 3 channels, got {chw.Length} values.", nameof(chw));
        }
        int plane = height * width;
        var bytes = new byte[channels * plane];
        for (int c = 0; c < channels; c++)
        {
            var src = chw.Slice(c * plane, plane);
            float scale = 255f, shift = 0f;
            if (scaling == PixelScaling.MinMax)
            {
                float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
                foreach (float v in src)
                {
                    if (float.IsFinite(v))
                    {
                        lo = Math.Min(lo, v);
                        hi = Math.Max(hi, v);
                    }
                }
                scale = hi > lo ? 255f / (hi - lo) : 0f;
                shift = float.IsFinite(lo) ? -lo * scale : 0f;
            }
            for (int i = 0; i < plane; i++)
            {
                float v = scaling == PixelScaling.Abs ? Math.Abs(src[i]) : src[i];
                float s = v * scale + shift;
                bytes[c * plane + i] = float.IsNaN(s) ? (byte)0 : (byte)Math.Clamp(MathF.Round(s), 0f, 255f);
            }
        }
        return EncodePng(bytes, channels, height, width);
    }

    /// <summary>PNG bytes of 8-bit planar pixels (1 or 3 channels).</summary>
    internal static byte[] EncodePng(byte[] chw, int channels, int height, int width)
    {
        int plane = height * width;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        var dst = bitmap.GetPixelSpan();
        for (int i = 0; i < plane; i++)
        {
            if (channels == 1)
            {
                dst[i] = chw[i];
            }
            else
            {
                dst[4 * i] = chw[i];
                dst[4 * i + 1] = chw[plane + i];
                dst[4 * i + 2] = chw[2 * plane + i];
                dst[4 * i + 3] = 255;
            }
        }
        return Encode(bitmap);
    }

    /// <summary>PNG bytes of a bitmap.</summary>
    internal static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {bitmap.Width}x{bitmap.Height} image as PNG.");
        return data.ToArray();
    }
}
