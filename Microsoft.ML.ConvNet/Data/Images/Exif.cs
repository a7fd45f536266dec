using System.Buffers.Binary;

namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>Reads the EXIF orientation (TIFF tag 0x0112) from a JPEG's APP1 "Exif" segment and applies it.</summary>
internal static class Exif
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>
    /// The EXIF orientation of a JPEG, 1..8; 1 (upright) when there is no EXIF segment, no orientation tag, or the
    /// metadata is malformed (the pixels themselves decoded fine, so bad metadata is not an error).
    /// </summary>
    public static int ReadJpegOrientation(ReadOnlySpan<byte> jpeg)
    {
        int pos = 2; // after SOI
        while (pos + 4 <= jpeg.Length)
        {
            if (jpeg[pos] != 0xFF)
            {
                return 1;
            }
            byte marker = jpeg[pos + 1];
            if (marker == 0xFF)
            {
                pos++; // fill byte
                continue;
            }
            if (marker is 0xDA or 0xD9)
            {
                return 1; // start of scan / end of image: metadata is over
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                pos += 2; // standalone marker without a length
                continue;
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(pos + 2)..]);
            if (length < 2 || pos + 2 + length > jpeg.Length)
            {
                return 1;
            }
            var payload = jpeg.Slice(pos + 4, length - 2);
            if (marker == 0xE1 && payload.Length >= 6 && payload[..6].SequenceEqual("Exif\0\0"u8))
            {
                int orientation = ReadTiffOrientation(payload[6..]);
                if (orientation != 0)
                {
                    return orientation;
                }
            }
            pos += 2 + length;
        }
        return 1;
    }

    // 0 when not found or malformed.
    private static int ReadTiffOrientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 0;
        }
        bool little;
        if (tiff[0] == (byte)'I' && tiff[1] == (byte)'I')
        {
            little = true;
        }
        else if (tiff[0] == (byte)'M' && tiff[1] == (byte)'M')
        {
            little = false;
        }
        else
        {
            return 0;
        }
        if (U16(tiff, 2, little) != 42)
        {
            return 0;
        }
        long ifd = U32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length)
        {
            return 0;
        }
        int count = U16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + (i * 12);
            if (entry + 12 > tiff.Length)
            {
                return 0;
            }
            if (U16(tiff, entry, little) == OrientationTag)
            {
                int type = U16(tiff, entry + 2, little);
                int value = type == 3 ? U16(tiff, entry + 8, little) : type == 4 ? (int)Math.Min(U32(tiff, entry + 8, little), 9) : 0;
                return value is >= 1 and <= 8 ? value : 0;
            }
        }
        return 0;
    }

    private static int U16(ReadOnlySpan<byte> s, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt16BigEndian(s[at..]);

    private static long U32(ReadOnlySpan<byte> s, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt32BigEndian(s[at..]);

    /// <summary>
    /// Returns the image as it is meant to be displayed for EXIF <paramref name="orientation"/> (1..8):
    /// 2 mirror horizontally, 3 rotate 180°, 4 mirror vertically, 5 transpose, 6 rotate 90° clockwise,
    /// 7 transverse, 8 rotate 90° counter-clockwise. Orientation 1 returns <paramref name="image"/> itself.
    /// </summary>
    public static ImageBuffer ApplyOrientation(ImageBuffer image, int orientation)
    {
        if (orientation is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1..8.");
        }
        if (orientation == 1)
        {
            return image;
        }
        int w = image.Width, h = image.Height, c = image.Channels;
        bool swap = orientation >= 5;
        var result = new ImageBuffer(swap ? h : w, swap ? w : h, c);
        ReadOnlySpan<byte> src = image.Pixels;
        Span<byte> dst = result.Pixels;
        int dw = result.Width, dh = result.Height;
        for (int dy = 0; dy < dh; dy++)
        {
            for (int dx = 0; dx < dw; dx++)
            {
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - dx, dy),
                    3 => (w - 1 - dx, h - 1 - dy),
                    4 => (dx, h - 1 - dy),
                    5 => (dy, dx),
                    6 => (dy, h - 1 - dx),
                    7 => (w - 1 - dy, h - 1 - dx),
                    _ => (w - 1 - dy, dx), // 8
                };
                src.Slice(((sy * w) + sx) * c, c).CopyTo(dst.Slice(((dy * dw) + dx) * c, c));
            }
        }
        return result;
    }
}
