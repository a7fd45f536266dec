using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.IO;

/// <summary>
/// One tensor of a safetensors file, as float32 values: its shape, its row-major values and the element type it has
/// (or is to have) in the file (<c>F32</c>, <c>F16</c>, <c>BF16</c>, <c>F64</c>, or <c>I64</c> for
/// <c>num_batches_tracked</c> counters).
/// </summary>
public sealed class SafetensorsTensor
{
    /// <summary>Creates an entry; <paramref name="values"/> must have <c>shape.Size</c> elements.</summary>
    public SafetensorsTensor(Shape shape, float[] values, string dtype = Safetensors.F32)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(dtype);
        if (values.Length != shape.Size)
        {
            throw new ArgumentException($"{values.Length} values do not fill shape {shape} ({shape.Size} elements).", nameof(values));
        }
        if (!Safetensors.IsSupported(dtype))
        {
            throw new ArgumentException($"Element type '{dtype}' is not one of {Safetensors.SupportedList}.", nameof(dtype));
        }
        Shape = shape;
        Values = values;
        DType = dtype;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The values, converted to float32 when read.</summary>
    public float[] Values { get; }

    /// <summary>The element type in the file.</summary>
    public string DType { get; }
}

/// <summary>
/// Reads and writes the safetensors format, the weight files PyTorch and Hugging Face users exchange: an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}</c>), then
/// the raw little-endian data, with offsets relative to the start of the data section. Tensors may neither overlap
/// nor leave gaps, and together they cover the data section exactly.
/// <para>
/// Reading converts <c>F32</c>, <c>F16</c>, <c>BF16</c> and <c>F64</c> to float32, and <c>I64</c> only for
/// <c>num_batches_tracked</c> counters (batch-norm buffers that this library keeps as floats); other element types are
/// refused with an error naming the tensor. Every size is checked against the file before anything is allocated, and
/// a malformed file raises <see cref="InvalidDataException"/> naming the file and what is wrong.
/// </para>
/// <para>
/// A module's state dictionary is written as <c>F32</c> (its <c>num_batches_tracked</c> counters as <c>I64</c>, as
/// PyTorch writes them), under torchvision's names, so a file written here loads with
/// <c>safetensors.torch.load_file</c> into the matching torchvision model, and torchvision's files load here.
/// </para>
/// </summary>
public static class Safetensors
{
    /// <summary>Element type name: IEEE float32.</summary>
    public const string F32 = "F32";

    /// <summary>Element type name: IEEE float16.</summary>
    public const string F16 = "F16";

    /// <summary>Element type name: bfloat16 (the upper half of a float32).</summary>
    public const string BF16 = "BF16";

    /// <summary>Element type name: IEEE float64.</summary>
    public const string F64 = "F64";

    /// <summary>Element type name: signed 64-bit integer (read and written only for <c>num_batches_tracked</c>).</summary>
    public const string I64 = "I64";

    /// <summary>
    /// The <c>__metadata__</c> key under which this library records, at save, a SHA-256 (lowercase hex) of the tensor
    /// table (each tensor's name, element type, shape and offsets, in data order) followed by the data section; a load
    /// verifies it when it is present, so a bit flip in a weight or a tensor name is an error, not a different model.
    /// </summary>
    public const string Sha256Key = "convnet.sha256";

    /// <summary>The largest file read, in bytes (64 GiB).</summary>
    public const long MaxFileBytes = 1L << 36;

    /// <summary>The largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const string CounterName = "num_batches_tracked";
    private const int ChunkBytes = 1 << 20;

    internal const string SupportedList = "F32, F16, BF16, F64 and I64 (num_batches_tracked only)";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ---- reading ----------------------------------------------------------------------------------

    /// <summary>Reads every tensor of <paramref name="path"/>, converted to float32, in the order of the data.</summary>
    public static IReadOnlyDictionary<string, SafetensorsTensor> Read(string path)
    {
        using var fs = OpenRead(path);
        return Read(fs, path);
    }


    /// <summary>Reads every tensor from <paramref name="stream"/> (to its end); errors name <paramref name="source"/>.</summary>
    public static IReadOnlyDictionary<string, SafetensorsTensor> Read(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return InputFile.Guard<IReadOnlyDictionary<string, SafetensorsTensor>>(source, "safetensors file", () =>
        {
            using var file = Open(stream, source, verify: true);
            var result = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            foreach (var (entry, values) in file.ReadData(_ => true))
            {
                result[entry.Name] = new SafetensorsTensor(entry.Shape, values!, entry.DType);
            }
            return result;
        });
    }

    /// <summary>The <c>__metadata__</c> strings of <paramref name="path"/> (empty when there are none); reads only the header.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var fs = OpenRead(path);
        return ReadMetadata(fs, path);
    }

    /// <summary>The <c>__metadata__</c> strings of the file in <paramref name="stream"/>; reads only the header.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return InputFile.Guard<IReadOnlyDictionary<string, string>>(source, "safetensors file", () =>
        {
            using var file = Open(stream, source, verify: false);
            return file.Metadata;
        });
    }

    // ---- writing ----------------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (a temporary file beside it, then a
    /// rename), as <c>F32</c>; <c>num_batches_tracked</c> counters with whole values are written as <c>I64</c>.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = FromTensors(tensors);
        AtomicFile.Write(path, s => WriteEntries(s, entries, metadata));
    }

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="stream"/> (see <see cref="Write(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteEntries(stream, FromTensors(tensors), metadata);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically, each in its <see cref="SafetensorsTensor.DType"/>
    /// (float32 values are rounded to nearest-even for <c>F16</c> and <c>BF16</c>; <c>I64</c> values must be whole).
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = FromEntries(tensors);
        AtomicFile.Write(path, s => WriteEntries(s, entries, metadata));
    }

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="stream"/>, each in its element type.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteEntries(stream, FromEntries(tensors), metadata);
    }

    // ---- modules ----------------------------------------------------------------------------------

    /// <summary>Writes <paramref name="module"/>'s state dictionary (parameters and buffers, torchvision names) to <paramref name="path"/> atomically.</summary>
    public static void Save(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        Write(path, module.StateDict());
    }

    /// <summary>Writes <paramref name="module"/>'s state dictionary to <paramref name="stream"/>.</summary>
    public static void Save(Module module, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(module);
        Write(stream, module.StateDict());
    }

    /// <summary>
    /// Loads the tensors of <paramref name="path"/> into <paramref name="module"/> by name (see
    /// <see cref="Load(Module, Stream, bool, string)"/>).
    /// </summary>
    public static StateDictLoadResult Load(Module module, string path, bool strict = true)
    {
        using var fs = OpenRead(path);
        return Load(module, fs, strict, path);
    }

    /// <summary>
    /// Loads the tensors of the file in <paramref name="stream"/> into <paramref name="module"/> by name.
    /// Strict: any module entry missing from the file, file entry the module lacks, or shape that differs is an error;
    /// one <see cref="StateDictMismatchException"/> lists them all and the module is left unchanged. Not strict: the
    /// entries with matching names and shapes are loaded, the rest are skipped and reported in the result (loading a
    /// 1000-class checkpoint into a 10-class model skips and reports <c>fc.weight</c> and <c>fc.bias</c>). Entries that
    /// are not loaded are never converted, so their element type does not matter.
    /// </summary>
    public static StateDictLoadResult Load(Module module, Stream stream, bool strict = true, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        return InputFile.Guard(source, "safetensors file", () => LoadCore(module, stream, strict, source));
    }

    private static StateDictLoadResult LoadCore(Module module, Stream stream, bool strict, string source)
    {
        var own = module.StateDict();
        using var file = Open(stream, source, verify: true);
        var inFile = file.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var missing = own.Keys.Where(k => !inFile.ContainsKey(k)).ToList();
        var unexpected = file.Entries.Select(e => e.Name).Where(k => !own.ContainsKey(k)).ToList();
        var mismatches = own
            .Where(p => inFile.TryGetValue(p.Key, out var e) && e.Shape != p.Value.Shape)
            .Select(p => new StateDictShapeMismatch(p.Key, p.Value.Shape, inFile[p.Key].Shape))
            .ToList();
        var skipped = mismatches.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        if (strict && (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0))
        {
            var failed = new StateDictLoadResult([], missing, unexpected, mismatches);
            throw new StateDictMismatchException($"{source} does not match {module.GetType().Name}: {failed}.", failed);
        }

        // Read everything first, so that a bad file (truncated data, an unsupported element type) leaves the module unchanged.
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (entry, data) in file.ReadData(e => own.ContainsKey(e.Name) && !skipped.Contains(e.Name)))
        {
            if (data != null)
            {
                values[entry.Name] = data;
            }
        }
        var loaded = new List<string>();
        foreach (var (name, tensor) in own)
        {
            if (values.TryGetValue(name, out var v))
            {
                tensor.CopyFrom(v);
                loaded.Add(name);
            }
        }
        return new StateDictLoadResult(loaded, missing, unexpected, mismatches);
    }

    // ---- the format -------------------------------------------------------------------------------

    internal static bool IsSupported(string dtype) => dtype is F32 or F16 or BF16 or F64 or I64;

    private static bool IsCounter(string name)
        => name == CounterName || name.EndsWith("." + CounterName, StringComparison.Ordinal);

    /// <summary>Bytes per element of every element type the format defines; null for a name it does not define.</summary>
    private static int? ElementBytes(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "I16" or "U16" or F16 or BF16 => 2,
        "I32" or "U32" or F32 => 4,
        "I64" or "U64" or F64 => 8,
        _ => null,
    };

    private static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return InputFile.OpenRead(path, MaxFileBytes, "safetensors file", bufferSize: 1);
    }

    private static InvalidDataException Bad(string source, string what, Exception? inner = null)
        => new($"{source} is not a valid safetensors file: {what}.", inner);

    private sealed record Entry(string Name, string DType, Shape Shape, long Begin, long End);

    /// <summary>A file whose header has been read and checked; the data is read by <see cref="ReadData"/>.</summary>
    private sealed class OpenFile(Stream data, bool ownsData, string source, List<Entry> entries, Dictionary<string, string> metadata) : IDisposable
    {
        public List<Entry> Entries { get; } = entries;

        public Dictionary<string, string> Metadata { get; } = metadata;

        /// <summary>
        /// Reads the data section in file order; yields every entry, with its values converted when
        /// <paramref name="wanted"/> says so (null otherwise).
        /// </summary>
        public List<(Entry Entry, float[]? Values)> ReadData(Func<Entry, bool> wanted)
        {
            var result = new List<(Entry, float[]?)>(Entries.Count);
            long position = 0;
            byte[]? buffer = null;
            foreach (var e in Entries)
            {
                if (!wanted(e))
                {
                    result.Add((e, null));
                    continue;
                }
                if (e.DType is not (F32 or F16 or BF16 or F64 or I64) || (e.DType == I64 && !IsCounter(e.Name)))
                {
                    throw new InvalidDataException(
                        $"{source}: tensor '{e.Name}' has element type {e.DType}, which cannot be read; this library reads {SupportedList}.");
                }
                if (position != e.Begin)
                {
                    data.Seek(e.Begin - position, SeekOrigin.Current);
                    position = e.Begin;
                }
                var values = new float[e.Shape.Size];
                int size = ElementBytes(e.DType)!.Value;
                if (e.DType == F32 && BitConverter.IsLittleEndian)
                {
                    Fill(MemoryMarshal.AsBytes(values.AsSpan()), e);
                }
                else
                {
                    buffer ??= new byte[ChunkBytes];
                    int perChunk = ChunkBytes / size;
                    for (int start = 0; start < values.Length; start += perChunk)
                    {
                        int n = Math.Min(perChunk, values.Length - start);
                        var bytes = buffer.AsSpan(0, n * size);
                        Fill(bytes, e);
                        Decode(bytes, e.DType, values.AsSpan(start, n));
                    }
                }
                position = e.End;
                result.Add((e, values));
            }
            return result;
        }

        private void Fill(Span<byte> bytes, Entry e)
        {
            if (data.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
            {
                throw Bad(source, $"the data ends inside tensor '{e.Name}' (data_offsets [{e.Begin}, {e.End}])");
            }
        }

        public void Dispose()
        {
            if (ownsData)
            {
                data.Dispose();
            }
        }
    }

    private static void Decode(ReadOnlySpan<byte> bytes, string dtype, Span<float> values)
    {
        switch (dtype)
        {
            case F32:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                }
                break;
            case F16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                }
                break;
            case BF16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                }
                break;
            case F64:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                }
                break;
            default: // I64
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
                }
                break;
        }
    }

    /// <summary>Reads and checks the header; every offset and size is validated before any tensor memory is allocated.</summary>
    private static OpenFile Open(Stream stream, string source, bool verify)
    {
        long? available = null;
        if (stream.CanSeek)
        {
            available = stream.Length - stream.Position;
        }

        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8)
        {
            throw Bad(source, $"it has {got} bytes, fewer than the 8-byte header length");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (available is long total && headerLength > (ulong)(total - 8))
        {
            throw Bad(source, $"the header length {headerLength} is larger than the rest of the file ({total - 8} bytes)");
        }
        if (headerLength > MaxHeaderBytes)
        {
            throw Bad(source, $"the header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        }
        if (headerLength < 2)
        {
            throw Bad(source, $"the header length {headerLength} is too small for a JSON object");
        }
        var header = ReadBounded(stream, (long)headerLength, source, "header");

        string json;
        try
        {
            json = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException e)
        {
            throw Bad(source, "the header is not valid UTF-8", e);
        }
        var (entries, metadata) = ParseHeader(json, source);

        // Offsets: sorted by position, each tensor starts where the previous one ends, from 0 to the end of the data.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        Entry? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < expected)
            {
                throw Bad(source, $"tensor '{e.Name}' (data_offsets [{e.Begin}, {e.End}]) overlaps tensor '{previous!.Name}' (data_offsets [{previous.Begin}, {previous.End}])");
            }
            if (e.Begin > expected)
            {
                throw Bad(source, $"bytes {expected} to {e.Begin} of the data section belong to no tensor (the next tensor, '{e.Name}', starts at {e.Begin})");
            }
            expected = e.End;
            previous = e;
        }
        long dataLength = expected;

        if (available is long all)
        {
            long actual = all - 8 - (long)headerLength;
            if (dataLength > actual)
            {
                throw Bad(source, $"it is truncated: the tensors need {dataLength} bytes of data but the file has {actual}");
            }
            if (dataLength < actual)
            {
                throw Bad(source, $"the tensors cover {dataLength} bytes but the data section has {actual}; the last {actual - dataLength} bytes belong to no tensor");
            }
            if (verify && metadata.TryGetValue(Sha256Key, out string? recorded))
            {
                long start = stream.Position;
                VerifyHash(source, recorded, HashData(stream, dataLength, source, entries));
                stream.Position = start;
            }
            return new OpenFile(stream, ownsData: false, source, entries, metadata);
        }

        // A stream of unknown length: copy the data section, growing only as bytes arrive, so that a header that claims
        // more than the stream holds fails on the missing bytes rather than on a huge allocation.
        if (dataLength > Array.MaxLength)
        {
            throw Bad(source, $"the data section of {dataLength} bytes is too large to read from a stream of unknown length; read it from a file");
        }
        var dataBytes = ReadBounded(stream, dataLength, source, "data section");
        if (stream.ReadByte() >= 0)
        {
            throw Bad(source, $"the tensors cover {dataLength} bytes but the data section is longer; the bytes after it belong to no tensor");
        }
        if (verify && metadata.TryGetValue(Sha256Key, out string? expectedHash))
        {
            using var table = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            table.AppendData(TensorTable(entries.Select(e => (e.Name, e.DType, e.Shape, e.Begin, e.End))));
            table.AppendData(dataBytes);
            VerifyHash(source, expectedHash, Convert.ToHexStringLower(table.GetHashAndReset()));
        }
        var copy = new MemoryStream(dataBytes, writable: false);
        return new OpenFile(copy, ownsData: true, source, entries, metadata);
    }

    /// <summary>The SHA-256 (lowercase hex) of the next <paramref name="count"/> bytes of <paramref name="stream"/>.</summary>
    private static string HashData(Stream stream, long count, string source, List<Entry> entries)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(TensorTable(entries.Select(e => (e.Name, e.DType, e.Shape, e.Begin, e.End))));
        var chunk = new byte[ChunkBytes];
        long left = count;
        while (left > 0)
        {
            int want = (int)Math.Min(left, chunk.Length);
            int n = stream.ReadAtLeast(chunk.AsSpan(0, want), want, throwOnEndOfStream: false);
            if (n != want)
            {
                throw Bad(source, $"it is truncated: the data section needs {count} bytes but only {count - left + n} follow");
            }
            hash.AppendData(chunk, 0, n);
            left -= n;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The tensor table as hashed: per tensor, in data order, "name NUL dtype NUL d0,d1,.. NUL begin NUL end LF" in UTF-8.</summary>
    private static byte[] TensorTable(IEnumerable<(string Name, string DType, Shape Shape, long Begin, long End)> entries)
    {
        var text = new StringBuilder();
        foreach (var (name, dtype, shape, begin, end) in entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}\0{dtype}\0{string.Join(",", shape.ToArray())}\0{begin}\0{end}\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void VerifyHash(string source, string recorded, string actual)
    {
        if (!string.Equals(recorded, actual, StringComparison.Ordinal))
        {
            throw Bad(source, $"the SHA-256 of its tensors ({actual}) differs from the one recorded when it was saved ({recorded}): the file is corrupt");
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes in chunks, so the buffer grows only as far as the stream has data.</summary>
    private static byte[] ReadBounded(Stream stream, long count, string source, string what)
    {
        if (count <= ChunkBytes)
        {
            var small = new byte[count];
            int n = stream.ReadAtLeast(small, small.Length, throwOnEndOfStream: false);
            if (n != small.Length)
            {
                throw Bad(source, $"it is truncated: the {what} needs {count} bytes but only {n} follow");
            }
            return small;
        }
        using var ms = new MemoryStream();
        var chunk = new byte[ChunkBytes];
        long left = count;
        while (left > 0)
        {
            int want = (int)Math.Min(left, chunk.Length);
            int n = stream.ReadAtLeast(chunk.AsSpan(0, want), want, throwOnEndOfStream: false);
            ms.Write(chunk, 0, n);
            if (n != want)
            {
                throw Bad(source, $"it is truncated: the {what} needs {count} bytes but only {ms.Length} follow");
            }
            left -= n;
        }
        return ms.ToArray();
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Bad(source, $"the header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(source, $"the header is a JSON {doc.RootElement.ValueKind}, not an object");
            }
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    throw Bad(source, $"the header names '{p.Name}' twice");
                }
                if (p.Name == MetadataKey)
                {
                    if (p.Value.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Bad(source, $"{MetadataKey} is a JSON {p.Value.ValueKind}, not an object of strings");
                    }
                    foreach (var m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                        {
                            throw Bad(source, $"{MetadataKey} entry '{m.Name}' is a JSON {m.Value.ValueKind}, not a string");
                        }
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(p.Name, p.Value, source));
            }
            return (entries, metadata);
        }
    }

    private static Entry ParseEntry(string name, JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Bad(source, $"the header entry of tensor '{name}' is a JSON {e.ValueKind}, not an object");
        }
        if (!e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Bad(source, $"tensor '{name}' has no \"dtype\" string");
        }
        string dtype = dtypeElement.GetString()!;
        int? elementBytes = ElementBytes(dtype);
        if (elementBytes == null)
        {
            throw Bad(source, $"tensor '{name}' has the unknown element type '{dtype}'");
        }
        if (!e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Bad(source, $"tensor '{name}' has no \"shape\" array");
        }
        var dims = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0 || dim > int.MaxValue)
            {
                throw Bad(source, $"tensor '{name}' has the invalid dimension {d.GetRawText()} in its shape");
            }
            dims[i++] = (int)dim;
            count = count == 0 || dim == 0 ? 0 : count > Array.MaxLength / dim ? long.MaxValue : count * dim;
        }
        if (count > Array.MaxLength)
        {
            throw Bad(source, $"tensor '{name}' has shape [{string.Join(", ", dims)}], more elements than one tensor can hold");
        }
        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Bad(source, $"tensor '{name}' has no \"data_offsets\" array of two numbers");
        }
        var o = new long[2];
        i = 0;
        foreach (var v in offsets.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out o[i]) || o[i] < 0)
            {
                throw Bad(source, $"tensor '{name}' has the invalid data offset {v.GetRawText()}");
            }
            i++;
        }
        if (o[1] < o[0])
        {
            throw Bad(source, $"tensor '{name}' has data_offsets [{o[0]}, {o[1]}] that end before they begin");
        }
        long needed = count * elementBytes.Value;
        if (o[1] - o[0] != needed)
        {
            throw Bad(source, string.Create(CultureInfo.InvariantCulture,
                $"tensor '{name}' has data_offsets [{o[0]}, {o[1]}] ({o[1] - o[0]} bytes), but shape [{string.Join(", ", dims)}] of {dtype} takes {needed} bytes"));
        }
        return new Entry(name, dtype, new Shape(dims), o[0], o[1]);
    }

    // ---- writing ----------------------------------------------------------------------------------

    private static List<(string Name, Shape Shape, string DType, Func<float[]> Values)> FromTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<(string, Shape, string, Func<float[]>)>(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, name);
            if (IsCounter(name))
            {
                var v = t.ToArray();
                bool whole = v.All(x => float.IsFinite(x) && x == MathF.Round(x) && Math.Abs(x) < 9.2e18f);
                list.Add((name, t.Shape, whole ? I64 : F32, () => v));
            }
            else
            {
                list.Add((name, t.Shape, F32, t.ToArray));
            }
        }
        return list;
    }

    private static List<(string Name, Shape Shape, string DType, Func<float[]> Values)> FromEntries(IReadOnlyDictionary<string, SafetensorsTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<(string, Shape, string, Func<float[]>)>(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, name);
            if (t.DType == I64)
            {
                if (!IsCounter(name))
                {
                    throw new ArgumentException($"Tensor '{name}': element type I64 is written only for {CounterName} counters.", nameof(tensors));
                }
                if (!t.Values.All(x => float.IsFinite(x) && x == MathF.Round(x) && Math.Abs(x) < 9.2e18f))
                {
                    throw new ArgumentException($"Tensor '{name}': element type I64 needs whole numbers.", nameof(tensors));
                }
            }
            list.Add((name, t.Shape, t.DType, () => t.Values));
        }
        return list;
    }

    private static void WriteEntries(Stream stream, List<(string Name, Shape Shape, string DType, Func<float[]> Values)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        if (entries.Any(e => e.Name == MetadataKey))
        {
            throw new ArgumentException($"'{MetadataKey}' is reserved for the metadata and cannot name a tensor.", nameof(entries));
        }
        // The SHA-256 of the data section goes into the header, so the data is encoded twice: once to hash, once to write.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long at = 0;
        hash.AppendData(TensorTable(entries.Select(e =>
        {
            long begin = at;
            at += (long)e.Shape.Size * ElementBytes(e.DType)!.Value;
            return (e.Name, e.DType, e.Shape, begin, at);
        })));
        EncodeData(entries, hash.AppendData);
        var allMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            allMetadata[k] = v;
        }
        allMetadata[Sha256Key] = Convert.ToHexStringLower(hash.GetHashAndReset());

        using var headerBuffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerBuffer))
        {
            w.WriteStartObject();
            w.WriteStartObject(MetadataKey);
            foreach (var (k, v) in allMetadata)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
            long offset = 0;
            foreach (var (name, shape, dtype, _) in entries)
            {
                long bytes = (long)shape.Size * ElementBytes(dtype)!.Value;
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int d in shape.Dims)
                {
                    w.WriteNumberValue(d);
                }
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does, so the data is aligned.
        while (headerBuffer.Length % 8 != 0)
        {
            headerBuffer.WriteByte((byte)' ');
        }

        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerBuffer.Length);
        stream.Write(prefix);
        headerBuffer.Position = 0;
        headerBuffer.CopyTo(stream);

        EncodeData(entries, stream.Write);
        stream.Flush();
    }

    /// <summary>Hands the data section, entry by entry in file order, to <paramref name="sink"/>.</summary>
    private static void EncodeData(List<(string Name, Shape Shape, string DType, Func<float[]> Values)> entries, Action<ReadOnlySpan<byte>> sink)
    {
        var buffer = new byte[ChunkBytes];
        foreach (var (_, _, dtype, getValues) in entries)
        {
            var values = getValues();
            if (dtype == F32 && BitConverter.IsLittleEndian)
            {
                sink(MemoryMarshal.AsBytes(values.AsSpan()));
                continue;
            }
            int size = ElementBytes(dtype)!.Value;
            int perChunk = ChunkBytes / size;
            for (int start = 0; start < values.Length; start += perChunk)
            {
                int n = Math.Min(perChunk, values.Length - start);
                var bytes = buffer.AsSpan(0, n * size);
                Encode(values.AsSpan(start, n), dtype, bytes);
                sink(bytes);
            }
        }
    }

    private static void Encode(ReadOnlySpan<float> values, string dtype, Span<byte> bytes)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i];
            switch (dtype)
            {
                case F32:
                    BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], x);
                    break;
                case F16:
                    BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], (Half)x);
                    break;
                case BF16:
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], ToBFloat16(x));
                    break;
                case F64:
                    BinaryPrimitives.WriteDoubleLittleEndian(bytes[(8 * i)..], x);
                    break;
                default: // I64, checked to be whole
                    BinaryPrimitives.WriteInt64LittleEndian(bytes[(8 * i)..], (long)x);
                    break;
            }
        }
    }

    /// <summary>float32 to bfloat16, rounding to nearest with ties to even; NaN stays a (quiet) NaN.</summary>
    internal static ushort ToBFloat16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }
        uint rounded = bits + 0x7FFF + ((bits >> 16) & 1);
        return (ushort)(rounded >> 16);
    }
}
