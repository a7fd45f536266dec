using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Training;

/// <summary>
/// A long run of small training steps must not grow memory: after the first epoch every buffer a step needs
/// comes back from the <see cref="BufferPool"/>, and every tensor a step creates is returned to it.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class MemoryTests
{
    [TestMethod]
    public void PoolStopsGrowingAfterWarmUp()
    {
        // 1 202 random 8×8 images in batches of 4: 301 steps per epoch, the last one a batch of 2.
        var rng = new Random(3);
        const int n = 1202;
        var images = new float[n * 64];
        Tensor.FillNormal(images, rng, 0f, 1f);
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(4)).ToArray();
        var data = new ImageDataset(images, new Shape(1, 8, 8), labels, ["a", "b", "c", "d"]);
        var valid = data.Take(50);

        RandomSource.ManualSeed(1);
        using var model = new Sequential(
            new Conv2d(1, 4, 3, 1, 1),
            new BatchNorm2d(4),
            new ReLU(),
            new MaxPool2d(2, 2),
            new Flatten(),
            new Linear(4 * 4 * 4, 16),
            new ReLU(),
            new Dropout(0.1f),
            new Linear(16, 4));
        using var adam = new Adam(model.Parameters(), 1e-3f);

        var allocatedAfterEpoch = new List<long>();
        var rentedAfterEpoch = new List<long>();
        var allocationsAfterEpoch = new List<long>();
        int steps = 0;
        Trainer.Fit(model, adam, data, valid, new TrainingOptions
        {
            Epochs = 4,
            BatchSize = 4,
            Seed = 1,
            BatchCompleted = r =>
            {
                steps++;
            },
            EpochCompleted = _ =>
            {
                var s = BufferPool.Stats;
                allocatedAfterEpoch.Add(s.AllocatedBytes);
                allocationsAfterEpoch.Add(s.Allocations);
                rentedAfterEpoch.Add(s.RentedBytes);
            },
        });

        Assert.AreEqual(4 * 301, steps);
        Assert.AreEqual(1, rentedAfterEpoch.Distinct().Count(), "bytes held by live tensors after each epoch: " + string.Join(", ", rentedAfterEpoch));
        // Kernels rent scratch buffers on worker threads, so how many are live at once can differ by a buffer or
        // two between epochs; a leak (a buffer per step) would show as hundreds of allocations per epoch.
        long laterAllocations = allocationsAfterEpoch[^1] - allocationsAfterEpoch[0];
        Assert.IsTrue(laterAllocations <= 4, $"the pool allocated {laterAllocations} buffers after the first epoch ({string.Join(", ", allocatedAfterEpoch)} bytes after each epoch)");
    }
}
