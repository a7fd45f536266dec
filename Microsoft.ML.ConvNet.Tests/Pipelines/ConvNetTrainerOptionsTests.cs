using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Pipelines;

/// <summary>
/// Each option of <see cref="ConvNetTrainer.Options"/> has an effect that a test can see: the optimizer settings give
/// the weights of a hand-built <see cref="Trainer.Fit"/> run, the seed repeats, the validation set is evaluated, the
/// early-stopping metric is the one watched. Small LeNet-5 runs on a few hundred Fashion-MNIST images.
/// </summary>
[TestClass]
public sealed class ConvNetTrainerOptionsTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ImageDataset Fashion(DatasetSplit split, int limit, int skip = 0)
    {
        var d = FashionMnist.Load(FashionMnistTests.BundledFolder(), split, new FashionMnistOptions { Limit = limit + skip, Normalize = true });
        return skip == 0 ? d : d.Subset([.. Enumerable.Range(skip, limit)]);
    }

    private ConvNetTrainer.Options LeNet(int epochs, int seed) => new()
    {
        Architecture = "lenet5",
        SmallInput = true,
        Epochs = epochs,
        BatchSize = 32,
        Seed = seed,
        CancellationToken = TestContext.CancellationToken,
    };

    private static Dictionary<string, float[]> Weights(Module model) => model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());

    private static void AssertSameWeights(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, string what)
    {
        CollectionAssert.AreEquivalent(expected.Keys.ToList(), actual.Keys.ToList(), what);
        foreach (var (name, values) in expected)
        {
            CollectionAssert.AreEqual(values, actual[name], $"{what}: {name}, bit for bit");
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void OptimizerLearningRateWeightDecayAndMomentumReachTheOptimizer()
    {
        var data = Fashion(DatasetSplit.Train, 96);
        var ml = new ConvNetContext(1);
        var view = ml.Data.LoadFromImageDataset(data);
        var cases = new (ConvNetOptimizer Kind, float Lr, float Wd, float Momentum, Func<IEnumerable<Tensor>, Optimizer> Make)[]
        {
            (ConvNetOptimizer.Adam, 2e-3f, 1e-2f, 0.9f, p => new Adam(p, 2e-3f, weightDecay: 1e-2f)),
            (ConvNetOptimizer.AdamW, 3e-3f, 5e-2f, 0.9f, p => new AdamW(p, 3e-3f, weightDecay: 5e-2f)),
            (ConvNetOptimizer.Sgd, 5e-2f, 1e-3f, 0.5f, p => new Sgd(p, 5e-2f, momentum: 0.5f, weightDecay: 1e-3f)),
            (ConvNetOptimizer.RmsProp, 1e-3f, 0f, 0.3f, p => new RmsProp(p, 1e-3f, momentum: 0.3f, weightDecay: 0f)),
        };
        var initial = new List<Dictionary<string, float[]>>();
        foreach (var c in cases)
        {
            var o = LeNet(1, 11);
            o.Optimizer = c.Kind;
            o.LearningRate = c.Lr;
            o.WeightDecay = c.Wd;
            o.Momentum = c.Momentum;
            using var fitted = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(view);

            // The same run by hand: seed, network, optimizer, Trainer.Fit.
            RandomSource.ManualSeed(11);
            using var model = ModelZoo.Create("lenet5", new ModelOptions(10, 1, SmallInput: true));
            initial.Add(Weights(model));
            using var optimizer = c.Make(model.Parameters());
            Trainer.Fit(model, optimizer, data, null, new TrainingOptions { Epochs = 1, BatchSize = 32, Seed = 11, CancellationToken = TestContext.CancellationToken });
            var expected = Weights(model);
            AssertSameWeights(expected, Weights(fitted.Model), c.Kind.ToString());
            Assert.IsFalse(expected.All(p => p.Value.SequenceEqual(initial[^1][p.Key])), $"{c.Kind}: the weights moved");
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void SeedRepeatsTheRunAndAnotherSeedDoesNot()
    {
        var ml = new ConvNetContext();
        var view = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 128));
        using var a = ml.MulticlassClassification.Trainers.ConvNet(LeNet(1, 5)).Fit(view);
        using var b = ml.MulticlassClassification.Trainers.ConvNet(LeNet(1, 5)).Fit(view);
        using var c = ml.MulticlassClassification.Trainers.ConvNet(LeNet(1, 6)).Fit(view);
        AssertSameWeights(Weights(a.Model), Weights(b.Model), "seed 5 twice");
        var wc = Weights(c.Model);
        Assert.IsFalse(Weights(a.Model).All(p => p.Value.SequenceEqual(wc[p.Key])), "seeds 5 and 6 differ");

        // Without Seed, the seeded context draws one: two contexts of the same seed train the same network.
        var noSeed = LeNet(1, 0);
        noSeed.Seed = null;
        using var d = new ConvNetContext(42).MulticlassClassification.Trainers.ConvNet(noSeed).Fit(view);
        using var e = new ConvNetContext(42).MulticlassClassification.Trainers.ConvNet(noSeed).Fit(view);
        AssertSameWeights(Weights(d.Model), Weights(e.Model), "context seed 42 twice");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void ValidationSetIsEvaluatedAfterEveryEpochAndMustMatchTheTrainingColumns()
    {
        var ml = new ConvNetContext(2);
        var train = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 160));
        var validationData = Fashion(DatasetSplit.Test, 64);
        var validation = ml.Data.LoadFromImageDataset(validationData);
        var reports = new List<EpochReport>();
        var o = LeNet(2, 3);
        o.ValidationSet = validation;
        o.ValidationFraction = 0.5;   // ignored: a validation set is given
        o.MetricsCallback = reports.Add;
        using var model = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(train);
        Assert.HasCount(2, reports, "one report per epoch");
        CollectionAssert.AreEqual(new[] { 1, 2 }, reports.Select(r => r.Epoch).ToArray());
        Assert.AreEqual(160, reports[0].Samples, "all training rows are trained on");

        // The last report's validation accuracy is the accuracy of the returned model on the validation set.
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(validation));
        Assert.IsNotNull(reports[1].ValidationAccuracy);
        Assert.AreEqual(metrics.MicroAccuracy, reports[1].ValidationAccuracy!.Value, 1e-9);
        Assert.AreEqual(metrics.LogLoss, reports[1].ValidationLoss!.Value, 1e-4, "cross-entropy of the same softmax");

        // A validation set whose columns differ from the training data's is refused before training, naming the column.
        var pixels16 = new ImageDataset(new float[4 * 256], new Shape(1, 16, 16), [0, 1, 2, 3], [.. FashionMnist.ClassNames]);
        o.ValidationSet = ml.Data.LoadFromImageDataset(pixels16);
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.MulticlassClassification.Trainers.ConvNet(o).Fit(train));
        Assert.AreEqual("Pixels", e.ColumnName);
        StringAssert.Contains(e.Message, "Schema mismatch for validation column 'Pixels': expected Vector<Single, 1, 28, 28> (as in the training data), got Vector<Single, 1, 16, 16>");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void ValidationFractionHoldsOutThatShareOfTheTrainingRows()
    {
        var ml = new ConvNetContext(2);
        var train = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 200));
        var reports = new List<EpochReport>();
        var o = LeNet(1, 3);
        o.ValidationFraction = 0.3;
        o.MetricsCallback = reports.Add;
        using var model = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(train);
        Assert.AreEqual(140, reports.Single().Samples, "70 % of 200 rows are trained on");
        Assert.IsNotNull(reports[0].ValidationLoss, "the other 60 are evaluated");

        o.ValidationFraction = 1;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ConvNet(o));
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void EarlyStoppingWatchesTheChosenMetric()
    {
        // Same seed, same data: both runs produce the same epochs; only the watched metric differs, and with it the best
        // epoch (whose weights are checkpointed in the workspace).
        var ml = new ConvNetContext(3);
        var train = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 96));
        var validation = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Test, 48));
        var runs = new Dictionary<EarlyStoppingMetric, (List<EpochReport> Reports, TrainingHistory History)>();
        foreach (var metric in new[] { EarlyStoppingMetric.ValidationLoss, EarlyStoppingMetric.ValidationAccuracy })
        {
            var reports = new List<EpochReport>();
            var o = LeNet(6, 4);
            o.LearningRate = 1e-2f;
            o.ValidationSet = validation;
            o.EarlyStopping = new EarlyStoppingOptions { Metric = metric, Patience = 10 };
            o.MetricsCallback = reports.Add;
            using var model = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(train);
            runs[metric] = (reports, model.TrainingHistory!);
        }
        var lossRun = runs[EarlyStoppingMetric.ValidationLoss];
        var accuracyRun = runs[EarlyStoppingMetric.ValidationAccuracy];
        CollectionAssert.AreEqual(lossRun.Reports.Select(r => r.ValidationLoss).ToArray(), accuracyRun.Reports.Select(r => r.ValidationLoss).ToArray(), "the same training");
        var losses = lossRun.Reports.Select(r => r.ValidationLoss!.Value).ToList();
        var accuracies = accuracyRun.Reports.Select(r => r.ValidationAccuracy!.Value).ToList();
        int lowestLoss = losses.IndexOf(losses.Min()) + 1;
        int highestAccuracy = accuracies.IndexOf(accuracies.Max()) + 1;
        TestContext.WriteLine($"losses {string.Join(", ", losses.Select(l => l.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}; accuracies {string.Join(", ", accuracies)}");
        Assert.AreNotEqual(lowestLoss, highestAccuracy, "precondition: the two metrics pick different epochs in this run");
        Assert.AreEqual(lowestLoss, lossRun.History.BestEpoch);
        Assert.AreEqual(highestAccuracy, accuracyRun.History.BestEpoch);

        // Patience: with a minimum improvement no epoch can reach, training stops after 1 + Patience epochs.
        foreach (var metric in new[] { EarlyStoppingMetric.ValidationLoss, EarlyStoppingMetric.ValidationAccuracy })
        {
            var reports = new List<EpochReport>();
            var o = LeNet(6, 4);
            o.ValidationSet = validation;
            o.EarlyStopping = new EarlyStoppingOptions { Metric = metric, Patience = 2, MinDelta = 100 };
            o.MetricsCallback = reports.Add;
            using var model = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(train);
            Assert.HasCount(3, reports, $"{metric}: epoch 1 sets the best, 2 and 3 do not beat it by 100");
            Assert.IsTrue(model.TrainingHistory!.StoppedEarly);
        }
    }
}
