using System.Text;

namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>
/// Decodes and encodes images. JPEG and PNG go through native codecs (libjpeg-turbo's TurboJPEG API and libspng,
/// Debian packages <c>libturbojpeg0</c> and <c>libspng0</c>); BMP and PGM/PPM are handled in managed code.
/// </summary>
/// <remarks>
/// <para>Decoded images keep the file's natural channel count:</para>
/// <list type="bullet">
/// <item>JPEG: grayscale → 1 channel; YCbCr/RGB → 3; CMYK/YCCK → 3 (converted to RGB). The EXIF orientation
/// (APP1 tag 0x0112) is applied, so the result is upright as a viewer would show it.</item>
/// <item>PNG: gray → 1 (any bit depth, 16-bit reduced to 8; a tRNS colour key is ignored); gray + alpha → 4 (RGBA,
/// gray copied to R, G and B, because <see cref="ImageBuffer"/> has no two-channel form); RGB → 3, or 4 when a tRNS
/// chunk makes a colour transparent; RGBA → 4; palette → 3, or 4 when the palette has transparency.</item>
/// <item>BMP: 8-bit palette → 1 when the palette is gray, else 3; 24-bit → 3; 32-bit → 3, or 4 when the header's
/// bit-field masks include alpha.</item>
/// <item>PGM → 1, PPM → 3; a maximum value below 255 is rescaled to 0..255.</item>
/// </list>
/// <para>A corrupt or truncated file throws <see cref="InvalidDataException"/> naming the source and the problem;
/// a missing native library throws <see cref="NativeCodecNotFoundException"/> naming the library and its package.</para>
/// </remarks>
public static partial class ImageCodec
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Detects the format of encoded image bytes from their first bytes (magic number).</summary>
    /// <param name="data">The start of the file (a few bytes suffice).</param>
    /// <returns>The format, or <see langword="null"/> when the bytes match no supported format.</returns>
    public static ImageFormat? DetectFormat(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return ImageFormat.Jpeg;
        }
        if (data.StartsWith(PngSignature))
        {
            return ImageFormat.Png;
        }
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M')
        {
            return ImageFormat.Bmp;
        }
        if (data.Length >= 3 && data[0] == (byte)'P' && data[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6'
            && IsPnmSpace(data[2]))
        {
            return ImageFormat.Pnm;
        }
        return null;
    }

    /// <summary>Decodes an image, detecting its format from its first bytes.</summary>
    /// <param name="data">The encoded file contents.</param>
    /// <param name="sourceName">The file name (or another description of the source) used in error messages.</param>
    /// <returns>The decoded pixels, in the file's natural channel count (see the remarks of <see cref="ImageCodec"/>).</returns>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, or the image is corrupt or truncated.</exception>
    /// <exception cref="NativeCodecNotFoundException">The native library the format needs is not installed.</exception>
    public static ImageBuffer Decode(ReadOnlySpan<byte> data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        return DetectFormat(data) switch
        {
            ImageFormat.Jpeg => DecodeJpeg(data, sourceName),
            ImageFormat.Png => DecodePng(data, sourceName),
            ImageFormat.Bmp => DecodeBmp(data, sourceName),
            ImageFormat.Pnm => DecodePnm(data, sourceName),
            _ => throw new InvalidDataException(
                $"'{sourceName}' is not a supported image (JPEG, PNG, BMP, PGM/PPM): " +
                (data.IsEmpty ? "the data is empty." : $"it starts with bytes {DescribeStart(data)}.")),
        };
    }

    /// <summary>Reads and decodes an image file.</summary>
    /// <param name="path">The file to read; its path appears in error messages.</param>
    /// <returns>The decoded pixels.</returns>
    /// <exception cref="InvalidDataException">The file is not a supported image, or is corrupt or truncated.</exception>
    /// <exception cref="NativeCodecNotFoundException">The native library the format needs is not installed.</exception>
    public static ImageBuffer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Encodes an image.</summary>
    /// <param name="image">The image to encode.</param>
    /// <param name="format">The file format. JPEG takes 1 or 3 channels (no alpha); PGM/PPM take 1 or 3 channels.</param>
    /// <param name="jpegQuality">JPEG quality, 1..100 (ignored by the lossless formats). JPEG is written without chroma subsampling (4:4:4).</param>
    /// <returns>The encoded file contents.</returns>
    /// <exception cref="ArgumentException">The format cannot hold the image's channels.</exception>
    /// <exception cref="NativeCodecNotFoundException">The native library the format needs is not installed.</exception>
    public static byte[] Encode(ImageBuffer image, ImageFormat format, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(jpegQuality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jpegQuality, 100);
        return format switch
        {
            ImageFormat.Jpeg => EncodeJpeg(image, jpegQuality),
            ImageFormat.Png => EncodePng(image),
            ImageFormat.Bmp => EncodeBmp(image),
            ImageFormat.Pnm => EncodePnm(image),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image format."),
        };
    }

    /// <summary>Encodes an image and writes it to <paramref name="path"/>, choosing the format from the extension
    /// (.jpg/.jpeg, .png, .bmp, .pgm/.ppm/.pnm).</summary>
    /// <param name="image">The image to write.</param>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="jpegQuality">JPEG quality, 1..100.</param>
    public static void Save(ImageBuffer image, string path, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(path);
        string ext = Path.GetExtension(path).ToUpperInvariant();
        ImageFormat format = ext switch
        {
            ".JPG" or ".JPEG" => ImageFormat.Jpeg,
            ".PNG" => ImageFormat.Png,
            ".BMP" => ImageFormat.Bmp,
            ".PGM" or ".PPM" or ".PNM" => ImageFormat.Pnm,
            _ => throw new ArgumentException($"Cannot tell the image format of '{path}' from its extension; use .jpg, .png, .bmp, .pgm or .ppm.", nameof(path)),
        };
        File.WriteAllBytes(path, Encode(image, format, jpegQuality));
    }

    private static string DescribeStart(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(8, data.Length)];
        var sb = new StringBuilder();
        for (int i = 0; i < head.Length; i++)
        {
            sb.Append(i == 0 ? "" : " ").Append(head[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        sb.Append(" (\"");
        foreach (byte b in head)
        {
            sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
        }
        return sb.Append("\")").ToString();
    }

    private static bool IsPnmSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v' or (byte)'#';

    private static InvalidDataException Corrupt(string sourceName, string format, string problem) =>
        new($"'{sourceName}' is not a valid {format} image: {problem}");
}
