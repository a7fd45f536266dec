namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>The image file formats <see cref="ImageCodec"/> reads and writes.</summary>
public enum ImageFormat
{
    /// <summary>JPEG (JFIF/EXIF), through libjpeg-turbo's TurboJPEG library.</summary>
    Jpeg,

    /// <summary>PNG, through libspng.</summary>
    Png,

    /// <summary>Windows bitmap, uncompressed (8-bit palette, 24-bit, 32-bit), in managed code.</summary>
    Bmp,

    /// <summary>Netpbm PGM (gray, P2/P5) and PPM (RGB, P3/P6), maximum value up to 255, in managed code.</summary>
    Pnm,
}
