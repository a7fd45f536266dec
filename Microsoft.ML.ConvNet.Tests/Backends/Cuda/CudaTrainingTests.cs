using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda.Memory;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>Training on the GPU: the CPU recipe's accuracy, bf16 autocast, and no device-memory growth. Needs a GPU.</summary>
[TestClass]
public sealed class CudaTrainingTests
{
    /// <summary>The CPU recipe's requirement (see FashionMnistEndToEndTests): 2 epochs on 4 000 images, 1 000 test images.</summary>
    private const double RequiredAccuracy = 0.75;

    /// <summary>How far the GPU run may land from the CPU run of the same recipe (different summation orders, same seeds).</summary>
    private const double AccuracyGap = 0.04;

    public TestContext TestContext { get; set; } = null!;

    private double TrainAndEvaluate(Device device, MixedPrecision precision)
    {
        string folder = FashionMnistTests.BundledFolder();
        var train = FashionMnist.Load(folder, DatasetSplit.Train, new FashionMnistOptions { Limit = 4000, Normalize = true });
        var test = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 1000, Normalize = true });
        RandomSource.ManualSeed(1);
        using var model = SmallCnn.Create();
        model.To(device);
        using var adam = new Adam(model.Parameters(), 1e-3f);
        var history = Trainer.Fit(model, adam, train, null, new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 64,
            Seed = 1,
            MixedPrecision = precision,
            CancellationToken = TestContext.CancellationToken,
        });
        Assert.IsTrue(history.Final.TrainLoss < history.Epochs[0].TrainLoss, $"training loss {history.Epochs[0].TrainLoss} → {history.Final.TrainLoss}");
        var result = Trainer.Evaluate(model, test);
        Console.WriteLine($"{device} {precision}: {string.Join("; ", history.Epochs)}; test accuracy {result.Accuracy:F4}");
        return result.Accuracy;
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void FashionMnistOnTheGpuReachesTheCpuRecipesAccuracy()
    {
        CudaTestEnvironment.RequireGpu();
        double gpu = TrainAndEvaluate(Device.Cuda(0), MixedPrecision.None);
        double cpu = TrainAndEvaluate(Device.Cpu, MixedPrecision.None);
        Assert.IsGreaterThanOrEqualTo(RequiredAccuracy, gpu, $"GPU test accuracy {gpu:F4}");
        Assert.IsLessThanOrEqualTo(AccuracyGap, Math.Abs(gpu - cpu), $"GPU {gpu:F4} vs CPU {cpu:F4}");
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void FashionMnistWithBf16AutocastReachesTheSameAccuracy()
    {
        CudaTestEnvironment.RequireGpu();
        double bf16 = TrainAndEvaluate(Device.Cuda(0), MixedPrecision.BFloat16);
        Assert.IsGreaterThanOrEqualTo(RequiredAccuracy, bf16, $"bf16 test accuracy {bf16:F4}");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(3)]
    public void BatchesUploadedOnTheCopyStreamEqualTheHostBatches(int prefetchDepth)
    {
        var backend = CudaTestEnvironment.RequireGpu();
        var data = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Test, new FashionMnistOptions { Limit = 700, Normalize = true });
        BatchAugmentation flip = (images, labels, shape, random) =>
        {
            if (random.Next(2) == 0)
            {
                images.Reverse();
            }
        };
        BatchLoader Loader(Device d) => new(data, new BatchLoaderOptions { BatchSize = 64, Seed = 5, PrefetchDepth = prefetchDepth, Device = d, Augmentation = flip });
        var host = Loader(Device.Cpu).GetBatches(1).Select(b => { using (b) { return (b.Images.ToArray(), b.Labels, b.Indices); } }).ToList();
        long allocatedBefore = backend.MemoryStats.AllocatedBytes;
        int i = 0;
        foreach (var b in Loader(Device.Cuda(0)).GetBatches(1))
        {
            using (b)
            {
                Assert.AreEqual(Device.Cuda(0), b.Images.Device);
                // A kernel reading the batch on the compute stream must see the uploaded values.
                using var doubled = b.Images * 2f;
                CollectionAssert.AreEqual(host[i].Item1.Select(v => v * 2f).ToArray(), doubled.ToArray(), $"batch {i}");
                CollectionAssert.AreEqual(host[i].Labels, b.Labels);
                CollectionAssert.AreEqual(host[i].Indices, b.Indices);
            }
            i++;
        }
        Assert.AreEqual(host.Count, i);
        Assert.AreEqual(allocatedBefore, backend.MemoryStats.AllocatedBytes, "every device batch was released");

        // Stopping early releases the batches still in flight.
        foreach (var b in Loader(Device.Cuda(0)).GetBatches(2))
        {
            b.Dispose();
            break;
        }
        backend.Synchronize();
        Assert.AreEqual(allocatedBefore, backend.MemoryStats.AllocatedBytes, "batches prepared ahead were released");
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void AThousandTrainingStepsDoNotGrowDeviceMemory()
    {
        var backend = CudaTestEnvironment.RequireGpu();
        var device = Device.Cuda(0);
        RandomSource.ManualSeed(3);
        using var model = SmallCnn.Create();
        model.To(device);
        using var adam = new Adam(model.Parameters(), 1e-3f);
        var rng = new Random(4);
        using var x = Tensor.RandomNormal(new Shape(32, 1, 28, 28), rng, device: device).Unscope();
        var labels = Enumerable.Range(0, 32).Select(_ => rng.Next(10)).ToArray();
        DeviceMemoryStats warm = default;
        for (int step = 0; step < 1000; step++)
        {
            TestContext.CancellationToken.ThrowIfCancellationRequested();
            using (new TensorScope())
            {
                adam.ZeroGrad();
                var loss = Loss.CrossEntropy(model.Forward(x), labels);
                loss.Backward();
                adam.Step();
            }
            if (step == 9)
            {
                warm = backend.MemoryStats;
            }
        }
        backend.Synchronize();
        var end = backend.MemoryStats;
        Console.WriteLine($"after 10 steps: {warm}; after 1000: {end}");
        Assert.AreEqual(warm.ReservedBytes, end.ReservedBytes, "reserved device memory grew");
        Assert.AreEqual(warm.SegmentAllocations, end.SegmentAllocations, "new device allocations after warm-up");
        Assert.AreEqual(warm.AllocatedBytes, end.AllocatedBytes, "tensors leaked between steps");
        Assert.IsGreaterThan(warm.CacheHits, end.CacheHits);
    }
}
