using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Data.Images.Interop;

namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>
/// Availability of the native image codecs: libjpeg-turbo's TurboJPEG library (JPEG) and libspng (PNG). BMP and
/// PGM/PPM are decoded in managed code and are always available.
/// </summary>
public static class NativeCodecs
{
    private static readonly Lazy<string?> TurboJpegProblem = new(() => Probe(TurboJpegNative.Library, TurboJpegNative.Package, "JPEG"));
    private static readonly Lazy<string?> SpngProblem = new(() => Probe(SpngNative.Library, SpngNative.Package, "PNG"));

    /// <summary>Whether both native codecs (JPEG and PNG) can be loaded.</summary>
    /// <param name="reason">When <see langword="false"/>: which library is missing and the package that provides it.</param>
    /// <returns><see langword="true"/> when JPEG and PNG images can be decoded and encoded.</returns>
    public static bool IsAvailable(out string reason)
    {
        bool jpeg = IsJpegAvailable(out string jpegReason);
        bool png = IsPngAvailable(out string pngReason);
        reason = string.Join(" ", new[] { jpegReason, pngReason }.Where(r => r.Length > 0));
        return jpeg && png;
    }

    /// <summary>Whether the TurboJPEG library (<c>libturbojpeg.so.0</c>) can be loaded.</summary>
    /// <param name="reason">When <see langword="false"/>: the library and the package that provides it; otherwise empty.</param>
    /// <returns><see langword="true"/> when JPEG images can be decoded and encoded.</returns>
    public static bool IsJpegAvailable(out string reason)
    {
        reason = TurboJpegProblem.Value ?? string.Empty;
        return TurboJpegProblem.Value is null;
    }

    /// <summary>Whether libspng (<c>libspng.so.0</c>) can be loaded.</summary>
    /// <param name="reason">When <see langword="false"/>: the library and the package that provides it; otherwise empty.</param>
    /// <returns><see langword="true"/> when PNG images can be decoded and encoded.</returns>
    public static bool IsPngAvailable(out string reason)
    {
        reason = SpngProblem.Value ?? string.Empty;
        return SpngProblem.Value is null;
    }

    /// <summary>Throws <see cref="NativeCodecNotFoundException"/> when the TurboJPEG library cannot be loaded.</summary>
    internal static void EnsureTurboJpeg()
    {
        if (TurboJpegProblem.Value is { } problem)
        {
            throw new NativeCodecNotFoundException(problem, TurboJpegNative.Library, TurboJpegNative.Package);
        }
    }

    /// <summary>Throws <see cref="NativeCodecNotFoundException"/> when libspng cannot be loaded.</summary>
    internal static void EnsureSpng()
    {
        if (SpngProblem.Value is { } problem)
        {
            throw new NativeCodecNotFoundException(problem, SpngNative.Library, SpngNative.Package);
        }
    }

    // Loads the library the way the LibraryImport stubs will (same name, same assembly search path), so that a
    // missing library is reported here, with the package to install, instead of as a bare DllNotFoundException.
    internal static string? Probe(string library, string package, string format)
    {
        if (NativeLibrary.TryLoad(library, typeof(NativeCodecs).Assembly, searchPath: null, out _))
        {
            return null;
        }
        return $"The {format} codec needs the native library '{library}', which could not be loaded. " +
            $"Install it with 'apt-get install {package}' (Debian/Ubuntu package {package}).";
    }
}

/// <summary>A native image codec library is missing. The message names the library file and the package to install.</summary>
public sealed class NativeCodecNotFoundException : DllNotFoundException
{
    /// <summary>Creates the exception with a default message.</summary>
    public NativeCodecNotFoundException()
        : this("A native image codec library could not be loaded.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">The error message.</param>
    public NativeCodecNotFoundException(string message)
        : base(message)
    {
        LibraryName = string.Empty;
        PackageName = string.Empty;
    }

    /// <summary>Creates the exception with <paramref name="message"/> and an inner exception.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public NativeCodecNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
        LibraryName = string.Empty;
        PackageName = string.Empty;
    }

    /// <summary>Creates the exception for <paramref name="libraryName"/>, provided by <paramref name="packageName"/>.</summary>
    /// <param name="message">The error message (names the library and the package).</param>
    /// <param name="libraryName">The shared library file, e.g. <c>libturbojpeg.so.0</c>.</param>
    /// <param name="packageName">The Debian/Ubuntu package that provides it, e.g. <c>libturbojpeg0</c>.</param>
    public NativeCodecNotFoundException(string message, string libraryName, string packageName)
        : base(message)
    {
        LibraryName = libraryName;
        PackageName = packageName;
    }

    /// <summary>The shared library file that could not be loaded.</summary>
    public string LibraryName { get; }

    /// <summary>The Debian/Ubuntu package that provides <see cref="LibraryName"/>.</summary>
    public string PackageName { get; }
}
