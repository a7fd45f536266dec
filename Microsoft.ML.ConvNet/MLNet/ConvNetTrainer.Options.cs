using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet;

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

public sealed partial class ConvNetTrainer
{
    /// <summary>
    /// Settings of <see cref="ConvNetTrainer"/>. Names follow ML.NET's <c>ImageClassificationTrainer.Options</c> where
    /// that trainer has the same concept (<see cref="LabelColumnName"/>, <see cref="FeatureColumnName"/>,
    /// <see cref="ScoreColumnName"/>, <see cref="PredictedLabelColumnName"/>, <see cref="BatchSize"/>,
    /// <see cref="LearningRate"/>, <see cref="ValidationSet"/>, <see cref="ValidationSetFraction"/>,
    /// <see cref="MetricsCallback"/>, <see cref="WorkspacePath"/>).
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: a key (from <c>MapValueToKey</c>) for multiclass, a Boolean for binary classification (default "Label").</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>
        /// The image column (default "Features"): an <c>MLImage</c> (from <c>LoadImages</c>, optionally <c>ResizeImages</c>),
        /// raw encoded image bytes <c>VBuffer&lt;byte&gt;</c> (from <c>LoadRawImageBytes</c>), or a vector of Single of
        /// C·H·W pixels in planar order (from <c>ExtractPixels</c>, or any <c>[VectorType(c, h, w)]</c> column).
        /// </summary>
        public string FeatureColumnName { get; set; } = "Features";

        /// <summary>The output column of class probabilities (binary: the raw score) (default "Score").</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>The output column of the predicted label (default "PredictedLabel").</summary>
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

        /// <summary>A model zoo name (see <see cref="Models.ModelZoo.Names"/>; default "resnet18"); ignored when <see cref="ModelFactory"/> is set.</summary>
        public string Architecture { get; set; } = "resnet18";

        /// <summary>
        /// Builds the user's own network from (number of classes, input channels); it must return logits [N, classes].
        /// Any network built from the library's layers can be scored, saved and reloaded.
        /// </summary>
        public Func<int, int, Module>? ModelFactory { get; set; }

        /// <summary>
        /// A pretrained network to start from (transfer learning): weights for <see cref="Architecture"/>, an ONNX network,
        /// or <see cref="PretrainedModel.ResNet18ImageNet"/>. Its classifier is replaced by a new head for the label's
        /// classes; <see cref="FineTune"/> says which layers train. Null (default): the network starts from random weights.
        /// </summary>
        public PretrainedModel? Pretrained { get; set; }

        /// <summary>Which layers of the <see cref="Pretrained"/> network train (default <see cref="FineTuning.All"/>); the new head always does.</summary>
        public FineTuning FineTune { get; set; } = FineTuning.All;

        /// <summary>
        /// The learning rate of the pretrained layers that train (default: <see cref="LearningRate"/>, which the new head
        /// uses), e.g. a tenth of the head's so that fine-tuning does not undo what was learnt.
        /// </summary>
        public float? BodyLearningRate { get; set; }

        /// <summary>Uses the zoo's small-input stem (3×3 stride-1 first convolution, no initial pooling) for 28–64 px images.</summary>
        public bool SmallInput { get; set; }

        /// <summary>
        /// Height the images are resized to (ML.NET's <c>ResizeImages</c>) when the feature column is an image or raw
        /// bytes. Default: the column's own height when it has one, else the architecture's (299 for Inception v3, 28 for
        /// the small CNN and LeNet-5, 224 otherwise). For a vector column without a [C, H, W] shape it gives the shape.
        /// </summary>
        public int? ImageHeight { get; set; }

        /// <summary>Width, as <see cref="ImageHeight"/>.</summary>
        public int? ImageWidth { get; set; }

        /// <summary>Colour channels: 3 (red, green, blue planes) or 1 (grey, by ML.NET's <c>ConvertToGrayscale</c>). Default: from the column, else 3.</summary>
        public int? Channels { get; set; }

        /// <summary>Passes over the training data (default 10).</summary>
        public int Epochs { get; set; } = 10;

        /// <summary>
        /// Samples per training step (default 16; ML.NET's own image classification trainer uses 10). Small batches give
        /// small data sets enough optimizer steps: on 3 000 images, LeNet-5 for 8 epochs reaches 0.844–0.850 held-out
        /// accuracy with 16 and 0.828–0.835 with 64 (the other defaults unchanged). Raise it for large data sets, where
        /// larger batches run faster per image.
        /// </summary>
        public int BatchSize { get; set; } = 16;

        /// <summary>The learning rate: the peak of the default one-cycle schedule, or the rate throughout without one (default 0.003).</summary>
        public float LearningRate { get; set; } = 3e-3f;

        /// <summary>The optimizer (default Adam).</summary>
        public ConvNetOptimizer Optimizer { get; set; } = ConvNetOptimizer.Adam;

        /// <summary>Weight decay (default 0): an L2 term for Adam, SGD and RMSProp, decoupled for AdamW.</summary>
        public float WeightDecay { get; set; }

        /// <summary>Momentum of SGD and RMSProp (default 0.9; ignored by Adam and AdamW).</summary>
        public float Momentum { get; set; } = 0.9f;

        /// <summary>
        /// The learning-rate schedule, built for the trainer's optimizer, e.g. <c>opt =&gt; new StepLR(opt, 3, 0.1f)</c> or
        /// <see cref="CosineSchedule"/>; it is stepped after every epoch, or after every optimizer step when it steps per
        /// batch, and a schedule of open length spans the run. Default <see cref="OneCycleSchedule"/>; null keeps the rate
        /// constant.
        /// </summary>
        public Func<Optimizer, LearningRateScheduler>? LearningRateSchedule { get; set; } = OneCycleSchedule;

        /// <summary>
        /// One cycle over the whole run, per step, peaking at the optimizer's learning rate: <c>new OneCycleLR(optimizer,
        /// optimizer.LearningRate)</c>. On 3 000 Fashion-MNIST images LeNet-5 reaches 0.84 held-out accuracy in 8 epochs
        /// with it at 0.003, and 0.81 at a constant 0.001.
        /// </summary>
        public static LearningRateScheduler OneCycleSchedule(Optimizer optimizer) => new OneCycleLR(optimizer, optimizer.LearningRate);

        /// <summary>Cosine annealing to 0 over the whole run, per step: <c>new CosineAnnealingLR(optimizer, stepping: SchedulerStepping.Batch)</c>.</summary>
        public static LearningRateScheduler CosineSchedule(Optimizer optimizer) => new CosineAnnealingLR(optimizer, stepping: SchedulerStepping.Batch);

        /// <summary>
        /// Augmentation of the training images, applied per image on the batch loader's thread and never at validation,
        /// evaluation or prediction, e.g. <see cref="StandardAugmentation"/> or
        /// <c>new Compose(new RandomCrop(4, BorderMode.Reflect101), new RandomRotation(10))</c> (default null: none; augmentation
        /// pays off in longer runs).
        /// </summary>
        public ImageAugmentation? Augmentation { get; set; }

        /// <summary>
        /// A random shift by up to a tenth of the image's shorter side (a reflect-padded crop) and a horizontal flip with
        /// probability 0.5: <c>new Compose(RandomCrop.Relative(0.1, BorderMode.Reflect101), new RandomHorizontalFlip())</c>.
        /// Leave out the flip for images whose meaning changes when mirrored (digits, text).
        /// </summary>
        public static ImageAugmentation StandardAugmentation { get; } = new Compose(RandomCrop.Relative(0.1, BorderMode.Reflect101), new RandomHorizontalFlip());

        /// <summary>
        /// Label smoothing ε in [0, 1) of the cross-entropy (PyTorch's <c>label_smoothing</c>): the target puts 1 − ε on the
        /// label and spreads ε evenly over all classes; mixed batches' soft targets are smoothed the same way (default 0.1).
        /// </summary>
        public float LabelSmoothing { get; set; } = 0.1f;

        /// <summary>
        /// Puts an <see cref="InputStandardization"/> in front of the network, with each channel's mean and standard deviation
        /// measured on the training images, so that it trains on zero-mean, unit-variance inputs; it is saved with the
        /// network and applied when scoring (default true). Not used for <see cref="Pretrained"/> networks, which keep the
        /// preprocessing they were trained with.
        /// </summary>
        public bool StandardizeInput { get; set; } = true;

        /// <summary>Optional batch mixing (<see cref="Mixup"/>, <see cref="CutMix"/>), trained with the soft-target cross-entropy (default none).</summary>
        public BatchMixing? Mixing { get; set; }

        /// <summary>
        /// Validation rows, evaluated after every epoch. They need the columns the trainer sees, so pass them through the
        /// pipeline's earlier steps fitted on the training data (e.g. <c>mapValueToKey.Fit(train).Transform(validation)</c>),
        /// as for ML.NET's own image classification trainer.
        /// </summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>Without a <see cref="ValidationSet"/>, the fraction of the training rows (drawn with <see cref="Seed"/>) held out for validation (default 0). Must be in [0, 1).</summary>
        public double ValidationSetFraction { get; set; }

        /// <summary>Stops when the watched metric stops improving (null: every epoch runs). Without validation data the training metric is watched.</summary>
        public EarlyStoppingOptions? EarlyStopping { get; set; }

        /// <summary>Called after every epoch with its report (loss, accuracy, throughput, skipped rows).</summary>
        public Action<ConvNetEpochMetrics>? MetricsCallback { get; set; }

        /// <summary>Called after every training step (batch index, running loss and accuracy), e.g. for a progress bar.</summary>
        public Action<BatchReport>? BatchCallback { get; set; }

        /// <summary>The device to train and score on: CPU, CUDA or auto (default: a GPU when CUDA is usable, else the CPU).</summary>
        public Device Device { get; set; } = Device.Auto;

        /// <summary>Mixed precision of training (CUDA only).</summary>
        public MixedPrecision MixedPrecision { get; set; }

        /// <summary>
        /// Seed of the weight initialisation, the shuffling and the validation split (default 0). ML.NET does not show an
        /// <c>MLContext</c>'s seed to extensions, so set it here for runs that differ.
        /// </summary>
        public int Seed { get; set; }

        /// <summary>A folder for checkpoints: the best epoch's weights are written there atomically (null: none).</summary>
        public string? WorkspacePath { get; set; }

        /// <summary>
        /// A folder for a training report (<see cref="Vision.TrainingReport"/>, created when missing): after training, an
        /// HTML page with PNG pictures of the loss, accuracy and learning rate per epoch, the confusion matrix, filters,
        /// feature maps, the most confidently wrong images and saliency maps, evaluated on the validation rows (or, without
        /// any, on up to 2000 training rows). Null (default): no report.
        /// </summary>
        public string? ReportFolder { get; set; }

        /// <summary>
        /// Skips training and validation rows whose image cannot be read (a missing or undecodable file, an empty path,
        /// raw image bytes that are truncated) instead of failing; the count is reported in
        /// <see cref="ConvNetEpochMetrics.SkippedRows"/> and <see cref="ConvNetTransformer.SkippedRows"/>, and each row
        /// with its file and the reason in <see cref="ConvNetTransformer.SkippedImages"/> (default false: such a row is an
        /// error naming the row and its file). A truncated file that ML.NET's <c>LoadImages</c> decodes (SkiaSharp fills
        /// the missing rows with grey) reaches the trainer as an image; check such files first with
        /// <see cref="IO.ImageFile.Check(string)"/>, as the <c>convnet</c> command does.
        /// </summary>
        public bool SkipUnreadableImages { get; set; }

        /// <summary>Stops training between batches with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }
    }
}

/// <summary>What <see cref="ConvNetTrainer.Options.MetricsCallback"/> receives after every epoch.</summary>
/// <param name="Epoch">The epoch's report: losses, accuracies, throughput, learning rate.</param>
/// <param name="SkippedRows">Training and validation rows skipped because their image could not be read.</param>
public sealed record ConvNetEpochMetrics(EpochReport Epoch, int SkippedRows)
{
    /// <inheritdoc/>
    public override string ToString() => SkippedRows == 0 ? Epoch.ToString() : $"{Epoch}  skipped_rows {SkippedRows}";
}
