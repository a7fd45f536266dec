using System.Globalization;
using System.Text;

namespace Microsoft.ML.ConvNet.Data.Images;

public static partial class ImageCodec
{
    private static ImageBuffer DecodePnm(ReadOnlySpan<byte> data, string sourceName)
    {
        char kind = (char)data[1];
        string format = kind is '2' or '5' ? "PGM" : "PPM";
        int channels = format == "PGM" ? 1 : 3;
        bool ascii = kind is '2' or '3';
        int pos = 2;
        int width = ReadPnmNumber(data, ref pos, sourceName, format, "width");
        int height = ReadPnmNumber(data, ref pos, sourceName, format, "height");
        int maxValue = ReadPnmNumber(data, ref pos, sourceName, format, "maximum value");
        if (width <= 0 || height <= 0)
        {
            throw Corrupt(sourceName, format, $"invalid size {width}x{height}.");
        }
        if (maxValue is < 1 or > 255)
        {
            throw Corrupt(sourceName, format, $"maximum value {maxValue} is not supported (1..255; 16-bit samples are not).");
        }
        if ((long)width * height * channels > Array.MaxLength)
        {
            throw Corrupt(sourceName, format, $"the image is {width}x{height}, too large to decode into one buffer.");
        }

        var image = new ImageBuffer(width, height, channels);
        var dst = image.Pixels;
        if (ascii)
        {
            for (int i = 0; i < dst.Length; i++)
            {
                int v = ReadPnmNumber(data, ref pos, sourceName, format, $"sample {i} of {dst.Length}");
                if (v > maxValue)
                {
                    throw Corrupt(sourceName, format, $"sample {i} is {v}, above the maximum value {maxValue}.");
                }
                dst[i] = (byte)v;
            }
        }
        else
        {
            // Exactly one whitespace byte separates the header from the binary samples.
            if (pos >= data.Length || !IsPnmSpace(data[pos]) || data[pos] == (byte)'#')
            {
                throw Corrupt(sourceName, format, "missing whitespace after the header.");
            }
            pos++;
            if (data.Length - pos < dst.Length)
            {
                throw Corrupt(sourceName, format,
                    $"a {width}x{height} image needs {dst.Length} sample bytes after the header, but only {data.Length - pos} remain (truncated?).");
            }
            data.Slice(pos, dst.Length).CopyTo(dst);
            for (int i = 0; i < dst.Length; i++)
            {
                if (dst[i] > maxValue)
                {
                    throw Corrupt(sourceName, format, $"sample {i} is {dst[i]}, above the maximum value {maxValue}.");
                }
            }
        }
        if (maxValue != 255)
        {
            for (int i = 0; i < dst.Length; i++)
            {
                dst[i] = (byte)(((dst[i] * 255) + (maxValue / 2)) / maxValue);
            }
        }
        return image;
    }

    // Skips whitespace and '#' comments, then reads a decimal number.
    private static int ReadPnmNumber(ReadOnlySpan<byte> data, ref int pos, string sourceName, string format, string what)
    {
        while (pos < data.Length)
        {
            if (data[pos] == (byte)'#')
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r')
                {
                    pos++;
                }
            }
            else if (IsPnmSpace(data[pos]))
            {
                pos++;
            }
            else
            {
                break;
            }
        }
        if (pos >= data.Length)
        {
            throw Corrupt(sourceName, format, $"the file ends before the {what} (truncated?).");
        }
        long value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = (value * 10) + (data[pos] - (byte)'0');
            if (value > int.MaxValue)
            {
                throw Corrupt(sourceName, format, $"the {what} is too large.");
            }
            pos++;
        }
        if (pos == start)
        {
            throw Corrupt(sourceName, format, $"expected a number for the {what} at byte {pos}, found 0x{data[pos]:X2}.");
        }
        return (int)value;
    }

    private static byte[] EncodePnm(ImageBuffer image)
    {
        if (image.Channels == 4)
        {
            throw new ArgumentException($"PGM/PPM have no alpha channel; cannot encode {image}.", nameof(image));
        }
        string header = string.Create(CultureInfo.InvariantCulture, $"{(image.Channels == 1 ? "P5" : "P6")}\n{image.Width} {image.Height}\n255\n");
        int headerLength = Encoding.ASCII.GetByteCount(header);
        var bytes = new byte[headerLength + image.Pixels.Length];
        Encoding.ASCII.GetBytes(header, bytes);
        image.Pixels.CopyTo(bytes.AsSpan(headerLength));
        return bytes;
    }
}
