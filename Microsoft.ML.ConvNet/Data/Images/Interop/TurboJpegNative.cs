using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Microsoft.ML.ConvNet.Data.Images.Interop;

/// <summary>
/// The subset of libjpeg-turbo's TurboJPEG C API (<c>turbojpeg.h</c>, Debian package <c>libturbojpeg0</c>) used by
/// <see cref="ImageCodec"/>. Call <see cref="NativeCodecs.EnsureTurboJpeg"/> before the first call so that a missing
/// library gives a clear error.
/// </summary>
internal static unsafe partial class TurboJpegNative
{
    /// <summary>The shared object loaded on Linux.</summary>
    public const string Library = "libturbojpeg.so.0";

    /// <summary>The Debian/Ubuntu package that provides <see cref="Library"/>.</summary>
    public const string Package = "libturbojpeg0";

    // Pixel formats (enum TJPF).
    public const int PixelFormatRgb = 0;
    public const int PixelFormatGray = 6;
    public const int PixelFormatRgba = 7;
    public const int PixelFormatCmyk = 11;

    // Chrominance subsampling (enum TJSAMP).
    public const int Subsampling444 = 0;
    public const int SubsamplingGray = 3;

    // JPEG colour spaces (enum TJCS).
    public const int ColorspaceGray = 2;
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;

    /// <summary>TJFLAG_ACCURATEDCT: the accurate (slow) integer DCT, for both directions.</summary>
    public const int FlagAccurateDct = 4096;

    [LibraryImport(Library, EntryPoint = "tjInitDecompress")]
    public static partial TurboJpegHandle InitDecompress();

    [LibraryImport(Library, EntryPoint = "tjInitCompress")]
    public static partial TurboJpegHandle InitCompress();

    [LibraryImport(Library, EntryPoint = "tjDestroy")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Library, EntryPoint = "tjDecompressHeader3")]
    public static partial int DecompressHeader3(
        TurboJpegHandle handle, byte* jpegBuf, CULong jpegSize, int* width, int* height, int* subsampling, int* colorspace);

    [LibraryImport(Library, EntryPoint = "tjDecompress2")]
    public static partial int Decompress2(
        TurboJpegHandle handle, byte* jpegBuf, CULong jpegSize, byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library, EntryPoint = "tjCompress2")]
    public static partial int Compress2(
        TurboJpegHandle handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, CULong* jpegSize, int subsampling, int quality, int flags);

    [LibraryImport(Library, EntryPoint = "tjFree")]
    public static partial void Free(byte* buffer);

    [LibraryImport(Library, EntryPoint = "tjGetErrorStr2")]
    public static partial nint GetErrorStr2(TurboJpegHandle handle);

    /// <summary>The last error message of <paramref name="handle"/>.</summary>
    public static string LastError(TurboJpegHandle handle) =>
        Marshal.PtrToStringUTF8(GetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}

/// <summary>A TurboJPEG compressor or decompressor instance (<c>tjhandle</c>), destroyed with <c>tjDestroy</c>.</summary>
internal sealed class TurboJpegHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Creates an invalid handle; the interop marshaller sets the value.</summary>
    public TurboJpegHandle()
        : base(ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => TurboJpegNative.Destroy(handle) == 0;
}
