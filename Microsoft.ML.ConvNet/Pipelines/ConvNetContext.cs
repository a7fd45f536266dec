namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// The entry point of pipelines, as ML.NET's <c>MLContext</c>: catalogs of data operations, transforms, trainers,
/// evaluation and model persistence. A seed makes every random choice (splits, shuffles) reproducible.
/// </summary>
public sealed class ConvNetContext
{
    private readonly Random _random;
    private readonly Lock _lock = new();

    /// <summary>Creates a context; with <paramref name="seed"/>, random operations without their own seed repeat from run to run.</summary>
    public ConvNetContext(int? seed = null)
    {
        Seed = seed;
        _random = seed is int s ? new Random(s) : new Random();
        Data = new DataOperationsCatalog(this);
        Transforms = new TransformsCatalog(this);
        MulticlassClassification = new MulticlassClassificationCatalog(this);
        BinaryClassification = new BinaryClassificationCatalog(this);
        Model = new ModelOperationsCatalog(this);
    }

    /// <summary>The seed given, or null.</summary>
    public int? Seed { get; }

    /// <summary>Loading, splitting, shuffling and reading data views.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Transforms (conversions, column operations, image operations).</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Trainers and evaluation for multiclass classification.</summary>
    public MulticlassClassificationCatalog MulticlassClassification { get; }

    /// <summary>Trainers and evaluation for binary classification.</summary>
    public BinaryClassificationCatalog BinaryClassification { get; }

    /// <summary>Saving and loading models.</summary>
    public ModelOperationsCatalog Model { get; }

    /// <summary>A seed drawn from the context's random sequence (reproducible when the context has a seed).</summary>
    internal int NextSeed()
    {
        lock (_lock)
        {
            return _random.Next();
        }
    }
}

/// <summary>Trainers and evaluation for multiclass classification (ML.NET's <c>MulticlassClassificationCatalog</c>).</summary>
public sealed partial class MulticlassClassificationCatalog
{
    internal MulticlassClassificationCatalog(ConvNetContext context)
    {
        Context = context;
        Trainers = new MulticlassClassificationTrainers(context);
    }

    /// <summary>The context this catalog belongs to.</summary>
    internal ConvNetContext Context { get; }

    /// <summary>The multiclass trainers.</summary>
    public MulticlassClassificationTrainers Trainers { get; }

    /// <summary>The multiclass trainers (ML.NET's <c>MulticlassClassificationCatalog.MulticlassClassificationTrainers</c>).</summary>
    public sealed partial class MulticlassClassificationTrainers
    {
        internal MulticlassClassificationTrainers(ConvNetContext context) => Context = context;

        /// <summary>The context this catalog belongs to.</summary>
        internal ConvNetContext Context { get; }
    }
}

/// <summary>Trainers and evaluation for binary classification (ML.NET's <c>BinaryClassificationCatalog</c>).</summary>
public sealed partial class BinaryClassificationCatalog
{
    internal BinaryClassificationCatalog(ConvNetContext context)
    {
        Context = context;
        Trainers = new BinaryClassificationTrainers(context);
    }

    /// <summary>The context this catalog belongs to.</summary>
    internal ConvNetContext Context { get; }

    /// <summary>The binary trainers.</summary>
    public BinaryClassificationTrainers Trainers { get; }

    /// <summary>The binary trainers (ML.NET's <c>BinaryClassificationCatalog.BinaryClassificationTrainers</c>).</summary>
    public sealed partial class BinaryClassificationTrainers
    {
        internal BinaryClassificationTrainers(ConvNetContext context) => Context = context;

        /// <summary>The context this catalog belongs to.</summary>
        internal ConvNetContext Context { get; }
    }
}

/// <summary>Saving and loading models (ML.NET's <c>ModelOperationsCatalog</c>).</summary>
public sealed partial class ModelOperationsCatalog
{
    internal ModelOperationsCatalog(ConvNetContext context) => Context = context;

    /// <summary>The context this catalog belongs to.</summary>
    internal ConvNetContext Context { get; }
}

/// <summary>Transforms (ML.NET's <c>TransformsCatalog</c>): conversions, column copying and concatenation; image transforms extend it.</summary>
public sealed partial class TransformsCatalog
{
    internal TransformsCatalog(ConvNetContext context)
    {
        Context = context;
        Conversion = new ConversionTransforms(context);
    }

    /// <summary>The context this catalog belongs to.</summary>
    internal ConvNetContext Context { get; }

    /// <summary>Type conversions and key mappings.</summary>
    public ConversionTransforms Conversion { get; }

    /// <summary>Copies <paramref name="inputColumnName"/> to <paramref name="outputColumnName"/>.</summary>
    public ColumnCopyingEstimator CopyColumns(string outputColumnName, string inputColumnName) =>
        new([new InputOutputColumnPair(outputColumnName, inputColumnName)]);

    /// <summary>Copies each pair's input column to its output column.</summary>
    public ColumnCopyingEstimator CopyColumns(params InputOutputColumnPair[] columns) => new(columns);

    /// <summary>Concatenates numeric scalars and vectors of one item type into the vector <paramref name="outputColumnName"/>.</summary>
    public ColumnConcatenatingEstimator Concatenate(string outputColumnName, params string[] inputColumnNames) =>
        new(outputColumnName, inputColumnNames);

    /// <summary>Type conversions and key mappings (ML.NET's <c>TransformsCatalog.ConversionTransforms</c>).</summary>
    public sealed partial class ConversionTransforms
    {
        internal ConversionTransforms(ConvNetContext context) => Context = context;

        /// <summary>The context this catalog belongs to.</summary>
        internal ConvNetContext Context { get; }

        /// <summary>
        /// Maps the values of <paramref name="inputColumnName"/> (default: <paramref name="outputColumnName"/>) to keys 1..N,
        /// learnt when fitting, in order of first appearance (or sorted with <see cref="KeyOrdinality.ByValue"/>).
        /// </summary>
        public ValueToKeyMappingEstimator MapValueToKey(string outputColumnName, string? inputColumnName = null,
            int maximumNumberOfKeys = 1_000_000, KeyOrdinality keyOrdinality = KeyOrdinality.ByOccurrence) =>
            new([new InputOutputColumnPair(outputColumnName, inputColumnName)], maximumNumberOfKeys, keyOrdinality);

        /// <summary>Maps the values of several columns to keys.</summary>
        public ValueToKeyMappingEstimator MapValueToKey(InputOutputColumnPair[] columns,
            int maximumNumberOfKeys = 1_000_000, KeyOrdinality keyOrdinality = KeyOrdinality.ByOccurrence) =>
            new(columns, maximumNumberOfKeys, keyOrdinality);

        /// <summary>Maps the keys of <paramref name="inputColumnName"/> (default: <paramref name="outputColumnName"/>) back to their values.</summary>
        public KeyToValueMappingEstimator MapKeyToValue(string outputColumnName, string? inputColumnName = null) =>
            new([new InputOutputColumnPair(outputColumnName, inputColumnName)]);

        /// <summary>Maps the keys of several columns back to their values.</summary>
        public KeyToValueMappingEstimator MapKeyToValue(params InputOutputColumnPair[] columns) => new(columns);
    }
}
