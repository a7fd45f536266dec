using System.Text.Json.Nodes;

namespace Microsoft.ML.ConvNet.Pipelines;

public sealed partial class ValueToKeyMappingTransformer : IPersistableTransformer
{
    internal const string KindName = "MapValueToKey";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Columns"] = new JsonArray([.. _mappings.Select(m => (JsonNode?)new JsonObject
        {
            ["Output"] = m.Output,
            ["Input"] = m.Input,
            ["KeyValues"] = SchemaJson.WriteValues((PrimitiveDataViewType)m.InputType, m.Values),
        })]),
    };

    internal static ValueToKeyMappingTransformer Load(JsonObject settings, ModelLoadContext context) =>
        new([.. settings["Columns"]!.AsArray().Select(c =>
        {
            var (type, values) = SchemaJson.ReadValues(c!["KeyValues"]);
            return new Mapping(c["Output"]!.GetValue<string>(), c["Input"]!.GetValue<string>(), type, values);
        })]);
}

public sealed partial class KeyToValueMappingTransformer : IPersistableTransformer
{
    internal const string KindName = "MapKeyToValue";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new() { ["Columns"] = SchemaJson.WritePairs(_columns) };

    internal static KeyToValueMappingTransformer Load(JsonObject settings, ModelLoadContext context) => new(SchemaJson.ReadPairs(settings["Columns"]));
}

public sealed partial class ColumnCopyingTransformer : IPersistableTransformer
{
    internal const string KindName = "CopyColumns";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new() { ["Columns"] = SchemaJson.WritePairs(_columns) };

    internal static ColumnCopyingTransformer Load(JsonObject settings, ModelLoadContext context) => new(SchemaJson.ReadPairs(settings["Columns"]));
}

public sealed partial class ColumnConcatenatingTransformer : IPersistableTransformer
{
    internal const string KindName = "Concatenate";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = _output,
        ["Inputs"] = new JsonArray([.. _inputs.Select(i => (JsonNode?)i)]),
    };

    internal static ColumnConcatenatingTransformer Load(JsonObject settings, ModelLoadContext context) =>
        new(settings["Output"]!.GetValue<string>(), [.. settings["Inputs"]!.AsArray().Select(i => i!.GetValue<string>())]);
}
