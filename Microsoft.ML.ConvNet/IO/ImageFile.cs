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
/// missing rows with grey; this check reports it (the codec's <c>IncompleteInput</c>). A PNG's chunk CRC-32s are
/// verified as well.
/// </summary>
public static partial class ImageFile
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
        var (info, problem, _) = Decode(bytes);
        return (info, problem);
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> to 8-bit RGBA pixels, unpremultiplied, or says why they are not a complete image
    /// (empty, a PNG whose chunks or pixel data are damaged, undecodable, too many pixels, truncated).
    /// </summary>
    private static (ImageFileInfo? Info, string? Problem, DecodedPixels? Pixels) Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return (null, "is empty", null);
        }
        if (PngProblem(bytes) is string png)
        {
            return (null, png, null);
        }
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(new SKMemoryStream(data), out var created);
        if (codec == null)
        {
            return (null, $"is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP, ICO, WBMP; the codec says {created})", null);
        }
        var size = codec.Info;
        if (size.Width <= 0 || size.Height <= 0)
        {
            return (null, $"declares the empty size {size.Width}×{size.Height}", null);
        }
        if (size.Width > MaxSide || size.Height > MaxSide || (long)size.Width * size.Height > MaxPixels)
        {
            return (null, $"declares {size.Width}×{size.Height} pixels, more than the limit of {MaxSide} per side and {MaxPixels} in all", null);
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
            SKCodecResult.Success => (new ImageFileInfo(size.Width, size.Height, format), null,
                new DecodedPixels(pixels, size.Width, size.Height, size.ColorType == SKColorType.Gray8)),
            SKCodecResult.IncompleteInput => (null, $"is truncated: the {format} data ends before all {size.Width}×{size.Height} pixels are decoded", null),
            SKCodecResult.ErrorInInput => (null, $"holds corrupt {format} data (the decoder stopped with an error)", null),
            _ => (null, $"cannot be decoded as {format} ({result})", null),
        };
    }

    /// <summary>A decoded image: RGBA bytes, row-major, and whether the file stored grey pixels.</summary>
    private sealed record DecodedPixels(byte[] Rgba, int Width, int Height, bool Grey);

    /// <summary>
    /// For a PNG, what is wrong with its chunk structure: a chunk that runs past the end, a CRC-32 that does not match
    /// (SkiaSharp's decoder does not check them all), or no IEND chunk; null for a sound PNG or another format.
    /// </summary>
    private static string? PngProblem(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (!bytes.StartsWith(signature))
        {
            return null;
        }
        int at = signature.Length;
        var idat = new List<(int Start, int Length)>();
        ReadOnlySpan<byte> header = default;
        while (true)
        {
            if (bytes.Length - at < 12)
            {
                return $"is truncated: the PNG ends at byte {bytes.Length} without its IEND chunk";
            }
            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[at..]);
            if (length > int.MaxValue || length > bytes.Length - at - 12)
            {
                return $"is truncated: the PNG chunk at byte {at} declares {length} bytes of data, {Math.Max(0, bytes.Length - at - 12)} follow";
            }
            var typeAndData = bytes.Slice(at + 4, 4 + (int)length);
            uint recorded = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[(at + 8 + (int)length)..]);
            uint actual = System.IO.Hashing.Crc32.HashToUInt32(typeAndData);
            string type = System.Text.Encoding.ASCII.GetString(typeAndData[..4]);
            if (recorded != actual)
            {
                return $"is corrupt: the PNG chunk '{type}' at byte {at} has CRC-32 {actual:x8}, the file records {recorded:x8}";
            }
            if (type == "IHDR" && length == 13)
            {
                header = typeAndData[4..];
            }
            else if (type == "IDAT")
            {
                idat.Add((at + 8, (int)length));
            }
            at += 12 + (int)length;
            if (type == "IEND")
            {
                return header.IsEmpty ? null : PixelDataProblem(bytes, header, idat);
            }
        }
    }

    /// <summary>
    /// Whether the PNG's compressed pixel data (its IDAT chunks, inflated; zlib checks their Adler-32) holds exactly the
    /// bytes its header's size, colour type, bit depth and interlacing call for; SkiaSharp ignores data beyond them.
    /// </summary>
    private static string? PixelDataProblem(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> header, List<(int Start, int Length)> idat)
    {
        long width = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header);
        long height = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        int depth = header[8], colourType = header[9], interlace = header[12];
        int channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (channels == 0 || depth is not (1 or 2 or 4 or 8 or 16) || interlace > 1 || width is 0 or > MaxSide || height is 0 or > MaxSide)
        {
            return null; // the decoder reports these
        }
        long bitsPerPixel = channels * depth;
        long Rows(long w, long h) => w > 0 && h > 0 ? h * (1 + ((w * bitsPerPixel) + 7) / 8) : 0;
        long expected = interlace == 0 ? Rows(width, height)
            : new (int X, int Y, int DX, int DY)[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) }
                .Sum(p => Rows((width - p.X + p.DX - 1) / p.DX, (height - p.Y + p.DY - 1) / p.DY));
        var compressed = new byte[idat.Sum(c => (long)c.Length)];
        int filled = 0;
        foreach (var (start, length) in idat)
        {
            bytes.Slice(start, length).CopyTo(compressed.AsSpan(filled));
            filled += length;
        }
        long total = 0;
        try
        {
            using var inflate = new System.IO.Compression.ZLibStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = inflate.Read(buffer)) > 0)
            {
                total += n;
                if (total > expected)
                {
                    return $"is corrupt: its PNG pixel data holds more than the {expected} bytes its header ({width}×{height}) calls for";
                }
            }
        }
        catch (InvalidDataException e)
        {
            return $"is corrupt: its PNG pixel data does not inflate ({e.Message})";
        }
        return total < expected ? $"is truncated: its PNG pixel data holds {total} of the {expected} bytes its header ({width}×{height}) calls for" : null;
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
