using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.Models;

namespace Microsoft.ML.ConvNet.Pipelines;

public sealed partial class ConvNetTransformer : IPersistableTransformer
{
    internal const string KindName = "ConvNet";
    private const string ModelPrefix = "model.";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>
    /// Writes the features column, input shape, class count, label key values and architecture as settings, and the
    /// network's state dictionary as tensors under "model."; fills the manifest's class names, input shape and
    /// architecture (the first classifier of a pipeline wins).
    /// </summary>
    /// <exception cref="NotSupportedException">The network was built by <see cref="ConvNetTrainer.Options.ModelFactory"/> (no zoo architecture to rebuild it from).</exception>
    public JsonObject SaveSettings(ModelSaveContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arch = Architecture ?? throw new NotSupportedException(
            "ConvNetTransformer cannot be saved: its network was built by ConvNetTrainer.Options.ModelFactory; train with a ModelZoo Architecture to save it.");
        lock (_lock)
        {
            foreach (var (name, t) in Model.StateDict())
            {
                context.AddTensor(ModelPrefix + name, new TensorData(t.Shape, t.ToArray()));
            }
        }
        var m = context.Manifest;
        if (m.Architecture == null)
        {
            m.Architecture = new ModelArchitecture { Name = arch.Name, Options = (JsonObject)arch.Options.DeepClone() };
            m.InputShape = [.. InputShape];
            foreach (string c in ClassNames)
            {
                m.ClassNames.Add(c);
            }
        }
        var settings = new JsonObject
        {
            ["FeatureColumnName"] = FeatureColumnName,
            ["InputShape"] = new JsonArray([.. InputShape.Select(d => (JsonNode?)d)]),
            ["ClassCount"] = ClassCount,
            ["Architecture"] = arch.Name,
            ["ArchitectureOptions"] = arch.Options.DeepClone(),
            ["TensorPrefix"] = ModelPrefix,
        };
        if (_keyValueType != null && _keyValues != null)
        {
            settings["KeyValues"] = SchemaJson.WriteValues(_keyValueType, _keyValues);
        }
        return settings;
    }

    internal static ConvNetTransformer Load(JsonObject settings, ModelLoadContext context)
    {
        int classes = settings["ClassCount"]!.GetValue<int>();
        int[] shape = [.. settings["InputShape"]!.AsArray().Select(d => d!.GetValue<int>())];
        string name = settings["Architecture"]!.GetValue<string>();
        var options = settings["ArchitectureOptions"]!.AsObject();
        var modelOptions = new ModelOptions(
            options["NumClasses"]?.GetValue<int>() ?? classes,
            options["InputChannels"]?.GetValue<int>() ?? shape[0],
            options["SmallInput"]?.GetValue<bool>() ?? false);
        (PrimitiveDataViewType Type, Array Values)? keys = settings["KeyValues"] is JsonNode kv ? SchemaJson.ReadValues(kv) : null;
        var model = ModelZoo.Create(name, modelOptions);
        try
        {
            var tensors = context.Tensors.Where(p => p.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
                .ToDictionary(p => p.Key[ModelPrefix.Length..], p => p.Value);
            try
            {
                model.LoadStateDict(tensors.ToDictionary(p => p.Key, p => p.Value.Values), tensors.ToDictionary(p => p.Key, p => p.Value.Shape));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or InvalidDataException)
            {
                throw new InvalidDataException($"{context.Source}: the tensors of the {name} network do not fit it: {e.Message}", e);
            }
            return new ConvNetTransformer(model, settings["FeatureColumnName"]!.GetValue<string>(), shape, classes, keys?.Type, keys?.Values,
                new ModelArchitecture { Name = name, Options = (JsonObject)options.DeepClone() }, null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
