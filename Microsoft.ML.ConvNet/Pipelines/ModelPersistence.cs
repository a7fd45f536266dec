using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// A transformer that <c>Model.Save</c> can write (ML.NET's <c>ICanSaveModel</c>): it names its <see cref="Kind"/> and
/// writes its settings as JSON and its learnt tensors through <see cref="ModelSaveContext"/>. Reading back is done by
/// the loader registered for the same kind in <see cref="TransformerLoaders"/>.
/// </summary>
public interface IPersistableTransformer : ITransformer
{
    /// <summary>The step's kind in the manifest, e.g. "MapValueToKey"; the key of its loader.</summary>
    string Kind { get; }

    /// <summary>Writes the step: returns its settings (stored in the manifest) and adds its tensors to <paramref name="context"/>.</summary>
    /// <exception cref="NotSupportedException">This instance cannot be saved (the message says why).</exception>
    JsonObject SaveSettings(ModelSaveContext context);
}

/// <summary>Where a step being saved puts its tensors and model-wide facts (class names, input shape, architecture).</summary>
public sealed class ModelSaveContext
{
    private readonly IDictionary<string, TensorData> _tensors;

    internal ModelSaveContext(ModelManifest manifest, IDictionary<string, TensorData> tensors, string tensorPrefix)
    {
        Manifest = manifest;
        _tensors = tensors;
        TensorPrefix = tensorPrefix;
    }

    /// <summary>The manifest being written (a step may fill <see cref="ModelManifest.ClassNames"/>, <see cref="ModelManifest.InputShape"/>, <see cref="ModelManifest.Architecture"/>).</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The prefix of this step's tensor names in the file ("steps.2.").</summary>
    public string TensorPrefix { get; }

    /// <summary>Adds a tensor under <see cref="TensorPrefix"/> + <paramref name="name"/>.</summary>
    public void AddTensor(string name, TensorData tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _tensors[TensorPrefix + name] = tensor;
    }
}

/// <summary>What a step's loader reads: its tensors (names without the step's prefix) and the manifest.</summary>
public sealed class ModelLoadContext
{
    internal ModelLoadContext(ModelManifest manifest, IReadOnlyDictionary<string, TensorData> allTensors, string tensorPrefix, string source)
    {
        Manifest = manifest;
        Source = source;
        Tensors = allTensors.Where(p => p.Key.StartsWith(tensorPrefix, StringComparison.Ordinal))
            .ToDictionary(p => p.Key[tensorPrefix.Length..], p => p.Value);
    }

    /// <summary>The manifest read.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>This step's tensors, by the names it gave them.</summary>
    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>The file or stream being read (for error messages).</summary>
    public string Source { get; }
}

/// <summary>
/// Loaders of saved pipeline steps by <see cref="IPersistableTransformer.Kind"/>. The library's transforms are
/// registered here (MapValueToKey, MapKeyToValue, CopyColumns, Concatenate, ConvNet); other transforms register
/// theirs once, before loading, with <see cref="Register"/>: a transform in this library adds its line to the list in
/// the static constructor of this class, an application's own transform calls <c>TransformerLoaders.Register("MyKind",
/// (settings, context) =&gt; new MyTransformer(...))</c> at start-up.
/// </summary>
public static class TransformerLoaders
{
    private static readonly Dictionary<string, Func<JsonObject, ModelLoadContext, ITransformer>> Loaders = new(StringComparer.Ordinal);
    private static readonly Lock Sync = new();

    static TransformerLoaders()
    {
        Register(ValueToKeyMappingTransformer.KindName, ValueToKeyMappingTransformer.Load);
        Register(KeyToValueMappingTransformer.KindName, KeyToValueMappingTransformer.Load);
        Register(ColumnCopyingTransformer.KindName, ColumnCopyingTransformer.Load);
        Register(ColumnConcatenatingTransformer.KindName, ColumnConcatenatingTransformer.Load);
        Register(ConvNetTransformer.KindName, ConvNetTransformer.Load);
        Register(ImageLoadingTransformer.KindName, ImageLoadingTransformer.Load);
        Register(RawImageBytesLoadingTransformer.KindName, RawImageBytesLoadingTransformer.Load);
        Register(ImageResizingTransformer.KindName, ImageResizingTransformer.Load);
        Register(ImageGrayscalingTransformer.KindName, ImageGrayscalingTransformer.Load);
        Register(ImagePixelExtractingTransformer.KindName, ImagePixelExtractingTransformer.Load);
        Register(MeanStdNormalizingTransformer.KindName, MeanStdNormalizingTransformer.Load);
    }

    /// <summary>The registered kinds, sorted.</summary>
    public static IReadOnlyList<string> Kinds
    {
        get
        {
            lock (Sync)
            {
                return [.. Loaders.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Registers (or replaces) the loader of <paramref name="kind"/>.</summary>
    public static void Register(string kind, Func<JsonObject, ModelLoadContext, ITransformer> loader)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(loader);
        lock (Sync)
        {
            Loaders[kind] = loader;
        }
    }

    internal static ITransformer Load(PipelineStep step, ModelLoadContext context, int index)
    {
        Func<JsonObject, ModelLoadContext, ITransformer>? loader;
        lock (Sync)
        {
            Loaders.TryGetValue(step.Kind, out loader);
        }
        if (loader == null)
        {
            throw new InvalidDataException($"{context.Source}: pipeline step {index} is of kind '{step.Kind}', which has no registered loader; known: {string.Join(", ", Kinds)}.");
        }
        try
        {
            return loader(step.Settings, context);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or NullReferenceException)
        {
            throw new InvalidDataException($"{context.Source}: the settings of pipeline step {index} ({step.Kind}) are damaged: {e.Message}", e);
        }
    }
}

/// <summary>JSON forms of data view types, schemas and key values.</summary>
internal static class SchemaJson
{
    public static JsonObject WriteType(DataViewType type) => type switch
    {
        TextDataViewType => new JsonObject { ["Kind"] = "Text" },
        BooleanDataViewType => new JsonObject { ["Kind"] = "Boolean" },
        NumberDataViewType n => new JsonObject { ["Kind"] = "Number", ["Raw"] = n.RawType.Name },
        KeyDataViewType k => new JsonObject { ["Kind"] = "Key", ["Count"] = k.Count },
        VectorDataViewType v => new JsonObject { ["Kind"] = "Vector", ["Item"] = WriteType(v.ItemType), ["Dimensions"] = new JsonArray([.. v.Dimensions.Select(d => (JsonNode?)d)]) },
        ImageDataViewType i => new JsonObject { ["Kind"] = "Image", ["Height"] = i.Height, ["Width"] = i.Width },
        _ => throw new NotSupportedException($"Columns of type {type} ({type.GetType().Name}) cannot be saved in a model file."),
    };

    public static DataViewType ReadType(JsonNode? node)
    {
        var o = node?.AsObject() ?? throw new InvalidDataException("A column type is missing.");
        string kind = o["Kind"]!.GetValue<string>();
        return kind switch
        {
            "Text" => TextDataViewType.Instance,
            "Boolean" => BooleanDataViewType.Instance,
            "Number" => o["Raw"]!.GetValue<string>() switch
            {
                "Single" => NumberDataViewType.Single,
                "Double" => NumberDataViewType.Double,
                "Byte" => NumberDataViewType.Byte,
                "Int32" => NumberDataViewType.Int32,
                "UInt32" => NumberDataViewType.UInt32,
                "Int64" => NumberDataViewType.Int64,
                var r => throw new InvalidDataException($"Unknown number type '{r}'."),
            },
            "Key" => new KeyDataViewType(o["Count"]!.GetValue<ulong>()),
            "Vector" => new VectorDataViewType((PrimitiveDataViewType)ReadType(o["Item"]), [.. o["Dimensions"]!.AsArray().Select(d => d!.GetValue<int>())]),
            "Image" => new ImageDataViewType(o["Height"]!.GetValue<int>(), o["Width"]!.GetValue<int>()),
            _ => throw new InvalidDataException($"Unknown column type kind '{kind}'."),
        };
    }

    /// <summary>Key values as { Type, Values }.</summary>
    public static JsonObject WriteValues(PrimitiveDataViewType itemType, Array values) => new()
    {
        ["Type"] = WriteType(itemType),
        ["Values"] = JsonSerializer.SerializeToNode(values, values.GetType()),
    };

    public static (PrimitiveDataViewType Type, Array Values) ReadValues(JsonNode? node)
    {
        var o = node!.AsObject();
        var type = (PrimitiveDataViewType)ReadType(o["Type"]);
        var values = (Array)(o["Values"].Deserialize(type.RawType.MakeArrayType()) ?? throw new InvalidDataException("Key values are null."));
        return (type, values);
    }

    public static JsonArray WriteSchema(DataViewSchema schema)
    {
        var a = new JsonArray();
        foreach (var c in schema)
        {
            var o = new JsonObject { ["Name"] = c.Name, ["Type"] = WriteType(c.Type) };
            if (c.Annotations.GetAnnotationType(AnnotationUtils.Kinds.KeyValues) is VectorDataViewType vt)
            {
                o[AnnotationUtils.Kinds.KeyValues] = WriteValues(vt.ItemType, ConvNetTrainer.ReadKeyValues(c, vt));
            }
            a.Add(o);
        }
        return a;
    }

    public static DataViewSchema ReadSchema(JsonArray array)
    {
        var b = new DataViewSchema.Builder();
        foreach (var node in array)
        {
            var o = node!.AsObject();
            var type = ReadType(o["Type"]);
            DataViewSchema.Annotations? annotations = null;
            if (o[AnnotationUtils.Kinds.KeyValues] is JsonNode kv)
            {
                var (t, values) = ReadValues(kv);
                annotations = KeyValueAnnotations(t, values);
            }
            b.AddColumn(o["Name"]!.GetValue<string>(), type, annotations);
        }
        return b.ToSchema();
    }

    public static DataViewSchema.Annotations KeyValueAnnotations(PrimitiveDataViewType itemType, Array values)
    {
        var ab = new DataViewSchema.Annotations.Builder();
        typeof(DataViewSchema.Annotations.Builder).GetMethod(nameof(DataViewSchema.Annotations.Builder.Add))!.MakeGenericMethod(values.GetType())
            .Invoke(ab, [AnnotationUtils.Kinds.KeyValues, new VectorDataViewType(itemType, values.Length), values]);
        return ab.ToAnnotations();
    }

    public static JsonArray WritePairs(IEnumerable<InputOutputColumnPair> pairs) =>
        new([.. pairs.Select(p => (JsonNode?)new JsonObject { ["Output"] = p.OutputColumnName, ["Input"] = p.Input })]);

    public static InputOutputColumnPair[] ReadPairs(JsonNode? node) =>
        [.. node!.AsArray().Select(p => new InputOutputColumnPair(p!["Output"]!.GetValue<string>(), p["Input"]!.GetValue<string>()))];
}
