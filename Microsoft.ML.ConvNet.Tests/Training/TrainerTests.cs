using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Training;

/// <summary>
/// The training loop on its own: a linear classifier, a plain gradient step and a cross-entropy, all written with
/// core tensor operations only, so these tests exercise the loop and not the layer library.
/// </summary>
[TestClass]
public sealed class TrainerTests
{
    /// <summary>logits[n, c] = Σ_f x[n, f]·W[c, f] + b[c], from broadcasting operations; records the modes it ran in.</summary>
    private sealed class LinearProbe : Module
    {
        private readonly Tensor _weight;
        private readonly Tensor _bias;
        private readonly int _classes;

        public LinearProbe(int features, int classes, int seed)
        {
            _classes = classes;
            _weight = RegisterParameter("weight", Tensor.RandomNormal(new Shape(classes, features), new Random(seed), 0f, 0.05f));
            _bias = RegisterParameter("bias", Tensor.Zeros(new Shape(classes)));
        }

        public List<(bool Training, bool Grad)> Calls { get; } = new();

        protected override Tensor ForwardCore(Tensor input)
        {
            Calls.Add((IsTraining, NoGradScope.IsGradEnabled));
            var x = input.Reshape(input.Shape[0], 1, -1);
            return (x * _weight.Reshape(1, _classes, -1)).Sum(2) + _bias;
        }
    }

    /// <summary>p ← p − lr·g.</summary>
    private sealed class PlainSgd(IEnumerable<Tensor> parameters, float learningRate) : Optimizer(parameters, learningRate)
    {
        protected override void Update(int index, Tensor parameter, Tensor gradient) => parameter.Backend.Axpy(-LearningRate, gradient, parameter);

        protected override void DisposeState()
        {
        }
    }

    /// <summary>Mean of −log softmax(logits)[label], via a one-hot mask.</summary>
    private static Tensor CrossEntropy(Tensor logits, int[] labels)
    {
        int n = logits.Shape[0], c = logits.Shape[1];
        var onehot = new float[n * c];
        for (int i = 0; i < n; i++)
        {
            onehot[i * c + labels[i]] = 1f;
        }
        var mask = Tensor.FromArray(onehot, new Shape(n, c)); // saved for the backward pass: the step's scope releases it
        return (Functional.LogSoftmax(logits, 1) * mask).Sum() * (-1f / n);
    }

    /// <summary>n images [1, 4, 4] of 3 classes: class k brightens row k (plus noise), so a linear model separates them.</summary>
    private static ImageDataset Stripes(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * 16];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            int k = rng.Next(3);
            y[i] = k;
            for (int p = 0; p < 16; p++)
            {
                x[i * 16 + p] = (float)(rng.NextDouble() * 0.6) + (p / 4 == k ? 0.8f : 0f);
            }
        }
        return new ImageDataset(x, new Shape(1, 4, 4), y, ["top", "second", "third"]);
    }

    private sealed class SynchronousProgress<T> : IProgress<T>
    {
        public List<T> Items { get; } = new();

        public void Report(T value) => Items.Add(value);
    }

    [TestMethod]
    public void LearnsASeparableProblemAndReportsEachEpoch()
    {
        var train = Stripes(300, 1);
        var valid = Stripes(90, 2);
        using var model = new LinearProbe(16, 3, seed: 3);
        using var sgd = new PlainSgd(model.Parameters(), 0.5f);
        var history = Trainer.Fit(model, sgd, train, valid, new TrainingOptions
        {
            Epochs = 4,
            BatchSize = 32,
            Seed = 7,
            LossFunction = CrossEntropy,
            Scheduler = new StepLR(sgd, stepSize: 1, gamma: 0.5f),
        });

        Assert.AreEqual(4, history.Epochs.Count);
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, history.Epochs.Select(e => e.Epoch).ToArray());
        CollectionAssert.AreEqual(new[] { 0.5, 0.25, 0.125, 0.0625 }, history.Epochs.Select(e => e.LearningRate).ToArray(), "the schedule steps after each epoch");
        Assert.IsTrue(history.Epochs.All(e => e.Samples == 300 && e.Epochs == 4 && e.ImagesPerSecond > 0 && e.TrainTime > TimeSpan.Zero));
        Assert.IsTrue(history.Final.TrainLoss < history.Epochs[0].TrainLoss, "the loss goes down");
        Assert.IsTrue(history.Final.TrainAccuracy >= 0.95, $"train accuracy {history.Final.TrainAccuracy}");
        Assert.IsTrue(history.Final.ValidationAccuracy >= 0.95, $"validation accuracy {history.Final.ValidationAccuracy}");
        Assert.IsNotNull(history.Final.ValidationLoss);
        for (int i = 1; i < 4; i++)
        {
            Assert.IsTrue(history.Epochs[i].Elapsed >= history.Epochs[i - 1].Elapsed);
        }
        StringAssert.StartsWith(history.Final.ToString(), "epoch 4/4  loss ");
        StringAssert.Contains(history.Final.ToString(), "val_acc");
        StringAssert.Contains(history.Final.ToString(), "img/s");

        // Training ran in training mode with gradients; validation in evaluation mode without; the mode is restored.
        Assert.IsTrue(model.Calls.Where(c => c.Training).All(c => c.Grad));
        Assert.IsTrue(model.Calls.Where(c => !c.Training).All(c => !c.Grad));
        Assert.AreEqual(4 * 10, model.Calls.Count(c => c.Training), "10 batches of 32 per epoch");
        Assert.IsTrue(model.IsTraining);
    }

    [TestMethod]
    public void SameSeedGivesTheSameRunAndAnotherSeedDoesNot()
    {
        var train = Stripes(200, 4);
        (double[] Losses, float[] Weights) Run(int seed)
        {
            using var model = new LinearProbe(16, 3, seed: 5);
            using var sgd = new PlainSgd(model.Parameters(), 0.3f);
            var h = Trainer.Fit(model, sgd, train, null, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = seed, LossFunction = CrossEntropy });
            return (h.Epochs.Select(e => e.TrainLoss).ToArray(), model.Parameters().SelectMany(p => p.ToArray()).ToArray());
        }
        var a = Run(1);
        var b = Run(1);
        var c = Run(2);
        CollectionAssert.AreEqual(a.Losses, b.Losses);
        CollectionAssert.AreEqual(a.Weights, b.Weights, "bitwise the same parameters");
        CollectionAssert.AreNotEqual(a.Losses, c.Losses, "another shuffling seed, another run");
    }

    [TestMethod]
    public void CallbacksSeeEveryStepAndEpoch()
    {
        var train = Stripes(100, 6);
        using var model = new LinearProbe(16, 3, seed: 1);
        using var sgd = new PlainSgd(model.Parameters(), 0.1f);
        var batches = new List<BatchReport>();
        var epochs = new List<EpochReport>();
        var progress = new SynchronousProgress<EpochReport>();
        var history = Trainer.Fit(model, sgd, train, null, new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 30,
            LossFunction = CrossEntropy,
            BatchCompleted = batches.Add,
            EpochCompleted = epochs.Add,
            Progress = progress,
        });
        Assert.AreEqual(8, batches.Count, "4 batches (30, 30, 30, 10) per epoch");
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }, batches.Select(b => b.Batch).ToArray());
        CollectionAssert.AreEqual(new[] { 30, 30, 30, 10, 30, 30, 30, 10 }, batches.Select(b => b.Samples).ToArray());
        Assert.IsTrue(batches.All(b => b.BatchCount == 4 && b.Accuracy is >= 0 and <= 1 && double.IsFinite(b.Loss)));
        // The running epoch loss of the last step is the epoch's mean loss, weighted by batch size.
        var first = batches.Take(4).ToList();
        Assert.AreEqual(first.Sum(b => b.Loss * b.Samples) / 100, first[^1].EpochLoss, 1e-9);
        Assert.AreEqual(history.Epochs[0].TrainLoss, first[^1].EpochLoss, 1e-12);
        Assert.AreEqual(history.Epochs[0].TrainAccuracy, first[^1].EpochAccuracy, 1e-12);
        CollectionAssert.AreEqual(history.Epochs.ToArray(), epochs);
        CollectionAssert.AreEqual(history.Epochs.ToArray(), progress.Items);
        Assert.IsNull(history.Final.ValidationAccuracy);
        Assert.IsFalse(history.Final.ToString().Contains("val_", StringComparison.Ordinal));
    }

    [TestMethod]
    public void CancellationStopsBetweenStepsWithoutLeakingMemory()
    {
        var train = Stripes(320, 8);
        using var model = new LinearProbe(16, 3, seed: 2);
        using var sgd = new PlainSgd(model.Parameters(), 0.1f);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 32, LossFunction = CrossEntropy };
        Trainer.Fit(model, sgd, train, null, options); // creates the gradient buffers
        long rented = BufferPool.Stats.RentedBytes;

        using var cts = new CancellationTokenSource();
        int steps = 0;
        options.Epochs = 5;
        options.CancellationToken = cts.Token;
        options.BatchCompleted = r =>
        {
            if (++steps == 3)
            {
                cts.Cancel();
            }
        };
        Assert.ThrowsExactly<OperationCanceledException>(() => Trainer.Fit(model, sgd, train, null, options));
        Assert.AreEqual(3, steps);
        Assert.AreEqual(rented, BufferPool.Stats.RentedBytes, "batches in flight and step intermediates are released");
    }

    [TestMethod]
    public void RentedMemoryStaysFlatAcrossEpochs()
    {
        var train = Stripes(250, 9);
        var valid = Stripes(50, 10);
        using var model = new LinearProbe(16, 3, seed: 4);
        using var sgd = new PlainSgd(model.Parameters(), 0.1f);
        var rented = new List<long>();
        var allocated = new List<long>();
        Trainer.Fit(model, sgd, train, valid, new TrainingOptions
        {
            Epochs = 6,
            BatchSize = 16,
            LossFunction = CrossEntropy,
            EpochCompleted = _ =>
            {
                rented.Add(BufferPool.Stats.RentedBytes);
                allocated.Add(BufferPool.Stats.AllocatedBytes);
            },
        });
        Assert.AreEqual(1, rented.Distinct().Count(), "rented bytes after each epoch: " + string.Join(", ", rented));
        Assert.AreEqual(1, allocated.Skip(1).Distinct().Count(), "allocated bytes after each epoch: " + string.Join(", ", allocated));
    }

    [TestMethod]
    public void NonFiniteLossStopsWithEpochAndBatch()
    {
        var train = Stripes(40, 11);
        using var model = new LinearProbe(16, 3, seed: 1);
        using var sgd = new PlainSgd(model.Parameters(), 0.1f);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Trainer.Fit(model, sgd, train, null, new TrainingOptions
        {
            Epochs = 1,
            BatchSize = 8,
            LossFunction = (logits, labels) => CrossEntropy(logits, labels) * float.NaN,
        }));
        StringAssert.Contains(e.Message, "epoch 1, batch 0");
    }

    [TestMethod]
    public void DropLastWithoutAFullBatchIsRejected()
    {
        using var model = new LinearProbe(16, 3, seed: 1);
        using var sgd = new PlainSgd(model.Parameters(), 0.1f);
        Assert.ThrowsExactly<ArgumentException>(() => Trainer.Fit(model, sgd, Stripes(10, 1), null,
            new TrainingOptions { BatchSize = 16, DropLast = true, LossFunction = CrossEntropy }));
    }

    [TestMethod]
    public void EvaluateReturnsPredictionsScoresAndConfusionWithoutGradients()
    {
        var data = Stripes(103, 12);
        using var model = new LinearProbe(16, 3, seed: 6);
        using var sgd = new PlainSgd(model.Parameters(), 0.5f);
        Trainer.Fit(model, sgd, Stripes(300, 13), null, new TrainingOptions { Epochs = 2, BatchSize = 32, LossFunction = CrossEntropy });
        model.Calls.Clear();
        foreach (var p in model.Parameters())
        {
            p.ZeroGrad();
        }

        var r = Trainer.Evaluate(model, data, batchSize: 10, lossFunction: CrossEntropy);
        Assert.AreEqual(11, model.Calls.Count, "103 samples in batches of 10");
        Assert.IsTrue(model.Calls.All(c => !c.Training && !c.Grad), "evaluation mode, no graph");
        Assert.IsTrue(model.IsTraining, "the training mode is restored");
        Assert.AreEqual(103, r.Count);
        Assert.AreEqual(3, r.ClassCount);
        Assert.AreEqual(103 * 3, r.Scores.Length);
        int[,] confusion = r.ConfusionCounts;
        Assert.AreEqual(3, confusion.GetLength(0));
        Assert.AreEqual(3, confusion.GetLength(1));
        Assert.AreEqual(103, confusion.Cast<int>().Sum());
        for (int i = 0; i < r.Count; i++)
        {
            var s = r.Scores.AsSpan(i * 3, 3);
            int argmax = s[0] >= s[1] && s[0] >= s[2] ? 0 : s[1] >= s[2] ? 1 : 2;
            Assert.AreEqual(argmax, r.Predictions[i], $"sample {i}");
        }
        for (int actual = 0; actual < 3; actual++)
        {
            for (int predicted = 0; predicted < 3; predicted++)
            {
                int expected = data.Labels.Zip(r.Predictions).Count(p => p.First == actual && p.Second == predicted);
                Assert.AreEqual(expected, confusion[actual, predicted], $"actual {actual}, predicted {predicted}");
            }
        }
        Assert.AreEqual(data.Labels.Zip(r.Predictions).Count(p => p.First == p.Second), r.Correct);
        Assert.AreEqual(r.Correct / 103.0, r.Accuracy, 1e-12);

        // The loss is the mean over samples of the per-sample loss, whatever the batching.
        using (new NoGradScope())
        using (new TensorScope())
        {
            var loss = CrossEntropy(model.Forward(data.ToTensor()), data.Labels);
            Assert.AreEqual(loss.ToScalar(), r.Loss, 1e-5);
        }

        var big = Trainer.Evaluate(model, data, batchSize: 1000, lossFunction: CrossEntropy);
        CollectionAssert.AreEqual(r.Predictions, big.Predictions);
        Microsoft.ML.ConvNet.Tests.Infrastructure.TensorAssert.AreClose(big.Scores, r.Scores, 1e-6, 1e-6, "scores by batch size");

        Assert.IsTrue(model.Parameters().All(p => p.Grad!.ToArray().All(v => v == 0f)), "no gradient reached the parameters");

        model.Eval();
        Trainer.Evaluate(model, data, lossFunction: CrossEntropy);
        Assert.IsFalse(model.IsTraining, "evaluation mode is kept when it was set");
    }
}
