using System.Buffers.Binary;
using System.Numerics;

namespace Microsoft.ML.ConvNet.Data.Images;

public static partial class ImageCodec
{
    private const int BmpFileHeaderSize = 14;
    private const int BmpCompressionRgb = 0;
    private const int BmpCompressionBitFields = 3;
    private const int BmpCompressionAlphaBitFields = 6;

    private static ImageBuffer DecodeBmp(ReadOnlySpan<byte> data, string sourceName)
    {
        const string Format = "BMP";
        if (data.Length < BmpFileHeaderSize + 16)
        {
            throw Corrupt(sourceName, Format, $"the file is {data.Length} bytes, shorter than the BMP headers.");
        }
        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        var dib = data[BmpFileHeaderSize..];
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(dib);
        if (headerSize is not (40 or 52 or 56 or 108 or 124))
        {
            throw Corrupt(sourceName, Format, $"unsupported DIB header size {headerSize} (supported: BITMAPINFOHEADER 40, V4 108, V5 124).");
        }
        if (dib.Length < headerSize)
        {
            throw Corrupt(sourceName, Format, $"the file ends inside the {headerSize}-byte DIB header.");
        }
        int width = BinaryPrimitives.ReadInt32LittleEndian(dib[4..]);
        int rawHeight = BinaryPrimitives.ReadInt32LittleEndian(dib[8..]);
        int bitCount = BinaryPrimitives.ReadUInt16LittleEndian(dib[14..]);
        int compression = BinaryPrimitives.ReadInt32LittleEndian(dib[16..]);
        uint colorsUsed = BinaryPrimitives.ReadUInt32LittleEndian(dib[32..]);
        bool topDown = rawHeight < 0;
        if (width <= 0 || rawHeight == 0 || rawHeight == int.MinValue)
        {
            throw Corrupt(sourceName, Format, $"invalid size {width}x{rawHeight}.");
        }
        int height = Math.Abs(rawHeight);

        // Bit-field masks: in the header for V4/V5 (and 52/56-byte variants), otherwise right after a 40-byte header.
        uint redMask = 0x00FF0000, greenMask = 0x0000FF00, blueMask = 0x000000FF, alphaMask = 0;
        if (compression is BmpCompressionBitFields or BmpCompressionAlphaBitFields)
        {
            if (bitCount != 32)
            {
                throw Corrupt(sourceName, Format, $"bit-field compression is supported for 32-bit pixels only, this file has {bitCount}-bit pixels.");
            }
            var masks = headerSize > 40 ? dib[40..] : dib.Length >= 40 + 12 ? dib[40..] : throw Corrupt(sourceName, Format, "the file ends inside the bit-field masks.");
            redMask = BinaryPrimitives.ReadUInt32LittleEndian(masks);
            greenMask = BinaryPrimitives.ReadUInt32LittleEndian(masks[4..]);
            blueMask = BinaryPrimitives.ReadUInt32LittleEndian(masks[8..]);
            alphaMask = headerSize >= 56 || compression == BmpCompressionAlphaBitFields ? BinaryPrimitives.ReadUInt32LittleEndian(masks[12..]) : 0;
        }
        else if (compression != BmpCompressionRgb)
        {
            throw Corrupt(sourceName, Format, $"compression method {compression} is not supported (only uncompressed BI_RGB and BI_BITFIELDS).");
        }
        if (bitCount is not (8 or 24 or 32))
        {
            throw Corrupt(sourceName, Format, $"{bitCount}-bit pixels are not supported (supported: 8-bit palette, 24-bit, 32-bit).");
        }

        long rowBytes = ((((long)width * bitCount) + 31) / 32) * 4;
        long needed = pixelOffset + (rowBytes * height);
        if (pixelOffset < BmpFileHeaderSize + headerSize || needed > data.Length)
        {
            throw Corrupt(sourceName, Format,
                $"the pixel data of a {width}x{height} {bitCount}-bit image needs {needed} bytes (from offset {pixelOffset}), but the file has {data.Length} bytes (truncated?).");
        }
        if ((long)width * height * 4 > Array.MaxLength)
        {
            throw Corrupt(sourceName, Format, $"the image is {width}x{height}, too large to decode into one buffer.");
        }

        var pixels = data[(int)pixelOffset..];
        ImageBuffer image;
        if (bitCount == 8)
        {
            int paletteCount = colorsUsed == 0 ? 256 : (int)Math.Min(colorsUsed, 256u);
            int paletteStart = BmpFileHeaderSize + headerSize + (compression == BmpCompressionBitFields && headerSize == 40 ? 12 : 0);
            if (paletteStart + (paletteCount * 4) > pixelOffset)
            {
                throw Corrupt(sourceName, Format, $"the {paletteCount}-entry palette overlaps the pixel data at offset {pixelOffset}.");
            }
            var palette = data.Slice(paletteStart, paletteCount * 4);
            bool grayPalette = true;
            for (int i = 0; i < paletteCount && grayPalette; i++)
            {
                grayPalette = palette[i * 4] == palette[(i * 4) + 1] && palette[i * 4] == palette[(i * 4) + 2];
            }
            image = new ImageBuffer(width, height, grayPalette ? 1 : 3);
            var dst = image.Pixels;
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice((int)(rowBytes * (topDown ? y : height - 1 - y)), width);
                int o = y * image.RowStride;
                for (int x = 0; x < width; x++)
                {
                    int index = row[x];
                    if (index >= paletteCount)
                    {
                        throw Corrupt(sourceName, Format, $"pixel ({x}, {y}) uses palette index {index}, but the palette has {paletteCount} entries.");
                    }
                    var entry = palette.Slice(index * 4, 3); // B, G, R
                    if (grayPalette)
                    {
                        dst[o++] = entry[0];
                    }
                    else
                    {
                        dst[o++] = entry[2];
                        dst[o++] = entry[1];
                        dst[o++] = entry[0];
                    }
                }
            }
            return image;
        }

        if (bitCount == 24)
        {
            image = new ImageBuffer(width, height, 3);
            var dst = image.Pixels;
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice((int)(rowBytes * (topDown ? y : height - 1 - y)), width * 3);
                var d = dst.Slice(y * image.RowStride, width * 3);
                for (int x = 0; x < d.Length; x += 3)
                {
                    d[x] = row[x + 2];
                    d[x + 1] = row[x + 1];
                    d[x + 2] = row[x];
                }
            }
            return image;
        }

        // 32-bit: BI_RGB is B, G, R, unused; bit fields give the positions explicitly.
        int channels = alphaMask != 0 ? 4 : 3;
        image = new ImageBuffer(width, height, channels);
        var outPixels = image.Pixels;
        var masksOrdered = channels == 4 ? new[] { redMask, greenMask, blueMask, alphaMask } : new[] { redMask, greenMask, blueMask };
        for (int c = 0; c < masksOrdered.Length; c++)
        {
            if (masksOrdered[c] == 0)
            {
                throw Corrupt(sourceName, Format, "a colour bit-field mask is zero.");
            }
        }
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice((int)(rowBytes * (topDown ? y : height - 1 - y)), width * 4);
            int o = y * image.RowStride;
            for (int x = 0; x < width; x++)
            {
                uint v = BinaryPrimitives.ReadUInt32LittleEndian(row[(x * 4)..]);
                foreach (uint mask in masksOrdered)
                {
                    outPixels[o++] = ExtractMasked(v, mask);
                }
            }
        }
        return image;
    }

    // The masked field of v scaled to 0..255 (exact for 8-bit fields).
    private static byte ExtractMasked(uint v, uint mask)
    {
        int shift = BitOperations.TrailingZeroCount(mask);
        uint field = (v & mask) >> shift;
        uint max = mask >> shift;
        return max == 255 ? (byte)field : (byte)(((field * 255) + (max / 2)) / max);
    }

    private static byte[] EncodeBmp(ImageBuffer image)
    {
        int w = image.Width, h = image.Height, c = image.Channels;
        int bitCount = c == 1 ? 8 : c == 3 ? 24 : 32;
        int headerSize = c == 4 ? 108 : 40; // BITMAPV4HEADER carries the alpha mask
        int paletteBytes = c == 1 ? 256 * 4 : 0;
        int rowBytes = ((w * bitCount) + 31) / 32 * 4;
        int pixelOffset = BmpFileHeaderSize + headerSize + paletteBytes;
        long fileSize = pixelOffset + ((long)rowBytes * h);
        if (fileSize > Array.MaxLength)
        {
            throw new ArgumentException($"{image} is too large for a BMP file.", nameof(image));
        }
        var bytes = new byte[fileSize];
        var span = bytes.AsSpan();
        span[0] = (byte)'B';
        span[1] = (byte)'M';
        BinaryPrimitives.WriteUInt32LittleEndian(span[2..], (uint)fileSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[10..], (uint)pixelOffset);
        var dib = span[BmpFileHeaderSize..];
        BinaryPrimitives.WriteInt32LittleEndian(dib, headerSize);
        BinaryPrimitives.WriteInt32LittleEndian(dib[4..], w);
        BinaryPrimitives.WriteInt32LittleEndian(dib[8..], h); // bottom-up, the common layout
        BinaryPrimitives.WriteUInt16LittleEndian(dib[12..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(dib[14..], (ushort)bitCount);
        BinaryPrimitives.WriteInt32LittleEndian(dib[16..], c == 4 ? BmpCompressionBitFields : BmpCompressionRgb);
        BinaryPrimitives.WriteUInt32LittleEndian(dib[20..], (uint)(rowBytes * h));
        BinaryPrimitives.WriteInt32LittleEndian(dib[24..], 2835); // 72 dpi
        BinaryPrimitives.WriteInt32LittleEndian(dib[28..], 2835);
        BinaryPrimitives.WriteUInt32LittleEndian(dib[32..], c == 1 ? 256u : 0u);
        if (c == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(dib[40..], 0x00FF0000);
            BinaryPrimitives.WriteUInt32LittleEndian(dib[44..], 0x0000FF00);
            BinaryPrimitives.WriteUInt32LittleEndian(dib[48..], 0x000000FF);
            BinaryPrimitives.WriteUInt32LittleEndian(dib[52..], 0xFF000000);
            BinaryPrimitives.WriteUInt32LittleEndian(dib[56..], 0x73524742); // LCS_sRGB ("sRGB")
        }
        if (c == 1)
        {
            var palette = span.Slice(BmpFileHeaderSize + headerSize, paletteBytes);
            for (int i = 0; i < 256; i++)
            {
                palette[i * 4] = palette[(i * 4) + 1] = palette[(i * 4) + 2] = (byte)i;
            }
        }
        ReadOnlySpan<byte> src = image.Pixels;
        for (int y = 0; y < h; y++)
        {
            var row = span.Slice(pixelOffset + (rowBytes * (h - 1 - y)), rowBytes);
            var s = src.Slice(y * image.RowStride, image.RowStride);
            if (c == 1)
            {
                s.CopyTo(row);
                continue;
            }
            for (int x = 0; x < w; x++)
            {
                row[(x * (bitCount / 8)) + 0] = s[(x * c) + 2];
                row[(x * (bitCount / 8)) + 1] = s[(x * c) + 1];
                row[(x * (bitCount / 8)) + 2] = s[x * c];
                if (c == 4)
                {
                    row[(x * 4) + 3] = s[(x * 4) + 3];
                }
            }
        }
        return bytes;
    }
}
