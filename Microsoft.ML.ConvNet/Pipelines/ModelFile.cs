using System.IO.Compression;
using System.Reflection;
using Module = Microsoft.ML.ConvNet.Layers.Module;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>The values and shape of one saved tensor.</summary>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="Values">Row-major float32 values, <see cref="Shape.Size"/> of them.</param>
public readonly record struct TensorData(Shape Shape, float[] Values);

/// <summary>What <see cref="ModelFile.Read(Stream, string)"/> returns: the manifest and the named tensors.</summary>
public sealed class ModelFileContents
{
    internal ModelFileContents(ModelManifest manifest, IReadOnlyDictionary<string, TensorData> tensors)
    {
        Manifest = manifest;
        Tensors = tensors;
    }

    /// <summary>The manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The tensors by name, in the order they were written.</summary>
    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>Copies the tensors into <paramref name="module"/>'s parameters and buffers (see <see cref="Module.LoadStateDict(IReadOnlyDictionary{string, float[]}, IReadOnlyDictionary{string, Shape}?, bool)"/>).</summary>
    public void LoadInto(Module module, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.LoadStateDict(
            Tensors.ToDictionary(p => p.Key, p => p.Value.Values),
            Tensors.ToDictionary(p => p.Key, p => p.Value.Shape),
            strict);
    }
}

/// <summary>
/// The versioned model file: a zip (System.IO.Compression) holding <c>manifest.json</c> (a <see cref="ModelManifest"/>)
/// and <c>tensors.bin</c>, the named tensors in the state-dictionary binary format of <see cref="StateDictFile"/>
/// (little-endian float32). Readers refuse files with a newer <see cref="ModelManifest.FormatVersion"/> than
/// <see cref="CurrentFormatVersion"/>; every error reading a file is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The format version this library writes, and the newest it reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Name of the manifest entry.</summary>
    public const string ManifestEntryName = "manifest.json";

    /// <summary>Name of the tensor entry.</summary>
    public const string TensorsEntryName = "tensors.bin";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>The informational version of this library, written into <see cref="ModelManifest.LibraryVersion"/>.</summary>
    public static string LibraryVersion { get; } =
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ModelFile).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Writes a model file to <paramref name="stream"/> (left open). The manifest is written with <see cref="CurrentFormatVersion"/>.</summary>
    public static void Write(Stream stream, ModelManifest manifest, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(tensors);
        var json = JsonSerializer.SerializeToNode(manifest, JsonOptions)!.AsObject();
        json[nameof(ModelManifest.FormatVersion)] = CurrentFormatVersion;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var manifestEntry = zip.CreateEntry(ManifestEntryName, CompressionLevel.Optimal);
        using (var s = manifestEntry.Open())
        {
            using var writer = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true });
            json.WriteTo(writer, JsonOptions);
        }
        // Float32 weights barely compress; storing them keeps saving and loading fast.
        var tensorEntry = zip.CreateEntry(TensorsEntryName, CompressionLevel.NoCompression);
        using (var s = tensorEntry.Open())
        {
            StateDictFile.Write(s, tensors);
        }
    }

    /// <summary>Writes a model file from shapes and values (see <see cref="Write(Stream, ModelManifest, IReadOnlyDictionary{string, Tensor})"/>).</summary>
    public static void Write(Stream stream, ModelManifest manifest, IReadOnlyDictionary<string, TensorData> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var created = new Dictionary<string, Tensor>(tensors.Count);
        try
        {
            foreach (var (name, data) in tensors)
            {
                created[name] = Tensor.FromArray(data.Values, data.Shape);
            }
            Write(stream, manifest, created);
        }
        finally
        {
            foreach (var t in created.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes a model file to <paramref name="path"/> through a temporary file in the same folder and a rename
    /// (<see cref="AtomicFile"/>): if writing fails, no partial file is left and an existing file is kept intact.
    /// </summary>
    public static void WriteAtomic(string path, ModelManifest manifest, IReadOnlyDictionary<string, Tensor> tensors)
        => AtomicFile.Write(path, s => Write(s, manifest, tensors));

    /// <summary>Writes a model file atomically from shapes and values (see <see cref="WriteAtomic(string, ModelManifest, IReadOnlyDictionary{string, Tensor})"/>).</summary>
    public static void WriteAtomic(string path, ModelManifest manifest, IReadOnlyDictionary<string, TensorData> tensors)
        => AtomicFile.Write(path, s => Write(s, manifest, tensors));

    /// <summary>Reads a model file; errors name <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable model file (see <see cref="Read(Stream, string)"/>).</exception>
    public static ModelFileContents Read(string path)
    {
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    /// <summary>
    /// Reads a model file from <paramref name="stream"/> (left open); <paramref name="source"/> names it in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not a complete zip (e.g. truncated), lacks the manifest or the tensor entry, the manifest is not
    /// valid JSON or does not fit <see cref="ModelManifest"/>, its format version is newer than
    /// <see cref="CurrentFormatVersion"/>, or the tensor entry is damaged.
    /// </exception>
    public static ModelFileContents Read(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source} is not a readable model file (a truncated or damaged zip archive): {e.Message}", e);
        }
        using (zip)
        {
            var manifest = ReadManifest(zip, source);
            var tensors = ReadTensors(zip, source);
            return new ModelFileContents(manifest, tensors);
        }
    }

    private static ModelManifest ReadManifest(ZipArchive zip, string source)
    {
        var entry = zip.GetEntry(ManifestEntryName)
            ?? throw new InvalidDataException($"{source} has no {ManifestEntryName} entry; it is not a ConvNetML model file or it is incomplete.");
        JsonNode? node;
        try
        {
            using var s = entry.Open();
            node = JsonNode.Parse(s);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} is not valid JSON: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} is damaged: {e.Message}", e);
        }
        if (node is not JsonObject obj)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} is not a JSON object.");
        }
        int version;
        try
        {
            version = obj[nameof(ModelManifest.FormatVersion)]?.GetValue<int>()
                ?? throw new InvalidDataException($"{source}: {ManifestEntryName} has no {nameof(ModelManifest.FormatVersion)}.");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} has a {nameof(ModelManifest.FormatVersion)} that is not an integer.", e);
        }
        if (version > CurrentFormatVersion)
        {
            throw new InvalidDataException(
                $"{source} was written by a newer version: format {version}, this library reads up to {CurrentFormatVersion}.");
        }
        if (version < 1)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} has an invalid {nameof(ModelManifest.FormatVersion)} {version}.");
        }
        try
        {
            return obj.Deserialize<ModelManifest>(JsonOptions)
                ?? throw new InvalidDataException($"{source}: {ManifestEntryName} is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {ManifestEntryName} does not fit the manifest layout: {e.Message}", e);
        }
    }

    private static Dictionary<string, TensorData> ReadTensors(ZipArchive zip, string source)
    {
        var entry = zip.GetEntry(TensorsEntryName)
            ?? throw new InvalidDataException($"{source} has no {TensorsEntryName} entry; the model file is incomplete.");
        string entrySource = $"{source} ({TensorsEntryName})";
        try
        {
            using var s = entry.Open();
            var (values, shapes) = StateDictFile.Read(s, entrySource);
            var tensors = new Dictionary<string, TensorData>(values.Count);
            foreach (var (name, v) in values)
            {
                tensors[name] = new TensorData(shapes[name], v);
            }
            return tensors;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(entrySource, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{entrySource} is damaged: {e.Message}", e);
        }
    }
}
