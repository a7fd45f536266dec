using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Training;

/// <summary>Settings of <see cref="Trainer.Fit"/>.</summary>
public sealed class TrainingOptions
{
    /// <summary>Passes over the training data (default 10).</summary>
    public int Epochs { get; set; } = 10;

    /// <summary>Samples per training step (default 64).</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Samples per evaluation batch (default 256); only memory and speed depend on it.</summary>
    public int EvaluationBatchSize { get; set; } = 256;

    /// <summary>
    /// Seed of the per-epoch shuffling (and augmentation): the same seed, model initialisation and data give the same
    /// training run. Seed the model's initialisation separately (before building it).
    /// </summary>
    public int Seed { get; set; }

    /// <summary>Shuffles the training data every epoch (default true).</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Skips a last training batch smaller than <see cref="BatchSize"/> (default false).</summary>
    public bool DropLast { get; set; }

    /// <summary>Batches prepared ahead on a background thread (default 2).</summary>
    public int PrefetchDepth { get; set; } = 2;

    /// <summary>
    /// The loss from logits <c>[N, classes]</c> and labels, a scalar to minimise; default
    /// <see cref="Loss.CrossEntropy"/> with mean reduction.
    /// </summary>
    public Func<Tensor, int[], Tensor>? LossFunction { get; set; }

    /// <summary>
    /// The soft-target loss used for batches mixed by <see cref="Mixing"/>: from logits <c>[N, classes]</c> and target
    /// probabilities <c>[N, classes]</c>; default <see cref="Loss.SoftTargetCrossEntropy"/> with mean reduction.
    /// </summary>
    public Func<Tensor, Tensor, Tensor>? SoftTargetLossFunction { get; set; }

    /// <summary>
    /// The learning-rate schedule of the optimizer passed to <see cref="Trainer.Fit"/>, e.g.
    /// <c>new StepLR(optimizer, stepSize: 2, gamma: 0.5f)</c> or <c>new OneCycleLR(optimizer, 0.01f)</c>. Fit first tells it
    /// the run's length (<see cref="LearningRateScheduler.SetTrainingLength"/>), then steps it after every epoch, or
    /// after every optimizer step when its <see cref="LearningRateScheduler.Stepping"/> is
    /// <see cref="SchedulerStepping.Batch"/>; an epoch step passes the validation loss (the training loss without
    /// validation data), which <see cref="ReduceLROnPlateau"/> watches.
    /// </summary>
    public LearningRateScheduler? Scheduler { get; set; }

    /// <summary>
    /// Optional in-place augmentation of each training batch on the loader's thread (never applied to evaluation):
    /// any <see cref="BatchAugmentation"/>, or an <see cref="ImageAugmentation"/> such as
    /// <c>new Compose(new RandomCrop(2, BorderMode.Reflect101), new RandomHorizontalFlip())</c>, which converts to one.
    /// </summary>
    public BatchAugmentation? Augmentation { get; set; }

    /// <summary>
    /// Optional mixing of each training batch (<see cref="Mixup"/>, <see cref="CutMix"/>) after
    /// <see cref="Augmentation"/>; mixed batches are trained with <see cref="SoftTargetLossFunction"/>, and the training
    /// accuracy counts the class each image had before mixing.
    /// </summary>
    public BatchMixing? Mixing { get; set; }

    /// <summary>Stops training between batches; <see cref="Trainer.Fit"/> then throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Receives a report after every epoch (through <see cref="IProgress{T}.Report"/>, which may post it elsewhere).</summary>
    public IProgress<EpochReport>? Progress { get; set; }

    /// <summary>Called on the training thread after every epoch, before the scheduler steps.</summary>
    public Action<EpochReport>? EpochCompleted { get; set; }

    /// <summary>Called on the training thread after every training step.</summary>
    public Action<BatchReport>? BatchCompleted { get; set; }

    /// <summary>Stops training early when the watched metric stops improving (null: run every epoch).</summary>
    public EarlyStoppingOptions? EarlyStopping { get; set; }

    /// <summary>
    /// A folder for checkpoints (created when missing): after every epoch whose watched metric (that of
    /// <see cref="EarlyStopping"/>, or the validation loss by default) is the best so far, the model's state dictionary
    /// is written atomically to <see cref="BestCheckpointFileName"/> there. Null: no checkpoints.
    /// </summary>
    public string? CheckpointFolder { get; set; }

    /// <summary>Restores the best epoch's weights (from memory) when training ends early or at the last epoch (default false).</summary>
    public bool RestoreBestWeights { get; set; }

    /// <summary>
    /// The device to train on: the model (parameters, buffers) is moved there before the first step and the batches are
    /// uploaded there. Null (default): the device the model is on. Metrics and reports are always host values.
    /// </summary>
    public Device? Device { get; set; }

    /// <summary>
    /// Mixed precision (default <see cref="MixedPrecision.None"/>): with <see cref="MixedPrecision.BFloat16"/> the
    /// forward and backward passes run under <see cref="Autocast.BFloat16"/> (see there for what runs in bf16) while the
    /// weights, gradients and optimizer state stay float32. Needs a CUDA device; refused on the CPU.
    /// </summary>
    public MixedPrecision MixedPrecision { get; set; }

    /// <summary>The file name of the best model's state dictionary in <see cref="CheckpointFolder"/>.</summary>
    public const string BestCheckpointFileName = "best.state";
}

/// <summary>Mixed-precision modes of training.</summary>
public enum MixedPrecision
{
    /// <summary>Everything in float32.</summary>
    None,

    /// <summary>bf16 autocast of convolutions and GEMMs with float32 master weights (CUDA only).</summary>
    BFloat16,
}
