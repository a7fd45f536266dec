namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>Saving and loading models as one versioned zip (<see cref="ModelFile"/>).</summary>
public sealed partial class ModelOperationsCatalog
{
    /// <summary>
    /// Saves <paramref name="model"/> (a transformer or a chain of them; nested chains are flattened) with the schema
    /// of the data it reads to <paramref name="path"/>, atomically: one zip whose manifest lists each step's kind and
    /// settings, the class names, the input schema and the network's architecture, and whose tensors hold the
    /// networks' weights (each step's under "steps.{index}.").
    /// </summary>
    /// <exception cref="NotSupportedException">A step cannot be saved (the message names it).</exception>
    /// <exception cref="SchemaMismatchException">The model does not accept <paramref name="inputSchema"/>.</exception>
    public void Save(ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (manifest, tensors) = Build(model, inputSchema);
        ModelFile.WriteAtomic(path, manifest, tensors);
    }

    /// <summary>Saves <paramref name="model"/> to <paramref name="stream"/> (left open); see <see cref="Save(ITransformer, DataViewSchema, string)"/>.</summary>
    public void Save(ITransformer model, DataViewSchema inputSchema, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (manifest, tensors) = Build(model, inputSchema);
        ModelFile.Write(stream, manifest, tensors);
    }

    /// <summary>Loads a model saved by <see cref="Save(ITransformer, DataViewSchema, string)"/>; <paramref name="inputSchema"/> receives the schema it was saved with.</summary>
    /// <returns>A <see cref="TransformerChain{TLastTransformer}"/> of the saved steps (dispose it to release the networks).</returns>
    /// <exception cref="InvalidDataException">The file is not a readable model file (truncated, newer format, unknown step kind, damaged settings or tensors); the message names the file.</exception>
    public ITransformer Load(string path, out DataViewSchema inputSchema)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Load(ModelFile.Read(path), path, out inputSchema);
    }

    /// <summary>Loads a model from <paramref name="stream"/> (left open); see <see cref="Load(string, out DataViewSchema)"/>.</summary>
    public ITransformer Load(Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(ModelFile.Read(stream), "stream", out inputSchema);
    }

    private static ITransformer Load(ModelFileContents contents, string source, out DataViewSchema inputSchema)
    {
        var manifest = contents.Manifest;
        try
        {
            inputSchema = SchemaJson.ReadSchema(manifest.InputSchema);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidCastException or NullReferenceException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: the input schema in the manifest is damaged: {e.Message}", e);
        }
        var steps = new List<ITransformer>();
        try
        {
            for (int i = 0; i < manifest.Pipeline.Count; i++)
            {
                var ctx = new ModelLoadContext(manifest, contents.Tensors, StepPrefix(i), source);
                steps.Add(TransformerLoaders.Load(manifest.Pipeline[i], ctx, i));
            }
        }
        catch
        {
            foreach (var t in steps)
            {
                (t as IDisposable)?.Dispose();
            }
            throw;
        }
        return new TransformerChain<ITransformer>(steps);
    }

    private static string StepPrefix(int index) => $"steps.{index}.";

    private static (ModelManifest Manifest, Dictionary<string, TensorData> Tensors) Build(ITransformer model, DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        model.GetOutputSchema(inputSchema);
        var manifest = new ModelManifest { InputSchema = SchemaJson.WriteSchema(inputSchema) };
        var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        var steps = Flatten(model).ToList();
        for (int i = 0; i < steps.Count; i++)
        {
            if (steps[i] is not IPersistableTransformer p)
            {
                throw new NotSupportedException(
                    $"Model.Save: pipeline step {i} ({steps[i].GetType().Name}) cannot be saved: it does not implement {nameof(IPersistableTransformer)}.");
            }
            var settings = p.SaveSettings(new ModelSaveContext(manifest, tensors, StepPrefix(i)));
            manifest.Pipeline.Add(new PipelineStep { Kind = p.Kind, Settings = settings });
        }
        return (manifest, tensors);
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer t) =>
        t.GetType().IsGenericType && t.GetType().GetGenericTypeDefinition() == typeof(TransformerChain<>)
            ? ((IEnumerable<ITransformer>)t).SelectMany(Flatten)
            : [t];
}
