using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Training;

[TestClass]
public sealed class EarlyStoppingTests
{
    private static ImageDataset Random(int n, int seed)
    {
        var rng = new Random(seed);
        var images = new float[n * 8];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(3);
            for (int j = 0; j < 8; j++)
            {
                images[i * 8 + j] = (float)rng.NextDouble() + (j == labels[i] ? 1 : 0);
            }
        }
        return new ImageDataset(images, new Shape(8), labels, ["a", "b", "c"]);
    }

    [TestMethod]
    public void StopsAfterPatienceAndRestoresTheBestWeights()
    {
        RandomSource.ManualSeed(7);
        using var model = new Sequential(new Linear(8, 3));
        using var sgd = new Sgd(model.Parameters(), 0.1f);
        float[]? atBest = null;
        var history = Trainer.Fit(model, sgd, Random(64, 1), Random(32, 2), new TrainingOptions
        {
            Epochs = 20,
            BatchSize = 16,
            EarlyStopping = new EarlyStoppingOptions { Patience = 2, Metric = EarlyStoppingMetric.ValidationAccuracy, MinDelta = 2 },
            RestoreBestWeights = true,
            EpochCompleted = r =>
            {
                if (r.Epoch == 1)
                {
                    atBest = model.StateDict()["0.weight"].ToArray();
                }
            },
        });
        Assert.HasCount(3, history.Epochs, "epoch 1 is the best; epochs 2 and 3 exhaust a patience of 2");
        Assert.IsTrue(history.StoppedEarly);
        Assert.AreEqual(1, history.BestEpoch);
        CollectionAssert.AreEqual(atBest, model.StateDict()["0.weight"].ToArray(), "the best epoch's weights are restored");
    }

    [TestMethod]
    public void RunsEveryEpochWithoutEarlyStoppingAndRejectsBadSettings()
    {
        RandomSource.ManualSeed(8);
        using var model = new Sequential(new Linear(8, 3));
        using var sgd = new Sgd(model.Parameters(), 0.1f);
        var history = Trainer.Fit(model, sgd, Random(32, 3), null, new TrainingOptions { Epochs = 3, BatchSize = 16 });
        Assert.HasCount(3, history.Epochs);
        Assert.IsFalse(history.StoppedEarly);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer.Fit(model, sgd, Random(32, 3), null,
            new TrainingOptions { Epochs = 1, EarlyStopping = new EarlyStoppingOptions { Patience = 0 } }));
    }
}
