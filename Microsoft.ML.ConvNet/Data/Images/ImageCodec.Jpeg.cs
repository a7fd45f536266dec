using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Data.Images.Interop;

namespace Microsoft.ML.ConvNet.Data.Images;

public static partial class ImageCodec
{
    private static unsafe ImageBuffer DecodeJpeg(ReadOnlySpan<byte> data, string sourceName)
    {
        NativeCodecs.EnsureTurboJpeg();
        using TurboJpegHandle handle = TurboJpegNative.InitDecompress();
        if (handle.IsInvalid)
        {
            throw new InvalidOperationException($"Decoding '{sourceName}': tjInitDecompress failed.");
        }

        int width, height, subsampling, colorspace;
        fixed (byte* src = data)
        {
            var size = new CULong((nuint)data.Length);
            if (TurboJpegNative.DecompressHeader3(handle, src, size, &width, &height, &subsampling, &colorspace) != 0)
            {
                throw Corrupt(sourceName, "JPEG", TurboJpegNative.LastError(handle));
            }
            if (width <= 0 || height <= 0)
            {
                throw Corrupt(sourceName, "JPEG", $"the header gives a size of {width}x{height}.");
            }

            bool gray = colorspace == TurboJpegNative.ColorspaceGray || subsampling == TurboJpegNative.SubsamplingGray;
            bool cmyk = colorspace is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck;
            int decodeChannels = gray ? 1 : cmyk ? 4 : 3;
            int pixelFormat = gray ? TurboJpegNative.PixelFormatGray : cmyk ? TurboJpegNative.PixelFormatCmyk : TurboJpegNative.PixelFormatRgb;
            if ((long)width * height * decodeChannels > Array.MaxLength)
            {
                throw Corrupt(sourceName, "JPEG", $"the image is {width}x{height}, too large to decode into one buffer.");
            }

            var pixels = new byte[width * height * decodeChannels];
            fixed (byte* dst = pixels)
            {
                // Warnings (e.g. "Premature end of JPEG file" for a truncated file) also return -1: a partially
                // grey image is not silently accepted as training data.
                if (TurboJpegNative.Decompress2(handle, src, size, dst, width, 0, height, pixelFormat, TurboJpegNative.FlagAccurateDct) != 0)
                {
                    throw Corrupt(sourceName, "JPEG", TurboJpegNative.LastError(handle));
                }
            }

            var image = cmyk ? CmykToRgb(width, height, pixels) : new ImageBuffer(width, height, decodeChannels, pixels);
            int orientation = Exif.ReadJpegOrientation(data);
            return Exif.ApplyOrientation(image, orientation);
        }
    }

    // libjpeg stores Adobe CMYK JPEGs inverted (0 = full ink), which is what virtually all CMYK JPEGs are; the naive
    // conversion R = C·K / 255 on the inverted values is what browsers and libjpeg-based viewers do.
    private static ImageBuffer CmykToRgb(int width, int height, byte[] cmyk)
    {
        var rgb = new ImageBuffer(width, height, 3);
        var dst = rgb.Pixels;
        for (int i = 0, j = 0; i < cmyk.Length; i += 4, j += 3)
        {
            int k = cmyk[i + 3];
            dst[j] = (byte)((cmyk[i] * k + 127) / 255);
            dst[j + 1] = (byte)((cmyk[i + 1] * k + 127) / 255);
            dst[j + 2] = (byte)((cmyk[i + 2] * k + 127) / 255);
        }
        return rgb;
    }

    private static unsafe byte[] EncodeJpeg(ImageBuffer image, int quality)
    {
        if (image.Channels == 4)
        {
            throw new ArgumentException(
                $"JPEG has no alpha channel; cannot encode {image}. Convert it to RGB or grayscale first.", nameof(image));
        }
        NativeCodecs.EnsureTurboJpeg();
        using TurboJpegHandle handle = TurboJpegNative.InitCompress();
        if (handle.IsInvalid)
        {
            throw new InvalidOperationException("tjInitCompress failed.");
        }

        bool gray = image.Channels == 1;
        byte* jpeg = null;
        var jpegSize = default(CULong);
        try
        {
            fixed (byte* src = image.Pixels)
            {
                int rc = TurboJpegNative.Compress2(
                    handle, src, image.Width, 0, image.Height,
                    gray ? TurboJpegNative.PixelFormatGray : TurboJpegNative.PixelFormatRgb,
                    &jpeg, &jpegSize,
                    gray ? TurboJpegNative.SubsamplingGray : TurboJpegNative.Subsampling444,
                    quality, TurboJpegNative.FlagAccurateDct);
                if (rc != 0)
                {
                    throw new InvalidOperationException($"Encoding {image} as JPEG failed: {TurboJpegNative.LastError(handle)}");
                }
            }
            return new ReadOnlySpan<byte>(jpeg, checked((int)jpegSize.Value)).ToArray();
        }
        finally
        {
            if (jpeg != null)
            {
                TurboJpegNative.Free(jpeg);
            }
        }
    }
}
