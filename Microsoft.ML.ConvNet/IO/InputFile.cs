using System.Runtime.InteropServices;

namespace Microsoft.ML.ConvNet.IO;

/// <summary>
/// Opening input files safely: only regular files (a folder, a device such as <c>/dev/zero</c>, a pipe or a socket is
/// refused before it is opened, so a FIFO never blocks), within a size limit, and every failure of a reader turned into
/// an <see cref="InvalidFileException"/> naming the file.
/// </summary>
internal static partial class InputFile
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 1;
    private const int ModeOffset = 28;
    private const int StatxBytes = 256;

    /// <summary>The kind of a path as the file system reports it (after following links).</summary>
    internal enum Kind
    {
        Missing,
        Regular,
        Directory,
        CharacterDevice,
        BlockDevice,
        Pipe,
        Socket,
        Other,
    }

    /// <summary>Checks that <paramref name="path"/> is an existing regular file of at most <paramref name="maxBytes"/> bytes; returns its length.</summary>
    /// <exception cref="FileNotFoundException">It does not exist.</exception>
    /// <exception cref="InvalidFileException">It is not a regular file, or it is larger than the limit.</exception>
    public static long CheckRegular(string path, long maxBytes, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = KindOf(path);
        switch (kind)
        {
            case Kind.Missing:
                throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
            case Kind.Regular:
                break;
            case Kind.Directory:
                throw new InvalidFileException(path, $"{what} '{path}' is a folder, not a file.");
            default:
                throw new InvalidFileException(path, $"{what} '{path}' is not a regular file (it is a {Describe(kind)}); only regular files are read.");
        }
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new InvalidFileException(path, $"{what} '{path}' has {length} bytes, more than the limit of {maxBytes} bytes for such a file.");
        }
        return length;
    }

    /// <summary>Opens a regular file for reading after <see cref="CheckRegular"/>; the stream's length is checked again after opening.</summary>
    public static FileStream OpenRead(string path, long maxBytes, string what, int bufferSize = 1 << 16)
    {
        CheckRegular(path, maxBytes, what);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, FileOptions.SequentialScan);
        try
        {
            // The path may have been replaced between the check and the open: a regular file is seekable and has a length.
            if (!fs.CanSeek || fs.Length > maxBytes)
            {
                throw new InvalidFileException(path, $"{what} '{path}' changed while being opened, or is not a regular file of at most {maxBytes} bytes.");
            }
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var fs = OpenRead(path, Math.Min(maxBytes, Array.MaxLength), what, bufferSize: 1);
        var bytes = GC.AllocateUninitializedArray<byte>((int)fs.Length);
        int got = fs.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (got != bytes.Length)
        {
            throw new InvalidFileException(path, $"{what} '{path}' became shorter while being read ({got} of {bytes.Length} bytes).");
        }
        return bytes;
    }

    /// <summary>
    /// Runs <paramref name="read"/> and turns any failure but cancellation and a missing file into an
    /// <see cref="InvalidFileException"/> naming <paramref name="path"/>.
    /// </summary>
    public static T Guard<T>(string path, string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (Convertible(e))
        {
            throw Wrap(path, what, e);
        }
    }

    /// <summary>Whether <see cref="Guard"/> converts <paramref name="e"/>: everything but cancellation, missing files, unsupported features and caller errors.</summary>
    public static bool Convertible(Exception e) => e is not (OperationCanceledException or FileNotFoundException or DirectoryNotFoundException
        or NotSupportedException or ArgumentNullException or Layers.StateDictMismatchException or InvalidFileException or Tensors.ShapeMismatchException);

    /// <summary><paramref name="e"/> as an <see cref="InvalidFileException"/> naming <paramref name="path"/>.</summary>
    public static InvalidFileException Wrap(string path, string what, Exception e)
    {
        if (e is InvalidFileException own)
        {
            return own;
        }
        string problem = e switch
        {
            InvalidDataException or UnauthorizedAccessException => e.Message,
            OutOfMemoryException => $"{what} '{path}' declares sizes too large to load ({e.Message})",
            EndOfStreamException => $"{what} '{path}' is truncated ({e.Message})",
            _ => $"{what} '{path}' is invalid: {e.Message} ({e.GetType().Name})",
        };
        return new InvalidFileException(path, problem, e);
    }

    /// <summary>The kind of <paramref name="path"/>: from <c>statx</c> on Linux, else from the file attributes.</summary>
    internal static Kind KindOf(string path)
    {
        if (OperatingSystem.IsLinux() && TryStatxMode(path, out int mode) is bool found)
        {
            if (!found)
            {
                return Kind.Missing;
            }
            return (mode & 0xF000) switch
            {
                0x8000 => Kind.Regular,
                0x4000 => Kind.Directory,
                0x2000 => Kind.CharacterDevice,
                0x6000 => Kind.BlockDevice,
                0x1000 => Kind.Pipe,
                0xC000 => Kind.Socket,
                _ => Kind.Other,
            };
        }
        if (Directory.Exists(path))
        {
            return Kind.Directory;
        }
        return File.Exists(path) ? Kind.Regular : Kind.Missing;
    }

    private static string Describe(Kind kind) => kind switch
    {
        Kind.CharacterDevice => "character device",
        Kind.BlockDevice => "block device",
        Kind.Pipe => "named pipe (FIFO)",
        Kind.Socket => "socket",
        _ => "special file",
    };

    /// <summary>The st_mode of <paramref name="path"/> (links followed): true with the mode, false when missing, null when statx is unavailable.</summary>
    private static unsafe bool? TryStatxMode(string path, out int mode)
    {
        mode = 0;
        byte* buffer = stackalloc byte[StatxBytes];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) == 0)
            {
                mode = *(ushort*)(buffer + ModeOffset);
                return true;
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
        int errno = Marshal.GetLastPInvokeError();
        // ENOENT, ENOTDIR: missing. Others (EACCES, ENOSYS, ...): let the open report it.
        return errno is 2 or 20 ? false : null;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
