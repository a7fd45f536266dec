using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>The optimizers <see cref="ConvNetTrainer"/> can use.</summary>
public enum ConvNetOptimizer
{
    /// <summary>Adam (<see cref="Optimizers.Adam"/>); weight decay is an L2 term added to the gradient.</summary>
    Adam,

    /// <summary>AdamW (<see cref="Optimizers.AdamW"/>): decoupled weight decay.</summary>
    AdamW,

    /// <summary>Stochastic gradient descent (<see cref="Optimizers.Sgd"/>) with <see cref="ConvNetTrainer.Options.Momentum"/>.</summary>
    Sgd,

    /// <summary>RMSProp (<see cref="Optimizers.RmsProp"/>) with <see cref="ConvNetTrainer.Options.Momentum"/>.</summary>
    RmsProp,
}

/// <summary>
/// Trains a convolutional network classifier on an image column (ML.NET-style trainer; see
/// <see cref="MulticlassClassificationCatalog.MulticlassClassificationTrainers.ConvNet"/>). The label is a key column
/// (use <c>MapValueToKey</c> first when it is not) or a Boolean column; the features are a vector of Single of known
/// shape [C, H, W] (as written by <c>ExtractPixels</c> or <c>LoadFromFashionMnist</c>). <see cref="Fit"/> checks the
/// schema before reading any data, reads the rows into memory once, and trains with <see cref="Trainer.Fit"/>. Rows
/// whose label is missing (key 0) are skipped.
/// <para>
/// Two-class problems use the same trainer (a two-output network with softmax; also reachable as
/// <see cref="BinaryClassificationCatalog.BinaryClassificationTrainers.ConvNet"/>, which insists on two classes). A
/// Boolean label, as ML.NET's binary trainers take, is class 1 for false and class 2 for true, so <c>Score</c> is
/// [p(false), p(true)] and <c>PredictedLabel</c> a key whose values are false and true (<c>MapKeyToValue</c> turns it
/// back into a Boolean). <see cref="BinaryClassificationCatalog.Evaluate"/> then takes the scored data as it is, true
/// being the positive class; with a two-category key label, key 2 is the positive class.
/// </para>
/// </summary>
public sealed class ConvNetTrainer : IEstimator<ConvNetTransformer>
{
    private readonly ConvNetContext _context;

    private readonly bool _twoClassOnly;

    internal ConvNetTrainer(ConvNetContext context, Options options, bool twoClassOnly = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        _context = context;
        _twoClassOnly = twoClassOnly;
        TrainerOptions = options;
        Validate(options);
    }

    /// <summary>The settings of this trainer.</summary>
    public Options TrainerOptions { get; }

    /// <summary>Settings of <see cref="ConvNetTrainer"/> (names as in ML.NET's image classification trainer where they exist).</summary>
    public sealed class Options
    {
        /// <summary>The label column, a key or a Boolean (default "Label").</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>The features column, a vector of Single of known shape [C, H, W] (default "Pixels").</summary>
        public string FeatureColumnName { get; set; } = "Pixels";

        /// <summary>A <see cref="ModelZoo"/> architecture name such as "smallcnn", "lenet5", "resnet18" (default "smallcnn"); ignored when <see cref="ModelFactory"/> is set.</summary>
        public string Architecture { get; set; } = "smallcnn";

        /// <summary>
        /// Builds a custom network from (number of classes, input channels); it must return logits [N, classes]. A model
        /// built this way can be used and evaluated but not saved with <c>Model.Save</c> (which needs a zoo architecture).
        /// </summary>
        public Func<int, int, Module>? ModelFactory { get; set; }

        /// <summary>Uses the zoo's small-input stem (3×3 stride-1 first convolution, no initial pooling) for 28–32 px images.</summary>
        public bool SmallInput { get; set; }

        /// <summary>Passes over the training data (default 10).</summary>
        public int Epochs { get; set; } = 10;

        /// <summary>Samples per training step (default 64).</summary>
        public int BatchSize { get; set; } = 64;

        /// <summary>The learning rate (default 0.001).</summary>
        public float LearningRate { get; set; } = 1e-3f;

        /// <summary>The optimizer (default Adam).</summary>
        public ConvNetOptimizer Optimizer { get; set; } = ConvNetOptimizer.Adam;

        /// <summary>Weight decay (default 0): an L2 term for Adam, SGD and RMSProp, decoupled for AdamW.</summary>
        public float WeightDecay { get; set; }

        /// <summary>Momentum of SGD and RMSProp (default 0.9; ignored by Adam and AdamW).</summary>
        public float Momentum { get; set; } = 0.9f;

        /// <summary>Validation rows with the same columns as the training data; evaluated after every epoch.</summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>
        /// When no <see cref="ValidationSet"/> is given, the fraction of the training rows (drawn with <see cref="Seed"/>)
        /// held out for validation (default 0: none). Must be in [0, 1).
        /// </summary>
        public double ValidationFraction { get; set; }

        /// <summary>Stops when the watched metric stops improving (null: run every epoch). Without validation data the training metric is watched.</summary>
        public EarlyStoppingOptions? EarlyStopping { get; set; }

        /// <summary>Called after every epoch with its report.</summary>
        public Action<EpochReport>? MetricsCallback { get; set; }

        /// <summary>Called after every training step with its report (batch index, count, running loss and accuracy), e.g. to drive a progress bar.</summary>
        public Action<BatchReport>? BatchCallback { get; set; }

        /// <summary>
        /// The device to train (and later score) on: default <see cref="Device.Auto"/>, a GPU when CUDA is usable, else the
        /// CPU. Metrics come back as host values; the trained model stays on this device.
        /// </summary>
        public Device Device { get; set; } = Device.Auto;

        /// <summary>Mixed precision of training (see <see cref="TrainingOptions.MixedPrecision"/>; CUDA only).</summary>
        public MixedPrecision MixedPrecision { get; set; }

        /// <summary>
        /// Seed of the weight initialisation, the shuffling and the validation split (default: one drawn from the
        /// context). The initialisation seeds the shared generator (<see cref="RandomSource.ManualSeed"/>).
        /// </summary>
        public int? Seed { get; set; }

        /// <summary>A folder for checkpoints: the best model's state dictionary is written there atomically (see <see cref="TrainingOptions.CheckpointFolder"/>).</summary>
        public string? WorkspaceFolder { get; set; }

        /// <summary>Stops training between batches with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }
    }

    private static void Validate(Options o)
    {
        if (o.MixedPrecision == MixedPrecision.BFloat16 && o.Device.Type != DeviceType.Cuda)
        {
            throw new NotSupportedException($"ConvNetTrainer: MixedPrecision.BFloat16 needs a CUDA device, got {o.Device}.");
        }
        ArgumentException.ThrowIfNullOrEmpty(o.LabelColumnName, "options.LabelColumnName");
        ArgumentException.ThrowIfNullOrEmpty(o.FeatureColumnName, "options.FeatureColumnName");
        if (o.ModelFactory == null && string.IsNullOrEmpty(o.Architecture))
        {
            throw new ArgumentException("ConvNetTrainer: set Options.Architecture (a ModelZoo name) or Options.ModelFactory.", "options");
        }
        if (o.Epochs < 0 || o.BatchSize < 1 || !(o.LearningRate > 0) || !(o.ValidationFraction >= 0 && o.ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException("options",
                $"ConvNetTrainer: needs Epochs >= 0, BatchSize >= 1, LearningRate > 0 and ValidationFraction in [0, 1); got {o.Epochs}, {o.BatchSize}, {o.LearningRate}, {o.ValidationFraction}.");
        }
    }

    /// <summary>Checks the label and features columns of <paramref name="schema"/>; returns them.</summary>
    internal static (DataViewSchema.Column Label, DataViewSchema.Column Features, int[] Shape) CheckSchema(DataViewSchema schema, string label, string features)
    {
        var l = SchemaMismatchException.Require(schema, label, "Key or Boolean", t => t is KeyDataViewType or BooleanDataViewType);
        var f = SchemaMismatchException.Require(schema, features, "Vector<Single> of known shape [C, H, W]",
            t => t is VectorDataViewType { ItemType: NumberDataViewType n, IsKnownSize: true } v && n == NumberDataViewType.Single && v.Dimensions.Count == 3);
        return (l, f, [.. ((VectorDataViewType)f.Type).Dimensions]);
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var (label, _, _) = CheckSchema(inputSchema, TrainerOptions.LabelColumnName, TrainerOptions.FeatureColumnName);
        var classes = Classes(label);
        CheckClassCount(label, classes.Count, known: classes.Count > 0);
        return ConvNetTransformer.OutputSchema(inputSchema, classes.Count, classes.ValueType, classes.Values);
    }

    /// <summary>
    /// The categories of label column <paramref name="label"/>: a key's count (0 when not yet known) with its key values
    /// (null when it has none, or not as many as categories); a Boolean's two categories false and true.
    /// </summary>
    internal static (int Count, PrimitiveDataViewType? ValueType, Array? Values) Classes(DataViewSchema.Column label)
    {
        if (label.Type is BooleanDataViewType)
        {
            return (2, BooleanDataViewType.Instance, new[] { false, true });
        }
        int k = (int)((KeyDataViewType)label.Type).Count;
        var keyType = label.Annotations.GetAnnotationType(AnnotationUtils.Kinds.KeyValues) as VectorDataViewType;
        var keyValues = keyType != null && k > 0 ? ReadKeyValues(label, keyType) : null;
        return keyValues?.Length == k ? (k, keyType!.ItemType, keyValues) : (k, null, null);
    }

    private void CheckClassCount(DataViewSchema.Column label, int count, bool known)
    {
        if (_twoClassOnly && known && count != 2)
        {
            throw new SchemaMismatchException(label.Name, "Boolean or Key of 2 categories (a two-class label)", label.Type);
        }
        if (known && count < 2)
        {
            throw new SchemaMismatchException(label.Name, "Key of at least 2 categories", label.Type);
        }
    }

    /// <summary>Checks the schema, reads the rows, builds and trains the network, and returns the transformer owning it.</summary>
    /// <exception cref="SchemaMismatchException">The label is not a key, or the features are not a Single vector of known shape [C, H, W]; nothing has been read.</exception>
    public ConvNetTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = TrainerOptions;
        var (labelCol, _, shape) = CheckSchema(input.Schema, o.LabelColumnName, o.FeatureColumnName);
        if (o.ValidationSet is { } vs)
        {
            var (vl, _, vshape) = CheckSchema(vs.Schema, o.LabelColumnName, o.FeatureColumnName);
            if (!vl.Type.Equals(labelCol.Type) || !vshape.SequenceEqual(shape))
            {
                var vf = vs.Schema[o.FeatureColumnName];
                bool labelDiffers = !vl.Type.Equals(labelCol.Type);
                throw new SchemaMismatchException(labelDiffers ? vl.Name : vf.Name,
                    labelDiffers ? $"{labelCol.Type} (as in the training data)" : $"{input.Schema[o.FeatureColumnName].Type} (as in the training data)",
                    labelDiffers ? vl.Type : vf.Type, "validation");
            }
        }
        var (classes, keyValueType, keyValues) = Classes(labelCol);
        CheckClassCount(labelCol, classes, known: true);
        var classNames = KeyNames(labelCol, classes);
        int seed = o.Seed ?? _context.NextSeed();
        var train = Read(input, o.LabelColumnName, o.FeatureColumnName, shape, classNames, "training");
        ImageDataset? validation = null;
        if (o.ValidationSet != null)
        {
            validation = Read(o.ValidationSet, o.LabelColumnName, o.FeatureColumnName, shape, classNames, "validation");
        }
        else if (o.ValidationFraction > 0)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(seed).Shuffle(order);
            int nVal = (int)Math.Round(train.Count * o.ValidationFraction);
            validation = train.Subset(order[..nVal].Order().ToArray());
            train = train.Subset(order[nVal..].Order().ToArray());
        }

        RandomSource.ManualSeed(seed);
        var model = o.ModelFactory != null
            ? o.ModelFactory(classes, shape[0])
            : ModelZoo.Create(o.Architecture, new ModelOptions(classes, shape[0], o.SmallInput));
        try
        {
            using var optimizer = CreateOptimizer(model, o);
            var history = Trainer.Fit(model, optimizer, train, validation, new TrainingOptions
            {
                Epochs = o.Epochs,
                BatchSize = o.BatchSize,
                Seed = seed,
                EarlyStopping = o.EarlyStopping,
                CheckpointFolder = o.WorkspaceFolder,
                EpochCompleted = o.MetricsCallback,
                BatchCompleted = o.BatchCallback,
                CancellationToken = o.CancellationToken,
                Device = o.Device,
                MixedPrecision = o.MixedPrecision,
            });
            model.Eval();
            return new ConvNetTransformer(model, o.FeatureColumnName, shape, classes, keyValueType, keyValues,
                o.ModelFactory == null ? new ModelArchitecture { Name = o.Architecture, Options = new() { ["NumClasses"] = classes, ["InputChannels"] = shape[0], ["SmallInput"] = o.SmallInput } } : null,
                history);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static Optimizer CreateOptimizer(Module model, Options o) => o.Optimizer switch
    {
        ConvNetOptimizer.Adam => new Adam(model.Parameters(), o.LearningRate, weightDecay: o.WeightDecay),
        ConvNetOptimizer.AdamW => new AdamW(model.Parameters(), o.LearningRate, weightDecay: o.WeightDecay),
        ConvNetOptimizer.Sgd => new Sgd(model.Parameters(), o.LearningRate, momentum: o.Momentum, weightDecay: o.WeightDecay),
        ConvNetOptimizer.RmsProp => new RmsProp(model.Parameters(), o.LearningRate, momentum: o.Momentum, weightDecay: o.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(o), $"Unknown optimizer {o.Optimizer}."),
    };

    /// <summary>A getter of the label as a key: a key column as it is, a Boolean as 1 (false) or 2 (true).</summary>
    internal static ValueGetter<uint> LabelKeyGetter(DataViewRow row, DataViewSchema.Column label)
    {
        if (label.Type is not BooleanDataViewType)
        {
            return row.GetGetter<uint>(label);
        }
        var g = row.GetGetter<bool>(label);
        bool v = false;
        return (ref uint key) =>
        {
            g(ref v);
            key = v ? 2u : 1u;
        };
    }

    /// <summary>The names of the categories of key column <paramref name="label"/> (their values as text, or "1".."K").</summary>
    internal static string[] KeyNames(DataViewSchema.Column label, int count)
    {
        if (label.Type is BooleanDataViewType)
        {
            return [bool.FalseString, bool.TrueString];
        }
        if (label.Annotations.GetAnnotationType(AnnotationUtils.Kinds.KeyValues) is VectorDataViewType vt)
        {
            var values = ReadKeyValues(label, vt);
            if (values.Length == count)
            {
                return values.Cast<object>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "").ToArray();
            }
        }
        return Enumerable.Range(1, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The key values of <paramref name="column"/> as an array of their raw item type.</summary>
    internal static Array ReadKeyValues(DataViewSchema.Column column, VectorDataViewType type)
    {
        var method = typeof(ConvNetTrainer).GetMethod(nameof(ReadKeyValuesOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        return (Array)method.MakeGenericMethod(type.ItemType.RawType).Invoke(null, [column])!;
    }

    private static T[] ReadKeyValuesOf<T>(DataViewSchema.Column column)
    {
        T[] values = [];
        column.GetKeyValues(ref values);
        return values;
    }

    private static ImageDataset Read(IDataView data, string label, string features, int[] shape, string[] classNames, string what)
    {
        var schema = data.Schema;
        var lc = schema[label];
        var fc = schema[features];
        int size = shape[0] * shape[1] * shape[2];
        var images = new List<float>();
        var labels = new List<int>();
        using (var cursor = data.GetRowCursor([lc, fc]))
        {
            var lg = LabelKeyGetter(cursor, lc);
            var fg = cursor.GetGetter<float[]>(fc);
            uint key = 0;
            float[] pixels = new float[size];
            while (cursor.MoveNext())
            {
                lg(ref key);
                if (key == 0)
                {
                    continue;
                }
                if (key > classNames.Length)
                {
                    throw new InvalidDataException($"ConvNetTrainer: row {cursor.Position} of the {what} data has label key {key}, outside the {classNames.Length} categories of '{label}'.");
                }
                fg(ref pixels);
                if (pixels.Length != size)
                {
                    throw new InvalidDataException($"ConvNetTrainer: row {cursor.Position} of '{features}' holds {pixels.Length} values, expected {size}.");
                }
                images.AddRange(pixels);
                labels.Add((int)key - 1);
            }
        }
        if (labels.Count == 0)
        {
            throw new ArgumentException($"ConvNetTrainer: the {what} data has no rows with a label.", nameof(data));
        }
        return new ImageDataset([.. images], new Shape(shape), [.. labels], classNames);
    }
}

/// <summary>The ConvNet trainer in the binary catalog.</summary>
public sealed partial class BinaryClassificationCatalog
{
    public sealed partial class BinaryClassificationTrainers
    {
        /// <summary>
        /// A trainer of a two-class convolutional network classifier: the same <see cref="ConvNetTrainer"/> as the
        /// multiclass catalog's, which refuses a label that is not a Boolean or a key of two categories. A Boolean label
        /// gives <c>Score</c> = [p(false), p(true)] and a <c>PredictedLabel</c> key whose values are false and true;
        /// evaluate with <see cref="BinaryClassificationCatalog.Evaluate"/>.
        /// </summary>
        /// <exception cref="NotSupportedException">The options ask for a CUDA device.</exception>
        public ConvNetTrainer ConvNet(ConvNetTrainer.Options? options = null) => new(Context, options ?? new ConvNetTrainer.Options(), twoClassOnly: true);
    }
}

/// <summary>The ConvNet trainer in the multiclass catalog.</summary>
public sealed partial class MulticlassClassificationCatalog
{
    public sealed partial class MulticlassClassificationTrainers
    {
        /// <summary>
        /// A trainer of a convolutional network classifier (<see cref="ConvNetTrainer"/>); it writes <c>Score</c>
        /// (class probabilities) and <c>PredictedLabel</c> (a key with the label's values).
        /// </summary>
        /// <exception cref="NotSupportedException">The options ask for a CUDA device.</exception>
        public ConvNetTrainer ConvNet(ConvNetTrainer.Options? options = null) => new(Context, options ?? new ConvNetTrainer.Options());
    }
}
