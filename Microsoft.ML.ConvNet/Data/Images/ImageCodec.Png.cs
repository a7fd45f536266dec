using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Data.Images.Interop;

namespace Microsoft.ML.ConvNet.Data.Images;

public static partial class ImageCodec
{
    private static unsafe ImageBuffer DecodePng(ReadOnlySpan<byte> data, string sourceName)
    {
        NativeCodecs.EnsureSpng();
        using SpngContextHandle ctx = SpngNative.CtxNew(0);
        if (ctx.IsInvalid)
        {
            throw new InvalidOperationException($"Decoding '{sourceName}': spng_ctx_new failed.");
        }

        fixed (byte* src = data)
        {
            // The context reads from src lazily, so every call below stays inside this fixed block.
            Check(SpngNative.SetPngBuffer(ctx, src, (nuint)data.Length), sourceName);
            SpngIhdr ihdr;
            Check(SpngNative.GetIhdr(ctx, &ihdr), sourceName);
            if (ihdr.Width == 0 || ihdr.Height == 0 || ihdr.Width > int.MaxValue || ihdr.Height > int.MaxValue)
            {
                throw Corrupt(sourceName, "PNG", $"the header gives a size of {ihdr.Width}x{ihdr.Height}.");
            }

            SpngTrns trns;
            int trnsError = SpngNative.GetTrns(ctx, &trns);
            if (trnsError is not (0 or SpngNative.ErrorChunkNotAvailable))
            {
                Check(trnsError, sourceName); // reading the chunks before the image data failed (truncated, bad CRC, ...)
            }
            bool hasTrns = trnsError == 0;
            (int format, int channels, bool grayFromRgb) = ihdr.ColorType switch
            {
                SpngNative.ColorGray when ihdr.BitDepth <= 8 => (SpngNative.FormatG8, 1, false),
                SpngNative.ColorGray => (SpngNative.FormatRgb8, 1, true), // 16-bit gray: spng reduces it via RGB8
                SpngNative.ColorGrayAlpha or SpngNative.ColorTruecolorAlpha => (SpngNative.FormatRgba8, 4, false),
                SpngNative.ColorTruecolor or SpngNative.ColorIndexed when hasTrns => (SpngNative.FormatRgba8, 4, false),
                SpngNative.ColorTruecolor or SpngNative.ColorIndexed => (SpngNative.FormatRgb8, 3, false),
                _ => throw Corrupt(sourceName, "PNG", $"unknown colour type {ihdr.ColorType}."),
            };

            nuint length;
            Check(SpngNative.DecodedImageSize(ctx, format, &length), sourceName);
            if (length > (nuint)Array.MaxLength)
            {
                throw Corrupt(sourceName, "PNG", $"the image is {ihdr.Width}x{ihdr.Height}, too large to decode into one buffer.");
            }
            var pixels = new byte[(int)length];
            fixed (byte* dst = pixels)
            {
                int flags = format == SpngNative.FormatRgba8 ? SpngNative.DecodeTrns : 0;
                Check(SpngNative.DecodeImage(ctx, dst, length, format, flags), sourceName);
            }

            int width = (int)ihdr.Width, height = (int)ihdr.Height;
            if (!grayFromRgb)
            {
                return new ImageBuffer(width, height, channels, pixels);
            }
            var gray = new ImageBuffer(width, height, 1);
            var g = gray.Pixels;
            for (int i = 0; i < g.Length; i++)
            {
                g[i] = pixels[i * 3];
            }
            return gray;
        }
    }

    private static void Check(int error, string sourceName)
    {
        if (error != 0)
        {
            throw Corrupt(sourceName, "PNG", SpngNative.ErrorMessage(error));
        }
    }

    private static unsafe byte[] EncodePng(ImageBuffer image)
    {
        NativeCodecs.EnsureSpng();
        using SpngContextHandle ctx = SpngNative.CtxNew(SpngNative.ContextEncoder);
        if (ctx.IsInvalid)
        {
            throw new InvalidOperationException("spng_ctx_new(SPNG_CTX_ENCODER) failed.");
        }
        CheckEncode(SpngNative.SetOption(ctx, SpngNative.OptionEncodeToBuffer, 1), image, "spng_set_option");
        var ihdr = new SpngIhdr
        {
            Width = (uint)image.Width,
            Height = (uint)image.Height,
            BitDepth = 8,
            ColorType = image.Channels switch
            {
                1 => SpngNative.ColorGray,
                3 => SpngNative.ColorTruecolor,
                _ => SpngNative.ColorTruecolorAlpha,
            },
        };
        CheckEncode(SpngNative.SetIhdr(ctx, &ihdr), image, "spng_set_ihdr");
        fixed (byte* src = image.Pixels)
        {
            CheckEncode(SpngNative.EncodeImage(ctx, src, (nuint)image.Pixels.Length, SpngNative.FormatPng, SpngNative.EncodeFinalize), image, "spng_encode_image");
        }

        nuint length;
        int error;
        byte* png = SpngNative.GetPngBuffer(ctx, &length, &error);
        try
        {
            CheckEncode(error, image, "spng_get_png_buffer");
            if (png == null)
            {
                throw new InvalidOperationException($"Encoding {image} as PNG produced no data.");
            }
            return new ReadOnlySpan<byte>(png, checked((int)length)).ToArray();
        }
        finally
        {
            // The buffer now belongs to the caller and was allocated with the C allocator (malloc).
            NativeMemory.Free(png);
        }
    }

    private static void CheckEncode(int error, ImageBuffer image, string call)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"Encoding {image} as PNG failed in {call}: {SpngNative.ErrorMessage(error)}");
        }
    }
}
