using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Pipelines;

/// <summary><see cref="ConvNetTrainer.Options.BatchCallback"/>: one report per training step, in order.</summary>
[TestClass]
public sealed class ConvNetTrainerBatchCallbackTests
{
    [TestMethod]
    public void BatchCallback_ReportsEveryStepOfEveryEpochInOrder()
    {
        var ml = new ConvNetContext(seed: 1);
        var train = ml.Data.LoadFromFashionMnist(FashionMnistTests.BundledFolder(), DatasetSplit.Train,
            new FashionMnistOptions { Limit = 100, VerifyChecksums = false });
        var batches = new List<BatchReport>();
        var epochs = new List<EpochReport>();
        using var model = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            Architecture = "lenet5",
            SmallInput = true,
            Epochs = 2,
            BatchSize = 32,
            Seed = 1,
            BatchCallback = batches.Add,
            MetricsCallback = epochs.Add,
        }).Fit(train);

        // 100 images in batches of 32: 4 steps (32, 32, 32, 4) per epoch.
        Assert.HasCount(8, batches);
        for (int i = 0; i < batches.Count; i++)
        {
            Assert.AreEqual(i / 4 + 1, batches[i].Epoch, $"report {i}");
            Assert.AreEqual(i % 4, batches[i].Batch, $"report {i}");
            Assert.AreEqual(4, batches[i].BatchCount);
            Assert.AreEqual(i % 4 == 3 ? 4 : 32, batches[i].Samples);
        }
        // The last step's running loss is the epoch's loss.
        Assert.HasCount(2, epochs);
        Assert.AreEqual(epochs[0].TrainLoss, batches[3].EpochLoss, 1e-12);
        Assert.AreEqual(epochs[1].TrainAccuracy, batches[7].EpochAccuracy, 1e-12);
    }
}
