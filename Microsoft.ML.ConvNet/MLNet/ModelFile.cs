using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// Checks and loads ML.NET model zips (what <c>mlContext.Model.Save</c> writes) so that a damaged file is an error,
/// never a different model: <see cref="Verify"/> reads every entry completely and compares its CRC-32 with the one the
/// zip records (ML.NET's loader does not check them), and <see cref="Load"/> verifies and then loads with
/// <c>mlContext.Model.Load</c>, turning any failure into an <see cref="InvalidFileException"/> naming the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The largest model file read (4 GiB).</summary>
    public const long MaxBytes = 4L << 30;

    /// <summary>The largest uncompressed size of one entry (2 GiB, the most an ONNX model may hold), and of all entries together (8 GiB).</summary>
    public const long MaxEntryBytes = 2L << 30;

    private const long MaxTotalBytes = 8L << 30;

    /// <summary>Checks that <paramref name="path"/> is a regular file holding a zip whose every entry reads completely and matches its CRC-32.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">Not a regular file, too large, not a zip, or an entry truncated, oversized or with a CRC-32 mismatch.</exception>
    public static void Verify(string path)
    {
        using var fs = InputFile.OpenRead(path, MaxBytes, "model file");
        InputFile.Guard(path, "model file", () =>
        {
            VerifyCore(fs, path);
            return 0;
        });
    }

    /// <summary>
    /// <see cref="Verify"/>, then <c>mlContext.Model.Load</c>. Any failure of the load (a missing component, a broken
    /// ONNX model inside, a schema that does not parse) becomes an <see cref="InvalidFileException"/> naming the file.
    /// A load that fails only because ML.NET's random name for the ONNX model's temporary file ended in <c>.ort</c>
    /// (once in 32 768 loads; ONNX Runtime then reads it as its own format) is repeated.
    /// </summary>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        Verify(path);
        try
        {
            DataViewSchema? schema = null;
            var model = OnnxTempFile.Retry(() => mlContext.Model.Load(path, out schema));
            inputSchema = schema!;
            return model;
        }
        catch (Exception e) when (InputFile.Convertible(e) || e is NotSupportedException or FileNotFoundException)
        {
            throw new InvalidFileException(path, $"model file '{path}' cannot be loaded as an ML.NET model: {ImageRowReader.Root(e).Message}", e);
        }
    }

    private static void VerifyCore(Stream stream, string path)
    {
        ZipArchive zip;
        IReadOnlyCollection<ZipArchiveEntry> entries;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            entries = zip.Entries;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"model file '{path}' is not a valid zip archive ({e.Message})", e);
        }
        using var _ = zip;
        if (entries.Count == 0)
        {
            throw new InvalidDataException($"model file '{path}' is an empty zip; an ML.NET model holds its components as zip entries.");
        }
        var crc = new Crc32();
        var buffer = new byte[1 << 16];
        long total = 0;
        foreach (var entry in entries)
        {
            if (entry.Length > MaxEntryBytes || entry.Length < 0)
            {
                throw new InvalidDataException($"model file '{path}': entry '{entry.FullName}' declares {entry.Length} bytes, more than the limit of {MaxEntryBytes}.");
            }
            total += entry.Length;
            if (total > MaxTotalBytes)
            {
                throw new InvalidDataException($"model file '{path}': its entries declare more than {MaxTotalBytes} bytes in all.");
            }
            crc.Reset();
            long read = 0;
            using (var s = entry.Open())
            {
                int n;
                while ((n = s.Read(buffer)) > 0)
                {
                    read += n;
                    if (read > entry.Length)
                    {
                        throw new InvalidDataException($"model file '{path}': entry '{entry.FullName}' holds more than the {entry.Length} bytes it declares.");
                    }
                    crc.Append(buffer.AsSpan(0, n));
                }
            }
            if (read != entry.Length)
            {
                throw new InvalidDataException($"model file '{path}': entry '{entry.FullName}' is truncated: {read} of {entry.Length} bytes.");
            }
            uint actual = BinaryPrimitives.ReadUInt32LittleEndian(crc.GetCurrentHash());
            if (actual != entry.Crc32)
            {
                throw new InvalidDataException(
                    $"model file '{path}' is corrupt: entry '{entry.FullName}' has CRC-32 {actual:x8}, the zip records {entry.Crc32:x8}.");
            }
        }
    }
}
