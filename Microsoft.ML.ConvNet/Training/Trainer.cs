using System.Diagnostics;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Training;

/// <summary>
/// The supervised training loop for classifiers and its evaluation counterpart.
/// <code>
/// var history = Trainer.Fit(model, new Adam(model.Parameters(), 1e-3f), train, test,
///     new TrainingOptions { Epochs = 5, BatchSize = 64, Seed = 1, EpochCompleted = r =&gt; Console.WriteLine(r) });
/// var result = Trainer.Evaluate(model, test);
/// Console.WriteLine($"accuracy {result.Accuracy:P2} ({result.Correct}/{result.Count})");
/// </code>
/// Each step runs inside a <see cref="TensorScope"/>, so its intermediates are released at once; metrics are
/// accumulated as numbers, never as tensors. With the same seeds and data a run is repeated exactly.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="TrainingOptions.Epochs"/> epochs,
    /// evaluating on <paramref name="validation"/> after each epoch when given.
    /// </summary>
    /// <returns>The per-epoch reports.</returns>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (the message names epoch and batch).</exception>
    public static TrainingHistory Fit(Module model, Optimizer optimizer, ImageDataset train, ImageDataset? validation = null, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new TrainingOptions();
        if (options.Epochs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"TrainingOptions.Epochs must be non-negative, got {options.Epochs}.");
        }
        if (train.Count == 0)
        {
            throw new ArgumentException("Fit: the training data is empty.", nameof(train));
        }
        if (options.Device is { } target)
        {
            model.To(target);
        }
        if (options.MixedPrecision == MixedPrecision.BFloat16 && DeviceOf(model).Type != DeviceType.Cuda)
        {
            throw new NotSupportedException($"Fit: MixedPrecision.BFloat16 needs a CUDA device; the model is on {DeviceOf(model)} (the CPU backend has no bf16 kernels).");
        }
        var lossFn = options.LossFunction ?? DefaultLoss;
        var ct = options.CancellationToken;
        var loader = new BatchLoader(train, new BatchLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = options.Shuffle,
            Seed = options.Seed,
            DropLast = options.DropLast,
            PrefetchDepth = options.PrefetchDepth,
            Device = DeviceOf(model),
            Augmentation = options.Augmentation,
            Mixing = options.Mixing,
        });
        var softLossFn = options.SoftTargetLossFunction ?? DefaultSoftLoss;
        if (loader.BatchCount == 0)
        {
            throw new ArgumentException($"Fit: {train.Count} training samples make no full batch of {options.BatchSize} with DropLast set.", nameof(train));
        }
        if (options.Scheduler is { } scheduler && !ReferenceEquals(scheduler.Optimizer, optimizer))
        {
            throw new ArgumentException("Fit: the scheduler in the options drives a different optimizer than the one passed to Fit.", nameof(options));
        }
        if (options.EarlyStopping is { } es && (es.Patience < 1 || !(es.MinDelta >= 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Fit: EarlyStopping needs Patience >= 1 and MinDelta >= 0, got {es.Patience} and {es.MinDelta}.");
        }
        var schedule = options.Scheduler;
        schedule?.SetTrainingLength(options.Epochs, loader.BatchCount);
        bool stepPerBatch = schedule?.Stepping == SchedulerStepping.Batch;
        var tracker = new BestMetricTracker(options.EarlyStopping?.Metric ?? EarlyStoppingMetric.ValidationLoss, options.EarlyStopping?.MinDelta ?? 0);
        if (options.CheckpointFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
        }
        Dictionary<string, float[]>? bestWeights = null;
        bool stoppedEarly = false;
        var reports = new List<EpochReport>();
        var total = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            double learningRate = optimizer.LearningRate;
            model.Train();
            var watch = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0;
            int seen = 0;
            foreach (var batch in loader.GetBatches(epoch - 1, ct))
            {
                double batchLoss;
                int batchCorrect;
                using (batch)
                using (new TensorScope())
                using (options.MixedPrecision == MixedPrecision.BFloat16 ? Autocast.BFloat16() : null)
                {
                    var logits = model.Forward(batch.Images);
                    Tensor loss;
                    if (batch.Targets is { } soft)
                    {
                        if (logits.Rank != 2 || soft.Length != logits.Size)
                        {
                            throw new InvalidOperationException(
                                $"Fit: the mixed batch has soft targets for {train.ClassCount} classes, but the model returned {logits.Shape}; a classifier must return [batch, classes] = [{batch.Count}, {train.ClassCount}].");
                        }
                        loss = softLossFn(logits, Tensor.FromArray(soft, logits.Shape, batch.Images.Device));
                    }
                    else
                    {
                        loss = lossFn(logits, batch.Labels);
                    }
                    batchLoss = loss.ToScalar();
                    if (!double.IsFinite(batchLoss))
                    {
                        throw new InvalidOperationException(
                            $"Fit: the loss became {batchLoss} at epoch {epoch}, batch {batch.Index}; lower the learning rate or check the data.");
                    }
                    batchCorrect = CountCorrect(logits, batch.Labels, "Fit");
                    optimizer.ZeroGrad();
                    loss.BackwardReleasingIntermediates(); // the logits were read above
                    optimizer.Step();
                    if (stepPerBatch)
                    {
                        schedule!.Step();
                    }
                }
                int n = batch.Count;
                lossSum += batchLoss * n;
                correct += batchCorrect;
                seen += n;
                options.BatchCompleted?.Invoke(new BatchReport(
                    epoch, batch.Index, loader.BatchCount, n, batchLoss, (double)batchCorrect / n,
                    lossSum / seen, (double)correct / seen, seen / Math.Max(watch.Elapsed.TotalSeconds, 1e-9)));
            }
            watch.Stop();
            var trainTime = watch.Elapsed;

            double? valLoss = null, valAcc = null;
            var valTime = TimeSpan.Zero;
            if (validation != null && validation.Count > 0)
            {
                EvaluationResult r;
                using (options.MixedPrecision == MixedPrecision.BFloat16 ? Autocast.BFloat16() : null)
                {
                    r = Evaluate(model, validation, options.EvaluationBatchSize, lossFn, ct);
                }
                valLoss = r.Loss;
                valAcc = r.Accuracy;
                valTime = r.Elapsed;
                model.Train();
            }
            var report = new EpochReport
            {
                Epoch = epoch,
                Epochs = options.Epochs,
                TrainLoss = lossSum / seen,
                TrainAccuracy = (double)correct / seen,
                ValidationLoss = valLoss,
                ValidationAccuracy = valAcc,
                Samples = seen,
                ImagesPerSecond = seen / Math.Max(trainTime.TotalSeconds, 1e-9),
                TrainTime = trainTime,
                ValidationTime = valTime,
                Elapsed = total.Elapsed,
                LearningRate = learningRate,
            };
            reports.Add(report);
            options.EpochCompleted?.Invoke(report);
            options.Progress?.Report(report);
            if (schedule != null && !stepPerBatch)
            {
                schedule.Step(valLoss ?? lossSum / seen);
            }
            if (tracker.Update(report))
            {
                if (options.CheckpointFolder is { } dir)
                {
                    model.SaveStateDict(Path.Combine(dir, TrainingOptions.BestCheckpointFileName));
                }
                if (options.RestoreBestWeights)
                {
                    bestWeights = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
                }
            }
            else if (options.EarlyStopping is { } stop && tracker.EpochsWithoutImprovement >= stop.Patience)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (bestWeights != null)
        {
            model.LoadStateDict(bestWeights);
        }
        return new TrainingHistory(reports, total.Elapsed, stoppedEarly, tracker.BestEpoch);
    }

    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="data"/> in evaluation mode without recording gradients, and
    /// returns the mean loss, the predictions, the scores, the number correct and the
    /// counts by actual and predicted class. The model's training/evaluation
    /// mode is restored afterwards.
    /// </summary>
    /// <param name="model">A classifier producing logits <c>[N, classes]</c>.</param>
    /// <param name="data">The samples and their labels.</param>
    /// <param name="batchSize">Samples per forward pass (memory only; results do not depend on it beyond float rounding of batch-wise kernels).</param>
    /// <param name="lossFunction">The loss (default cross-entropy with mean reduction).</param>
    /// <param name="cancellationToken">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    public static EvaluationResult Evaluate(Module model, ImageDataset data, int batchSize = 256,
        Func<Tensor, int[], Tensor>? lossFunction = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var lossFn = lossFunction ?? DefaultLoss;
        var loader = new BatchLoader(data, new BatchLoaderOptions
        {
            BatchSize = batchSize,
            Shuffle = false,
            PrefetchDepth = 1,
            Device = DeviceOf(model),
        });
        bool wasTraining = model.IsTraining;
        var watch = Stopwatch.StartNew();
        var predictions = new int[data.Count];
        float[]? scores = null;
        int classCount = 0;
        double lossSum = 0;
        model.Eval();
        try
        {
            using var noGrad = new NoGradScope();
            foreach (var batch in loader.GetBatches(0, cancellationToken))
            {
                using (batch)
                using (new TensorScope())
                {
                    var logits = model.Forward(batch.Images);
                    if (logits.Rank != 2 || logits.Shape[0] != batch.Count)
                    {
                        throw new InvalidOperationException($"Evaluate: the model returned {logits.Shape}; a classifier must return [batch, classes] = [{batch.Count}, C].");
                    }
                    if (scores == null)
                    {
                        classCount = logits.Shape[1];
                        scores = new float[(long)data.Count * classCount];
                    }
                    else if (logits.Shape[1] != classCount)
                    {
                        throw new InvalidOperationException($"Evaluate: the model returned {logits.Shape[1]} classes for one batch and {classCount} for another.");
                    }
                    var loss = lossFn(logits, batch.Labels);
                    lossSum += loss.ToScalar() * batch.Count;
                    var values = logits.ToArray();
                    var pred = logits.ArgMax(1);
                    for (int i = 0; i < batch.Count; i++)
                    {
                        int j = batch.Indices[i];
                        predictions[j] = pred[i];
                        values.AsSpan(i * classCount, classCount).CopyTo(scores.AsSpan(j * classCount, classCount));
                    }
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        int classes = Math.Max(classCount, data.ClassCount);
        var confusion = new int[classes, classes];
        for (int i = 0; i < predictions.Length; i++)
        {
            confusion[data.Labels[i], predictions[i]]++;
        }
        return new EvaluationResult(data.Count == 0 ? 0 : lossSum / data.Count, predictions, scores ?? [], classCount, confusion, watch.Elapsed);
    }

    private static Tensor DefaultLoss(Tensor logits, int[] labels) => Loss.CrossEntropy(logits, labels);

    private static Tensor DefaultSoftLoss(Tensor logits, Tensor targets) => Loss.SoftTargetCrossEntropy(logits, targets);

    private static Device DeviceOf(Module model) => model.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;

    private static int CountCorrect(Tensor logits, int[] labels, string op)
    {
        if (logits.Rank != 2 || logits.Shape[0] != labels.Length)
        {
            throw new InvalidOperationException($"{op}: the model returned {logits.Shape}; a classifier must return [batch, classes] = [{labels.Length}, C].");
        }
        var pred = logits.ArgMax(1);
        int c = 0;
        for (int i = 0; i < pred.Length; i++)
        {
            if (pred[i] == labels[i])
            {
                c++;
            }
        }
        return c;
    }
}
