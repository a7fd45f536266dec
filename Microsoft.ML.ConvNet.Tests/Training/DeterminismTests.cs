using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.ConvNet.Tests.Data;

namespace Microsoft.ML.ConvNet.Tests.Training;

[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    public void SameSeedGivesBitIdenticalWeightsThroughTheParallelKernels()
    {
        // Batches of 64 take the multi-threaded convolution paths (filter gradients summed per slice of images).
        var train = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Train, new FashionMnistOptions { Limit = 640, Normalize = true });
        var first = TrainOnce(train);
        var second = TrainOnce(train);
        foreach (var (name, values) in first)
        {
            CollectionAssert.AreEqual(values, second[name], $"{name} differs between two runs with the same seed");
        }
    }

    private static Dictionary<string, float[]> TrainOnce(ImageDataset train)
    {
        RandomSource.ManualSeed(5);
        using var model = SmallCnn.Create();
        using var adam = new Adam(model.Parameters(), 1e-3f);
        Trainer.Fit(model, adam, train, null, new TrainingOptions { Epochs = 1, BatchSize = 64, Seed = 5 });
        return model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
    }
}
