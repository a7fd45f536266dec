using System.Runtime.InteropServices;

namespace Microsoft.ML.ConvNet.Backends.Cuda.Interop;

/// <summary>An error reported by the CUDA driver, NVRTC, cuBLAS or cuDNN; the message names the call and the error.</summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CudaException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public CudaException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public CudaException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The library's status code (0 when not from a status code).</summary>
    public int Status { get; init; }
}

/// <summary>Looks up exports of loaded libraries (several handles: cuDNN's legacy API may live in a sub-library).</summary>
internal sealed class NativeExports(string libraryName, params nint[] handles)
{
    public string LibraryName { get; } = libraryName;

    public nint Get(string name)
    {
        foreach (var h in handles)
        {
            if (h != 0 && NativeLibrary.TryGetExport(h, name, out var p))
            {
                return p;
            }
        }
        throw new CudaLibraryNotFoundException($"{LibraryName} has no function {name}: the library version is not supported (CUDA 12/13, cuDNN 9 are).");
    }

    public nint TryGet(string name)
    {
        foreach (var h in handles)
        {
            if (h != 0 && NativeLibrary.TryGetExport(h, name, out var p))
            {
                return p;
            }
        }
        return 0;
    }
}

/// <summary>Marshals strings for native calls.</summary>
internal static unsafe class NativeText
{
    public static string FromUtf8(byte* p) => p == null ? string.Empty : Marshal.PtrToStringUTF8((nint)p) ?? string.Empty;

    /// <summary>A zero-terminated UTF-8 copy on the unmanaged heap; free with <see cref="Marshal.FreeHGlobal"/>.</summary>
    public static byte* ToUtf8(string s)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(s);
        var p = (byte*)Marshal.AllocHGlobal(bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        p[bytes.Length] = 0;
        return p;
    }
}
