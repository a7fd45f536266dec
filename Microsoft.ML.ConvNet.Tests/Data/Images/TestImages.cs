using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Tests.Data.Images;

/// <summary>Images made by the tests themselves, and a minimal PNG writer for colour types our encoder does not write.</summary>
internal static class TestImages
{
    public static ImageBuffer Random(int width, int height, int channels, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[width * height * channels];
        rng.NextBytes(pixels);
        return new ImageBuffer(width, height, channels, pixels);
    }

    /// <summary>A smooth image (gradients) that JPEG compresses well.</summary>
    public static ImageBuffer Smooth(int width, int height, int channels)
    {
        var image = new ImageBuffer(width, height, channels);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    double v = c switch
                    {
                        0 => 255.0 * x / (width - 1),
                        1 => 255.0 * y / (height - 1),
                        _ => 128 + (100 * Math.Sin((x + y) / 9.0)),
                    };
                    image[x, y, c] = (byte)Math.Round(v);
                }
            }
        }
        return image;
    }

    public static double MeanAbsoluteError(ImageBuffer a, ImageBuffer b)
    {
        Assert.AreEqual(a.Width, b.Width, "width");
        Assert.AreEqual(a.Height, b.Height, "height");
        Assert.AreEqual(a.Channels, b.Channels, "channels");
        double sum = 0;
        var pa = a.Pixels;
        var pb = b.Pixels;
        for (int i = 0; i < pa.Length; i++)
        {
            sum += Math.Abs(pa[i] - pb[i]);
        }
        return sum / pa.Length;
    }

    public static void AreEqual(ImageBuffer expected, ImageBuffer actual)
    {
        Assert.AreEqual(expected.Width, actual.Width, "width");
        Assert.AreEqual(expected.Height, actual.Height, "height");
        Assert.AreEqual(expected.Channels, actual.Channels, "channels");
        var e = expected.Pixels;
        var a = actual.Pixels;
        for (int i = 0; i < e.Length; i++)
        {
            if (e[i] != a[i])
            {
                int c = i % expected.Channels, p = i / expected.Channels;
                Assert.Fail($"Pixel ({p % expected.Width}, {p / expected.Width}) channel {c}: expected {e[i]}, got {a[i]}.");
            }
        }
    }

    public static ImageBuffer Gray(int width, int height, params byte[] values) => new(width, height, 1, values);

    /// <summary>Writes a PNG with the given colour type and bit depth from already packed rows (filter type 0).</summary>
    public static byte[] Png(int width, int height, byte colorType, byte bitDepth, byte[] rawRows, byte[]? plte = null, byte[]? trns = null)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(ms, "IHDR", ihdr);
        if (plte != null)
        {
            Chunk(ms, "PLTE", plte);
        }
        if (trns != null)
        {
            Chunk(ms, "tRNS", trns);
        }
        int rowBytes = rawRows.Length / height;
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zs.WriteByte(0);
                zs.Write(rawRows, y * rowBytes, rowBytes);
            }
        }
        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeAndData = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++)
        {
            typeAndData[i] = (byte)type[i];
        }
        data.CopyTo(typeAndData, 4);
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typeAndData));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>Inserts an APP1 Exif segment with the given orientation right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation, bool bigEndian = false)
    {
        var tiff = new byte[8 + 2 + 12 + 4];
        if (bigEndian)
        {
            tiff[0] = tiff[1] = (byte)'M';
            BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(2), 42);
            BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(4), 8);
            BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(8), 1);
            BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(10), 0x0112);
            BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(12), 3);
            BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(14), 1);
            BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(18), (ushort)orientation);
        }
        else
        {
            tiff[0] = tiff[1] = (byte)'I';
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(2), 42);
            BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(8), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(10), 0x0112);
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(12), 3);
            BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(14), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(18), (ushort)orientation);
        }
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return jpeg.Take(2).Concat(segment).Concat(jpeg.Skip(2)).ToArray();
    }

    public static void RequireJpeg()
    {
        if (!NativeCodecs.IsJpegAvailable(out string reason))
        {
            Assert.Inconclusive(reason);
        }
    }

    public static void RequirePng()
    {
        if (!NativeCodecs.IsPngAvailable(out string reason))
        {
            Assert.Inconclusive(reason);
        }
    }
}
