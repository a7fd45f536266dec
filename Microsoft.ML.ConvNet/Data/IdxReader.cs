using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Data;

/// <summary>The element type code of an IDX file (third byte of the magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (0x08): images and labels of MNIST-style data sets.</summary>
    UnsignedByte = 0x08,

    /// <summary>Signed byte (0x09).</summary>
    SignedByte = 0x09,

    /// <summary>Big-endian 16-bit integer (0x0B).</summary>
    Int16 = 0x0B,

    /// <summary>Big-endian 32-bit integer (0x0C).</summary>
    Int32 = 0x0C,

    /// <summary>Big-endian 32-bit float (0x0D).</summary>
    Single = 0x0D,

    /// <summary>Big-endian 64-bit float (0x0E).</summary>
    Double = 0x0E,
}

/// <summary>The contents of an unsigned-byte IDX file: its dimensions and its elements, row-major.</summary>
public sealed class IdxArray
{
    internal IdxArray(string source, int[] dimensions, byte[] data)
    {
        Source = source;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The file (or description of the stream) it was read from; used in error messages.</summary>
    public string Source { get; }

    /// <summary>The dimensions, outermost first (e.g. <c>[60000, 28, 28]</c> for images, <c>[60000]</c> for labels).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The elements, row-major; length is the product of <see cref="Dimensions"/>.</summary>
    public byte[] Data { get; }

    /// <summary>Number of items: the outermost dimension.</summary>
    public int Count => Dimensions.Count == 0 ? 1 : Dimensions[0];

    /// <summary>Elements per item: the product of the inner dimensions.</summary>
    public int ItemSize
    {
        get
        {
            int n = 1;
            for (int i = 1; i < Dimensions.Count; i++)
            {
                n *= Dimensions[i];
            }
            return n;
        }
    }
}

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format): a big-endian header <c>00 00 type rank</c>, <c>rank</c>
/// big-endian int32 dimensions, then the elements row-major. Files may be gzip-compressed (detected from the
/// content, not the name). Every error names the file and what is wrong with it.
/// </summary>
public static class IdxReader
{
    private const int MaxRank = 8;

    /// <summary>The largest IDX file read, compressed or not (1 GiB); and the most data bytes one file may declare.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>
    /// Reads an unsigned-byte IDX file (raw or gzip).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedDimensions">
    /// Optional expected dimensions, outermost first; an entry of −1 accepts any size. A different rank or size
    /// is reported as an <see cref="InvalidFileException"/> naming the file.
    /// </param>
    /// <param name="maxItems">Reads at most this many items (outermost-dimension entries); the rest of the file is not checked.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">
    /// Not a regular file, larger than <see cref="MaxBytes"/>, bad magic number, unsupported type, dimensions too large,
    /// truncated data, trailing data, corrupt gzip data, or unexpected dimensions; the message names the file.
    /// </exception>
    public static IdxArray Read(string path, IReadOnlyList<int>? expectedDimensions = null, int? maxItems = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (maxItems is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxItems), $"maxItems must be non-negative, got {maxItems}.");
        }
        using var fs = InputFile.OpenRead(path, MaxBytes, "IDX file");
        return Read(fs, path, expectedDimensions, maxItems);
    }

    /// <summary>Reads an unsigned-byte IDX stream (raw or gzip); <paramref name="source"/> names it in errors.</summary>
    /// <param name="stream">The stream, positioned at the start of the IDX (or gzip) data.</param>
    /// <param name="source">A name for the stream used in error messages (usually the file path).</param>
    /// <param name="expectedDimensions">Optional expected dimensions; −1 accepts any size.</param>
    /// <param name="maxItems">Reads at most this many items; the rest is not checked.</param>
    /// <exception cref="InvalidFileException">The data is not a valid IDX file (see <see cref="Read(string, IReadOnlyList{int}?, int?)"/>).</exception>
    public static IdxArray Read(Stream stream, string source, IReadOnlyList<int>? expectedDimensions = null, int? maxItems = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (maxItems is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxItems), $"maxItems must be non-negative, got {maxItems}.");
        }
        return InputFile.Guard(source, "IDX file", () => ReadCore(stream, source, expectedDimensions, maxItems));
    }

    private static IdxArray ReadCore(Stream stream, string source, IReadOnlyList<int>? expectedDimensions, int? maxItems)
    {
        long? available = stream.CanSeek ? stream.Length - stream.Position : null;
        using var input = OpenDecompressed(stream, source, out bool compressed);
        var (_, dims) = ReadHeaderCore(input, source);
        CheckExpected(source, dims, expectedDimensions);

        // Every size is checked before anything is allocated: the product of the dimensions may not overflow or exceed the limit.
        long size = dims.Any(d => d == 0) ? 0 : 1;
        foreach (int d in dims)
        {
            if (size != 0 && d > MaxBytes / size)
            {
                throw new InvalidDataException($"{source}: dimensions {FormatDims(dims)} declare more than {MaxBytes} bytes of data, the limit of this reader.");
            }
            size *= d;
        }
        int items = maxItems is int m ? Math.Min(m, dims[0]) : dims[0];
        long itemSize = dims[0] == 0 ? 0 : size / dims[0];
        long toRead = items * itemSize;
        long headerBytes = 4 + 4L * dims.Length;
        if (!compressed && available is long have && have - headerBytes < toRead)
        {
            throw new InvalidDataException(
                $"{source}: truncated IDX data: dimensions {FormatDims(dims)} need {size} bytes of data, the file ends after {Math.Max(0, have - headerBytes)}.");
        }
        // A compressed stream may claim more than it holds: grow the buffer only as data arrives.
        var data = compressed || available == null ? ReadGrowing(input, toRead, source, dims, size) : GC.AllocateUninitializedArray<byte>((int)toRead);
        if (!compressed && available != null)
        {
            int got = ReadFully(input, data, source);
            if (got < data.Length)
            {
                throw new InvalidDataException(
                    $"{source}: truncated IDX data: dimensions {FormatDims(dims)} need {size} bytes of data, the file ends after {got}.");
            }
        }
        if (items == dims[0])
        {
            Span<byte> probe = stackalloc byte[1];
            if (ReadFully(input, probe, source) != 0)
            {
                throw new InvalidDataException($"{source}: dimensions mismatch: the file holds more data than its dimensions {FormatDims(dims)} ({size} bytes) describe.");
            }
        }
        dims[0] = items;
        return new IdxArray(source, dims, data);
    }

    /// <summary>Reads <paramref name="count"/> bytes in chunks, so that memory grows only with the data that is there.</summary>
    private static byte[] ReadGrowing(Stream input, long count, string source, int[] dims, long size)
    {
        const int Chunk = 1 << 20;
        if (count <= Chunk)
        {
            var small = new byte[count];
            int n = ReadFully(input, small, source);
            return n == small.Length ? small : throw Truncated(source, dims, size, n);
        }
        using var ms = new MemoryStream();
        var chunk = new byte[Chunk];
        long left = count;
        while (left > 0)
        {
            int want = (int)Math.Min(left, Chunk);
            int n = ReadFully(input, chunk.AsSpan(0, want), source);
            ms.Write(chunk, 0, n);
            if (n != want)
            {
                throw Truncated(source, dims, size, ms.Length);
            }
            left -= n;
        }
        return ms.ToArray();
    }

    private static InvalidDataException Truncated(string source, int[] dims, long size, long got)
        => new($"{source}: truncated IDX data: dimensions {FormatDims(dims)} need {size} bytes of data, the file ends after {got}.");

    /// <summary>Reads only the header of an IDX file (raw or gzip): its element type and dimensions.</summary>
    /// <exception cref="InvalidFileException">Not a regular file, bad magic number or truncated header.</exception>
    public static (IdxDataType Type, int[] Dimensions) ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var fs = InputFile.OpenRead(path, MaxBytes, "IDX file");
        return InputFile.Guard(path, "IDX file", () =>
        {
            using var input = OpenDecompressed(fs, path, out _);
            return ReadHeaderCore(input, path);
        });
    }

    /// <summary>The stream of IDX bytes: <paramref name="stream"/> itself, or a decompressing view when it starts with the gzip signature.</summary>
    private static Stream OpenDecompressed(Stream stream, string source, out bool compressed)
    {
        var head = new byte[2];
        int got = ReadFully(stream, head, source);
        var prefixed = new PrefixedStream(head.AsSpan(0, got).ToArray(), stream);
        compressed = got == 2 && head[0] == 0x1F && head[1] == 0x8B;
        return got == 2 && head[0] == 0x1F && head[1] == 0x8B
            ? new GZipStream(prefixed, CompressionMode.Decompress, leaveOpen: false)
            : prefixed;
    }

    private static (IdxDataType Type, int[] Dimensions) ReadHeaderCore(Stream input, string source)
    {
        Span<byte> head = stackalloc byte[4];
        int got = ReadFully(input, head, source);
        if (got < 4)
        {
            throw new InvalidDataException($"{source}: truncated IDX file: {got} bytes, too short for the 4-byte magic number.");
        }
        if (head[0] != 0 || head[1] != 0)
        {
            throw new InvalidDataException(
                $"{source}: bad magic number 0x{head[0]:X2}{head[1]:X2}{head[2]:X2}{head[3]:X2}; an IDX file starts with two zero bytes, a type code and the rank.");
        }
        var type = (IdxDataType)head[2];
        if (!Enum.IsDefined(type))
        {
            throw new InvalidDataException($"{source}: bad magic number: unknown IDX element type code 0x{head[2]:X2}.");
        }
        if (type != IdxDataType.UnsignedByte)
        {
            throw new InvalidDataException($"{source}: IDX element type {type} (0x{head[2]:X2}) is not supported; only unsigned bytes (0x08) are.");
        }
        int rank = head[3];
        if (rank == 0 || rank > MaxRank)
        {
            throw new InvalidDataException($"{source}: bad magic number: rank {rank} is not in 1..{MaxRank}.");
        }
        var dimBytes = new byte[rank * 4];
        int dimGot = ReadFully(input, dimBytes, source);
        if (dimGot < dimBytes.Length)
        {
            throw new InvalidDataException($"{source}: truncated IDX header: {rank} dimensions need {dimBytes.Length} bytes, the file has {dimGot}.");
        }
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(i * 4));
            if (d < 0)
            {
                throw new InvalidDataException($"{source}: dimension {i} is negative ({d}).");
            }
            dims[i] = d;
        }
        return (type, dims);
    }

    private static void CheckExpected(string source, int[] dims, IReadOnlyList<int>? expected)
    {
        if (expected == null)
        {
            return;
        }
        bool ok = expected.Count == dims.Length;
        for (int i = 0; ok && i < dims.Length; i++)
        {
            ok = expected[i] < 0 || expected[i] == dims[i];
        }
        if (!ok)
        {
            string want = "[" + string.Join(", ", expected.Select(d => d < 0 ? "*" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            throw new InvalidDataException($"{source}: dimensions mismatch: the file has {FormatDims(dims)}, expected {want}.");
        }
    }

    internal static string FormatDims(IReadOnlyList<int> dims) => "[" + string.Join(", ", dims) + "]";

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the count read.</summary>
    private static int ReadFully(Stream s, Span<byte> buffer, string source)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = s.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }
                total += n;
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: corrupt gzip data ({e.Message}).", e);
        }
        return total;
    }

    /// <summary>A read-only stream that yields <c>prefix</c> and then the rest of <c>inner</c>.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _pos;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_pos < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Writes unsigned-byte IDX files, raw or gzip-compressed (the inverse of <see cref="IdxReader"/>).</summary>
public static class IdxWriter
{
    /// <summary>
    /// Writes <paramref name="data"/> (row-major, product of <paramref name="dimensions"/> bytes) as an unsigned-byte
    /// IDX file; gzip-compressed when <paramref name="gzip"/> is true. Written atomically (temporary file, then rename).
    /// </summary>
    public static void Write(string path, IReadOnlyList<int> dimensions, ReadOnlySpan<byte> data, bool gzip = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var copy = data.ToArray();
        AtomicFile.Write(path, fs =>
        {
            if (gzip)
            {
                using var z = new GZipStream(fs, CompressionLevel.Optimal, leaveOpen: true);
                Write(z, dimensions, copy);
            }
            else
            {
                Write(fs, dimensions, copy);
            }
        });
    }

    /// <summary>Writes an unsigned-byte IDX stream (uncompressed) to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<int> dimensions, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Count is 0 or > 255)
        {
            throw new ArgumentException($"IDX files need 1 to 255 dimensions, got {dimensions.Count}.", nameof(dimensions));
        }
        long size = 1;
        foreach (int d in dimensions)
        {
            if (d < 0)
            {
                throw new ArgumentException($"IDX dimensions must be non-negative, got {IdxReader.FormatDims(dimensions)}.", nameof(dimensions));
            }
            size *= d;
        }
        if (size != data.Length)
        {
            throw new ArgumentException($"IDX dimensions {IdxReader.FormatDims(dimensions)} need {size} bytes, got {data.Length}.", nameof(data));
        }
        Span<byte> header = stackalloc byte[4 + 4 * dimensions.Count];
        header[0] = 0;
        header[1] = 0;
        header[2] = (byte)IdxDataType.UnsignedByte;
        header[3] = (byte)dimensions.Count;
        for (int i = 0; i < dimensions.Count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], dimensions[i]);
        }
        stream.Write(header);
        stream.Write(data);
    }
}
