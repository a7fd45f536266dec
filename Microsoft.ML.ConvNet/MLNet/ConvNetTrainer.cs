using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// Trains a convolutional network classifier in an ML.NET pipeline (<c>mlContext.MulticlassClassification.Trainers.ConvNet(...)</c>
/// or <c>mlContext.BinaryClassification.Trainers.ConvNet(...)</c>). The label is a key (multiclass) or a Boolean (binary);
/// the features are an image (<c>LoadImages</c>), raw image bytes (<c>LoadRawImageBytes</c>) or a pixel vector
/// (<c>ExtractPixels</c>). <see cref="Fit"/> checks the schema before any work, reads the rows once (images through
/// ML.NET's own <c>ResizeImages</c>), builds the network (a zoo architecture or the user's
/// <see cref="Options.ModelFactory"/>) and trains it with the library's engine on the chosen device. It returns a
/// <see cref="ConvNetTransformer"/>, which scores in-process and is saved by <c>mlContext.Model.Save</c> as ML.NET's
/// own transforms around the network in ONNX form.
/// </summary>
public sealed partial class ConvNetTrainer : IEstimator<ConvNetTransformer>
{
    private readonly ConvNetTask _task;

    internal ConvNetTrainer(Options options, ConvNetTask task)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        TrainerOptions = options;
        _task = task;
    }

    /// <summary>The settings of this trainer.</summary>
    public Options TrainerOptions { get; }

    private static void Validate(Options o)
    {
        ArgumentException.ThrowIfNullOrEmpty(o.LabelColumnName, "options.LabelColumnName");
        ArgumentException.ThrowIfNullOrEmpty(o.FeatureColumnName, "options.FeatureColumnName");
        ArgumentException.ThrowIfNullOrEmpty(o.ScoreColumnName, "options.ScoreColumnName");
        ArgumentException.ThrowIfNullOrEmpty(o.PredictedLabelColumnName, "options.PredictedLabelColumnName");
        if (o.ModelFactory == null && !ModelZoo.Names.Contains(o.Architecture ?? "", StringComparer.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"ConvNetTrainer: unknown Architecture '{o.Architecture}'. Known: {string.Join(", ", ModelZoo.Names)}; or set Options.ModelFactory.", "options");
        }
        ArgumentNullException.ThrowIfNull(o.FineTune, "options.FineTune");
        if (o.Epochs < 0 || o.BatchSize < 1 || !(o.LearningRate > 0) || !(o.BodyLearningRate is null or > 0) || !(o.ValidationSetFraction >= 0 && o.ValidationSetFraction < 1))
        {
            throw new ArgumentOutOfRangeException("options",
                $"ConvNetTrainer: needs Epochs >= 0, BatchSize >= 1, LearningRate and BodyLearningRate > 0 and ValidationSetFraction in [0, 1); got {o.Epochs}, {o.BatchSize}, {o.LearningRate}, {o.BodyLearningRate}, {o.ValidationSetFraction}.");
        }
        if (!(o.LabelSmoothing >= 0 && o.LabelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException("options", $"ConvNetTrainer: LabelSmoothing must be in [0, 1), got {o.LabelSmoothing}.");
        }
        if (o.MixedPrecision == MixedPrecision.BFloat16 && o.Device.Type != DeviceType.Cuda)
        {
            throw new NotSupportedException($"ConvNetTrainer: MixedPrecision.BFloat16 needs a CUDA device, got {o.Device}.");
        }
    }

    /// <summary>
    /// The output schema shape: the input's columns with the score and predicted-label columns added, shaped as ML.NET's
    /// own classifiers shape them. A missing column or a wrong type is an error naming the column, the expected and the
    /// actual type.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return ConvNetSchemaShape.Output(inputSchema, TrainerOptions, _task);
    }

    /// <summary>Checks the schema, reads the rows, builds and trains the network; returns the transformer owning it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; nothing has been read.</exception>
    /// <exception cref="InvalidDataException">An image cannot be read (the message names the row and its file) and <see cref="Options.SkipUnreadableImages"/> is off.</exception>
    public ConvNetTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = TrainerOptions;
        var (labelColumn, classes) = ConvNetSchema.Label(input.Schema, o.LabelColumnName, _task);
        var image = ImageInput.Resolve(input.Schema, o);
        if (o.ValidationSet is { } validationSet)
        {
            var (validationLabel, _) = ConvNetSchema.Label(validationSet.Schema, o.LabelColumnName, _task);
            if (!validationLabel.Type.Equals(labelColumn.Type))
            {
                throw ConvNetSchema.Mismatch("validation label", o.LabelColumnName, $"{labelColumn.Type} (as in the training data)", validationLabel.Type);
            }
            var validationImage = ImageInput.Resolve(validationSet.Schema, o);
            if (validationImage != image)
            {
                throw ConvNetSchema.Mismatch("validation feature", o.FeatureColumnName, $"{input.Schema[o.FeatureColumnName].Type} (as in the training data)", validationSet.Schema[o.FeatureColumnName].Type);
            }
        }
        var (keyValues, classNames) = ConvNetSchema.KeyValues(labelColumn, classes);

        var ml = new MLContext(o.Seed);
        var reader = new ImageRowReader(ml, image, o.LabelColumnName, classes, classNames, o.SkipUnreadableImages);
        var train = reader.Read(input, "training", o.CancellationToken);
        ImageDataset? validation = null;
        if (o.ValidationSet != null)
        {
            validation = reader.Read(o.ValidationSet, "validation", o.CancellationToken);
        }
        else if (o.ValidationSetFraction > 0)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(o.Seed).Shuffle(order);
            int held = (int)Math.Round(train.Count * o.ValidationSetFraction);
            validation = train.Subset(order[..held].Order().ToArray());
            train = train.Subset(order[held..].Order().ToArray());
        }

        RandomSource.ManualSeed(o.Seed);
        var (model, pretrained) = o.Pretrained != null ? o.Pretrained.Build(o, classes, image) : (FromScratch(o, classes, image.Channels, train), []);
        try
        {
            var frozen = o.Pretrained != null ? o.FineTune.Apply(model, pretrained) : [];
            using var optimizer = CreateOptimizer(model, o);
            if (o.BodyLearningRate is float bodyRate)
            {
                optimizer.ScaleLearningRate(model.NamedParameters().Where(p => pretrained.Contains(p.Key) && !frozen.Contains(p.Key)).Select(p => p.Value), bodyRate / o.LearningRate);
            }
            int skipped = reader.Skipped;
            var history = Trainer.Fit(model, optimizer, train, validation, new TrainingOptions
            {
                Epochs = o.Epochs,
                BatchSize = o.BatchSize,
                Seed = o.Seed,
                Scheduler = o.LearningRateSchedule?.Invoke(optimizer),
                Augmentation = o.Augmentation?.ToBatchAugmentation(),
                Mixing = o.Mixing,
                LossFunction = o.LabelSmoothing == 0 ? null : (logits, labels) => Loss.CrossEntropy(logits, labels, labelSmoothing: o.LabelSmoothing),
                SoftTargetLossFunction = o.LabelSmoothing == 0 ? null : (logits, targets) => Loss.SoftTargetCrossEntropy(logits, targets * (1 - o.LabelSmoothing) + o.LabelSmoothing / classes),
                EarlyStopping = o.EarlyStopping,
                CheckpointFolder = o.WorkspacePath,
                EpochCompleted = o.MetricsCallback == null ? null : report => o.MetricsCallback(new ConvNetEpochMetrics(report, skipped)),
                BatchCompleted = o.BatchCallback,
                CancellationToken = o.CancellationToken,
                Device = o.Device,
                MixedPrecision = o.MixedPrecision,
            });
            if (o.ReportFolder != null)
            {
                WriteReport(o, model, history, validation, train);
            }
            model.Eval();
            var labelAnnotations = labelColumn.Annotations;
            return new ConvNetTransformer(model, _task, image, new ConvNetOutput(o.ScoreColumnName, o.PredictedLabelColumnName, classes, labelColumn.Type, labelAnnotations, keyValues, classNames),
                history, reader.SkippedImages)
            {
                TrainingSchema = input.Schema,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The user's or the zoo's network, behind an <see cref="InputStandardization"/> measured on the training images when asked.</summary>
    private static Module FromScratch(Options o, int classes, int channels, ImageDataset train)
    {
        var network = o.ModelFactory != null ? o.ModelFactory(classes, channels) : ModelZoo.Create(o.Architecture, new ModelOptions(classes, channels, o.SmallInput));
        return o.StandardizeInput ? new Sequential(InputStandardization.Measure(train), network) : network;
    }

    private static void WriteReport(Options o, Module model, TrainingHistory history, ImageDataset? validation, ImageDataset train)
    {
        var data = validation ?? train.Take(Math.Min(train.Count, 2000));
        string what = validation != null ? $"the {validation.Count} validation images" : $"the first {data.Count} training images (no validation data was given)";
        new Vision.TrainingReport(model, data, history)
        {
            Title = $"{(o.ModelFactory != null ? "Custom network" : o.Architecture)} training report",
            DataDescription = what,
        }.Write(o.ReportFolder!, o.CancellationToken);
    }

    private static Optimizer CreateOptimizer(Module model, Options o) => o.Optimizer switch
    {
        ConvNetOptimizer.Adam => new Adam(model.Parameters(), o.LearningRate, weightDecay: o.WeightDecay),
        ConvNetOptimizer.AdamW => new AdamW(model.Parameters(), o.LearningRate, weightDecay: o.WeightDecay),
        ConvNetOptimizer.Sgd => new Sgd(model.Parameters(), o.LearningRate, momentum: o.Momentum, weightDecay: o.WeightDecay),
        ConvNetOptimizer.RmsProp => new RmsProp(model.Parameters(), o.LearningRate, momentum: o.Momentum, weightDecay: o.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(o), $"Unknown optimizer {o.Optimizer}."),
    };
}

/// <summary>
/// The output columns of a trained ConvNet: names, the number of classes, and the label's type and annotations (so
/// that <c>PredictedLabel</c> is the label's key type with its key values).
/// </summary>
internal sealed record ConvNetOutput(string ScoreColumnName, string PredictedLabelColumnName, int Classes,
    DataViewType LabelType, DataViewSchema.Annotations LabelAnnotations, Array? KeyValues, string[] ClassNames)
{
    /// <summary>The binary task's probability column.</summary>
    public const string ProbabilityColumnName = "Probability";
}
