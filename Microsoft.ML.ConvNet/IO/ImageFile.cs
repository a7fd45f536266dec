using SkiaSharp;

namespace Microsoft.ML.ConvNet.IO;

/// <summary>What <see cref="ImageFile.Check(string)"/> found: the size and the encoded format of a complete image.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Format">The encoded format as SkiaSharp names it (<c>Png</c>, <c>Jpeg</c>, <c>Bmp</c>, <c>Gif</c>, <c>Webp</c>, ...).</param>
public sealed record ImageFileInfo(int Width, int Height, string Format);

/// <summary>
/// Checks image files before they are trained on or scored, with the decoder ML.NET's image transforms use (SkiaSharp):
/// a regular file of at most <see cref="MaxBytes"/>, a format SkiaSharp decodes, a size within <see cref="MaxSide"/> and
/// <see cref="MaxPixels"/> (checked before the pixels are allocated), and pixels that decode completely. SkiaSharp's
/// <c>SKBitmap.Decode</c>, and with it <c>MLImage</c> and <c>LoadImages</c>, accepts a truncated file and fills the
/// missing rows with grey; this check reports it (the codec's <c>IncompleteInput</c>).
/// </summary>
public static class ImageFile
{
    /// <summary>The largest image file read, in bytes (256 MiB).</summary>
    public const long MaxBytes = 256L << 20;

    /// <summary>The largest width or height accepted, in pixels.</summary>
    public const int MaxSide = 32768;

    /// <summary>The most pixels accepted (2^26, 8192×8192).</summary>
    public const long MaxPixels = 1L << 26;

    /// <summary>Checks that <paramref name="path"/> is a complete image SkiaSharp decodes; returns its size and format.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">It is not a regular file, too large, not a decodable image, too many pixels, or truncated; the message names the file.</exception>
    public static ImageFileInfo Check(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, MaxBytes, "image file");
        var (info, problem) = Inspect(bytes);
        return info ?? throw new InvalidFileException(path, $"image file '{path}' {problem}.");
    }

    /// <summary>Why <paramref name="path"/> cannot be used as an image (the message of <see cref="Check(string)"/>), or null when it can.</summary>
    public static string? Problem(string path)
    {
        try
        {
            Check(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>The size and format of the image in <paramref name="bytes"/>, or why it is not a complete image ("is truncated ...").</summary>
    internal static (ImageFileInfo? Info, string? Problem) Inspect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return (null, "is empty");
        }
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(new SKMemoryStream(data), out var created);
        if (codec == null)
        {
            return (null, $"is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP, ICO, WBMP; the codec says {created})");
        }
        var size = codec.Info;
        if (size.Width <= 0 || size.Height <= 0)
        {
            return (null, $"declares the empty size {size.Width}×{size.Height}");
        }
        if (size.Width > MaxSide || size.Height > MaxSide || (long)size.Width * size.Height > MaxPixels)
        {
            return (null, $"declares {size.Width}×{size.Height} pixels, more than the limit of {MaxSide} per side and {MaxPixels} in all");
        }
        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = GC.AllocateUninitializedArray<byte>(target.BytesSize, pinned: true);
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = pixels)
            {
                result = codec.GetPixels(target, (IntPtr)p);
            }
        }
        string format = codec.EncodedFormat.ToString();
        return result switch
        {
            SKCodecResult.Success => (new ImageFileInfo(size.Width, size.Height, format), null),
            SKCodecResult.IncompleteInput => (null, $"is truncated: the {format} data ends before all {size.Width}×{size.Height} pixels are decoded"),
            SKCodecResult.ErrorInInput => (null, $"holds corrupt {format} data (the decoder stopped with an error)"),
            _ => (null, $"cannot be decoded as {format} ({result})"),
        };
    }

    /// <summary>Throws <see cref="InvalidDataException"/> with the problem when <paramref name="bytes"/> are not a complete image.</summary>
    internal static void CheckBytes(byte[] bytes, string what)
    {
        var (_, problem) = Inspect(bytes);
        if (problem != null)
        {
            throw new InvalidDataException($"{what} {problem}.");
        }
    }
}
