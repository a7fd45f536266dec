using System.Globalization;
using System.Text;

namespace Microsoft.ML.ConvNet.Training;

/// <summary>What happened in one training epoch.</summary>
public sealed record EpochReport
{
    /// <summary>The epoch, from 1.</summary>
    public required int Epoch { get; init; }

    /// <summary>Number of epochs of the run.</summary>
    public required int Epochs { get; init; }

    /// <summary>Mean training loss over the epoch's samples (the model changes during the epoch).</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Fraction of the epoch's training samples classified correctly while training.</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Loss on the validation data after the epoch, if any was given.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Accuracy on the validation data after the epoch, if any was given.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Training samples processed in the epoch.</summary>
    public required int Samples { get; init; }

    /// <summary>Training throughput: samples per second of the training part of the epoch.</summary>
    public required double ImagesPerSecond { get; init; }

    /// <summary>Duration of the training part of the epoch.</summary>
    public required TimeSpan TrainTime { get; init; }

    /// <summary>Duration of the validation after the epoch (zero without validation data).</summary>
    public TimeSpan ValidationTime { get; init; }

    /// <summary>Time since training started, at the end of this epoch.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>The learning rate used during the epoch.</summary>
    public required double LearningRate { get; init; }

    /// <summary>One line: epoch, losses, accuracies, learning rate, throughput and times.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"epoch {Epoch}/{Epochs}  loss {TrainLoss:F4}  acc {TrainAccuracy:F4}");
        if (ValidationLoss is double vl && ValidationAccuracy is double va)
        {
            sb.Append(inv, $"  val_loss {vl:F4}  val_acc {va:F4}");
        }
        sb.Append(inv, $"  lr {LearningRate:G4}  {ImagesPerSecond:F0} img/s  {TrainTime.TotalSeconds:F1} s  (elapsed {Elapsed.TotalSeconds:F1} s)");
        return sb.ToString();
    }
}

/// <summary>What happened in one training step.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The step's batch within the epoch, from 0.</param>
/// <param name="BatchCount">Batches in the epoch.</param>
/// <param name="Samples">Samples in this batch.</param>
/// <param name="Loss">The batch's loss.</param>
/// <param name="Accuracy">Fraction of the batch classified correctly.</param>
/// <param name="EpochLoss">Mean loss of the epoch so far.</param>
/// <param name="EpochAccuracy">Accuracy of the epoch so far.</param>
/// <param name="ImagesPerSecond">Throughput of the epoch so far.</param>
public readonly record struct BatchReport(
    int Epoch, int Batch, int BatchCount, int Samples, double Loss, double Accuracy, double EpochLoss, double EpochAccuracy, double ImagesPerSecond);

/// <summary>The reports of every epoch of a <see cref="Trainer.Fit"/> run.</summary>
public sealed class TrainingHistory
{
    internal TrainingHistory(IReadOnlyList<EpochReport> epochs, TimeSpan elapsed, bool stoppedEarly = false, int bestEpoch = 0)
    {
        Epochs = epochs;
        Elapsed = elapsed;
        StoppedEarly = stoppedEarly;
        BestEpoch = bestEpoch;
    }

    /// <summary>Whether early stopping ended the run before the last epoch.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The epoch with the best watched metric (see <see cref="TrainingOptions.EarlyStopping"/>; validation loss by default); 0 when no epoch ran.</summary>
    public int BestEpoch { get; }

    /// <summary>One report per epoch, in order.</summary>
    public IReadOnlyList<EpochReport> Epochs { get; }

    /// <summary>The last epoch's report (throws <see cref="ArgumentOutOfRangeException"/> when no epoch ran).</summary>
    public EpochReport Final => Epochs[^1];

    /// <summary>Total time of the run.</summary>
    public TimeSpan Elapsed { get; }
}

/// <summary>The outcome of <see cref="Trainer.Evaluate"/>.</summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(double loss, int[] predictions, float[] scores, int classCount, int[,] confusionCounts, TimeSpan elapsed)
    {
        Loss = loss;
        Predictions = predictions;
        Scores = scores;
        ClassCount = classCount;
        ConfusionCounts = confusionCounts;
        for (int c = 0; c < confusionCounts.GetLength(0); c++)
        {
            Correct += confusionCounts[c, c];
        }
        Elapsed = elapsed;
    }

    /// <summary>Mean loss over the samples.</summary>
    public double Loss { get; }

    /// <summary>Fraction of samples classified correctly.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>Number of samples classified correctly.</summary>
    public int Correct { get; }

    /// <summary>Number of samples evaluated.</summary>
    public int Count => Predictions.Length;

    /// <summary>The predicted class of each sample (argmax of its scores), in data-set order.</summary>
    public int[] Predictions { get; }

    /// <summary>The model's outputs (logits), <c>[Count, ClassCount]</c> row-major, in data-set order.</summary>
    public float[] Scores { get; }

    /// <summary>Number of model outputs per sample.</summary>
    public int ClassCount { get; }

    /// <summary>
    /// Sample counts by actual class (first index) and predicted class (second index), as many classes on each axis as
    /// the larger of <see cref="ClassCount"/> and the data set's class count. Per-class and averaged metrics are
    /// ML.NET's: <c>MLContext.MulticlassClassification.Evaluate</c>.
    /// </summary>
    public int[,] ConfusionCounts { get; }

    /// <summary>Time taken.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Images per second.</summary>
    public double ImagesPerSecond => Elapsed.TotalSeconds > 0 ? Count / Elapsed.TotalSeconds : 0;
}
