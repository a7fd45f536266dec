using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Microsoft.ML.ConvNet.Data.Images.Interop;

/// <summary>
/// The subset of libspng's C API (<c>spng.h</c>, Debian package <c>libspng0</c>) used by <see cref="ImageCodec"/>.
/// Call <see cref="NativeCodecs.EnsureSpng"/> before the first call so that a missing library gives a clear error.
/// </summary>
internal static unsafe partial class SpngNative
{
    /// <summary>The shared object loaded on Linux.</summary>
    public const string Library = "libspng.so.0";

    /// <summary>The Debian/Ubuntu package that provides <see cref="Library"/>.</summary>
    public const string Package = "libspng0";

    /// <summary>SPNG_CTX_ENCODER: create an encoder context.</summary>
    public const int ContextEncoder = 2;

    // enum spng_format
    public const int FormatRgba8 = 1;
    public const int FormatRgb8 = 4;
    public const int FormatG8 = 64;
    public const int FormatPng = 256;

    /// <summary>SPNG_DECODE_TRNS: apply the tRNS chunk (transparency) when decoding to RGBA8.</summary>
    public const int DecodeTrns = 1;

    /// <summary>SPNG_ECHUNKAVAIL (enum spng_errno): the requested chunk is not in the file.</summary>
    public const int ErrorChunkNotAvailable = 73;

    /// <summary>SPNG_ENCODE_FINALIZE: write the end of the stream after the image.</summary>
    public const int EncodeFinalize = 2;

    /// <summary>SPNG_ENCODE_TO_BUFFER (enum spng_option): encode into a buffer owned by the context.</summary>
    public const int OptionEncodeToBuffer = 12;

    // enum spng_color_type
    public const byte ColorGray = 0;
    public const byte ColorTruecolor = 2;
    public const byte ColorIndexed = 3;
    public const byte ColorGrayAlpha = 4;
    public const byte ColorTruecolorAlpha = 6;

    [LibraryImport(Library, EntryPoint = "spng_ctx_new")]
    public static partial SpngContextHandle CtxNew(int flags);

    [LibraryImport(Library, EntryPoint = "spng_ctx_free")]
    public static partial void CtxFree(nint ctx);

    [LibraryImport(Library, EntryPoint = "spng_set_png_buffer")]
    public static partial int SetPngBuffer(SpngContextHandle ctx, byte* buf, nuint size);

    [LibraryImport(Library, EntryPoint = "spng_get_ihdr")]
    public static partial int GetIhdr(SpngContextHandle ctx, SpngIhdr* ihdr);

    [LibraryImport(Library, EntryPoint = "spng_set_ihdr")]
    public static partial int SetIhdr(SpngContextHandle ctx, SpngIhdr* ihdr);

    [LibraryImport(Library, EntryPoint = "spng_get_trns")]
    public static partial int GetTrns(SpngContextHandle ctx, SpngTrns* trns);

    [LibraryImport(Library, EntryPoint = "spng_decoded_image_size")]
    public static partial int DecodedImageSize(SpngContextHandle ctx, int format, nuint* length);

    [LibraryImport(Library, EntryPoint = "spng_decode_image")]
    public static partial int DecodeImage(SpngContextHandle ctx, byte* output, nuint length, int format, int flags);

    [LibraryImport(Library, EntryPoint = "spng_set_option")]
    public static partial int SetOption(SpngContextHandle ctx, int option, int value);

    [LibraryImport(Library, EntryPoint = "spng_encode_image")]
    public static partial int EncodeImage(SpngContextHandle ctx, byte* image, nuint length, int format, int flags);

    [LibraryImport(Library, EntryPoint = "spng_get_png_buffer")]
    public static partial byte* GetPngBuffer(SpngContextHandle ctx, nuint* length, int* error);

    [LibraryImport(Library, EntryPoint = "spng_strerror")]
    public static partial nint StrError(int error);

    /// <summary>The message libspng gives for <paramref name="error"/>.</summary>
    public static string ErrorMessage(int error) =>
        (Marshal.PtrToStringUTF8(StrError(error)) ?? "unknown libspng error") + $" (code {error})";
}

/// <summary><c>struct spng_ihdr</c>: the PNG image header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SpngIhdr
{
    public uint Width;
    public uint Height;
    public byte BitDepth;
    public byte ColorType;
    public byte CompressionMethod;
    public byte FilterMethod;
    public byte InterlaceMethod;
}

/// <summary><c>struct spng_trns</c>: the transparency chunk.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SpngTrns
{
    public ushort Gray;
    public ushort Red;
    public ushort Green;
    public ushort Blue;
    public uint Type3EntryCount;
    public fixed byte Type3Alpha[256];
}

/// <summary>A libspng decoder or encoder context (<c>spng_ctx*</c>), freed with <c>spng_ctx_free</c>.</summary>
internal sealed class SpngContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Creates an invalid handle; the interop marshaller sets the value.</summary>
    public SpngContextHandle()
        : base(ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        SpngNative.CtxFree(handle);
        return true;
    }
}
