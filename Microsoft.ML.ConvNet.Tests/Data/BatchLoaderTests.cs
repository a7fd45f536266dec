using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Data;

[TestClass]
public sealed class BatchLoaderTests
{
    /// <summary>n samples of shape [2, 3]; sample i holds i·10 + k at position k, its label is i mod 4.</summary>
    private static ImageDataset Numbered(int n)
    {
        var images = new float[n * 6];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < 6; k++)
            {
                images[i * 6 + k] = i * 10 + k;
            }
            labels[i] = i % 4;
        }
        return new ImageDataset(images, new Shape(2, 3), labels, ["a", "b", "c", "d"]);
    }

    /// <summary>Every batch of an epoch: sample indices, checking each batch's images and labels against them.</summary>
    private static List<int[]> Epoch(BatchLoader loader, int epoch, ImageDataset data)
    {
        var batches = new List<int[]>();
        foreach (var batch in loader.GetBatches(epoch))
        {
            using (batch)
            {
                Assert.AreEqual(batches.Count, batch.Index);
                Assert.AreEqual(epoch, batch.Epoch);
                CollectionAssert.AreEqual(new[] { batch.Count, 2, 3 }, batch.Images.Shape.Dims.ToArray());
                var x = batch.Images.ToArray();
                for (int i = 0; i < batch.Count; i++)
                {
                    int j = batch.Indices[i];
                    Assert.AreEqual(data.Labels[j], batch.Labels[i]);
                    CollectionAssert.AreEqual(data.GetImage(j).ToArray(), x.AsSpan(i * 6, 6).ToArray(), $"batch {batch.Index} row {i}");
                }
                batches.Add(batch.Indices);
            }
        }
        return batches;
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    public void EveryEpochCoversEverySampleOnce(int prefetch)
    {
        var data = Numbered(103);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 10, Seed = 5, PrefetchDepth = prefetch });
        Assert.AreEqual(11, loader.BatchCount);
        Assert.AreEqual(103, loader.SamplesPerEpoch);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var batches = Epoch(loader, epoch, data);
            Assert.AreEqual(11, batches.Count);
            Assert.IsTrue(batches.Take(10).All(b => b.Length == 10));
            Assert.AreEqual(3, batches[^1].Length, "the last batch holds the remainder");
            CollectionAssert.AreEqual(Enumerable.Range(0, 103).ToArray(), batches.SelectMany(b => b).Order().ToArray());
            CollectionAssert.AreEqual(loader.EpochOrder(epoch), batches.SelectMany(b => b).ToArray());
        }
    }

    [TestMethod]
    public void SameSeedSameOrderAndEpochsDiffer()
    {
        var data = Numbered(64);
        var a = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, Seed = 11 });
        var b = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, Seed = 11, PrefetchDepth = 0 });
        var c = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, Seed = 12 });
        var a0 = Epoch(a, 0, data).SelectMany(x => x).ToArray();
        var a1 = Epoch(a, 1, data).SelectMany(x => x).ToArray();
        CollectionAssert.AreEqual(a0, Epoch(b, 0, data).SelectMany(x => x).ToArray(), "same seed and epoch, same order (prefetch or not)");
        CollectionAssert.AreEqual(a1, Epoch(b, 1, data).SelectMany(x => x).ToArray());
        CollectionAssert.AreNotEqual(a0, a1, "a new order each epoch");
        CollectionAssert.AreNotEqual(a0, Epoch(c, 0, data).SelectMany(x => x).ToArray(), "another seed, another order");
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 64).ToArray(), a0, "shuffled");
    }

    [TestMethod]
    public void NoShuffleKeepsDataOrder()
    {
        var data = Numbered(25);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 7, Shuffle = false });
        var batches = Epoch(loader, 4, data);
        CollectionAssert.AreEqual(Enumerable.Range(0, 25).ToArray(), batches.SelectMany(b => b).ToArray());
        CollectionAssert.AreEqual(new[] { 7, 7, 7, 4 }, batches.Select(b => b.Length).ToArray());
    }

    [TestMethod]
    public void DropLastSkipsThePartialBatch()
    {
        var data = Numbered(25);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 7, DropLast = true, Seed = 2 });
        Assert.AreEqual(3, loader.BatchCount);
        Assert.AreEqual(21, loader.SamplesPerEpoch);
        var batches = Epoch(loader, 0, data);
        Assert.AreEqual(3, batches.Count);
        Assert.IsTrue(batches.All(b => b.Length == 7));
        Assert.AreEqual(21, batches.SelectMany(b => b).Distinct().Count());

        var exact = new BatchLoader(Numbered(21), new BatchLoaderOptions { BatchSize = 7 });
        Assert.AreEqual(3, exact.BatchCount, "no empty batch when the size divides the count");
    }

    [TestMethod]
    public void BatchesArePreparedOnAnotherThreadAndAugmented()
    {
        var data = Numbered(40);
        int consumer = Environment.CurrentManagedThreadId;
        var augmentThreads = new System.Collections.Concurrent.ConcurrentBag<int>();
        var loader = new BatchLoader(data, new BatchLoaderOptions
        {
            BatchSize = 8,
            Seed = 3,
            PrefetchDepth = 2,
            Augmentation = (images, labels, shape, random) =>
            {
                augmentThreads.Add(Environment.CurrentManagedThreadId);
                Assert.AreEqual(shape.Size, images.Length);
                for (int i = 0; i < images.Length; i++)
                {
                    images[i] = -images[i];
                }
            },
        });
        int count = 0;
        foreach (var batch in loader.GetBatches(0))
        {
            using (batch)
            {
                Assert.AreNotEqual(consumer, batch.PreparedOnThreadId, "prefetched batches are gathered on a background thread");
                var x = batch.Images.ToArray();
                Assert.AreEqual(-data.GetImage(batch.Indices[0])[1], x[1], "the augmentation changed the batch");
                count++;
            }
        }
        Assert.AreEqual(5, count);
        Assert.AreEqual(5, augmentThreads.Count);
        Assert.IsFalse(augmentThreads.Contains(consumer));

        var inline = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, PrefetchDepth = 0 });
        foreach (var batch in inline.GetBatches(0))
        {
            using (batch)
            {
                Assert.AreEqual(consumer, batch.PreparedOnThreadId, "depth 0 gathers on the consuming thread");
            }
        }
    }

    [TestMethod]
    public void AugmentationRandomIsReproducible()
    {
        var data = Numbered(30);
        float[] Run(int depth)
        {
            var loader = new BatchLoader(data, new BatchLoaderOptions
            {
                BatchSize = 4,
                Seed = 9,
                PrefetchDepth = depth,
                Augmentation = (images, labels, shape, random) => images[0] = (float)random.NextDouble(),
            });
            var firsts = new List<float>();
            foreach (var batch in loader.GetBatches(1))
            {
                using (batch)
                {
                    firsts.Add(batch.Images.ToArray()[0]);
                }
            }
            return [.. firsts];
        }
        var a = Run(2);
        CollectionAssert.AreEqual(a, Run(0));
        Assert.AreEqual(a.Length, a.Distinct().Count(), "each batch draws its own numbers");
    }

    [TestMethod]
    public void CancellationStopsAndReleasesPendingBatches()
    {
        var data = Numbered(200);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 10, Seed = 1, PrefetchDepth = 2 });
        using var cts = new CancellationTokenSource();
        long rentedBefore = BufferPool.Stats.RentedBytes;
        int seen = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() =>
        {
            foreach (var batch in loader.GetBatches(0, cts.Token))
            {
                using (batch)
                {
                    seen++;
                    if (seen == 3)
                    {
                        cts.Cancel();
                    }
                }
            }
        });
        Assert.AreEqual(3, seen);
        Assert.AreEqual(rentedBefore, BufferPool.Stats.RentedBytes, "prefetched batches are returned to the pool");

        Assert.ThrowsExactly<OperationCanceledException>(() => loader.GetBatches(0, cts.Token));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(2)]
    public void AugmentationFailureReachesTheConsumer(int prefetch)
    {
        var data = Numbered(50);
        int calls = 0;
        var loader = new BatchLoader(data, new BatchLoaderOptions
        {
            BatchSize = 10,
            PrefetchDepth = prefetch,
            Augmentation = (images, labels, shape, random) =>
            {
                if (Interlocked.Increment(ref calls) == 3)
                {
                    throw new InvalidOperationException("augmentation failed");
                }
            },
        });
        long rentedBefore = BufferPool.Stats.RentedBytes;
        int seen = 0;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
        {
            foreach (var batch in loader.GetBatches(0))
            {
                using (batch)
                {
                    seen++;
                }
            }
        });
        Assert.AreEqual("augmentation failed", e.Message);
        Assert.AreEqual(2, seen, "the batches before the failing one are delivered");
        Assert.AreEqual(3, calls, "the producer stops at the failure");
        Assert.AreEqual(rentedBefore, BufferPool.Stats.RentedBytes, "no buffer is lost");
    }

    [TestMethod]
    public void BreakingOutReleasesPendingBatches()
    {
        var data = Numbered(100);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 10, PrefetchDepth = 2 });
        long rentedBefore = BufferPool.Stats.RentedBytes;
        foreach (var batch in loader.GetBatches(0))
        {
            batch.Dispose();
            break;
        }
        Assert.AreEqual(rentedBefore, BufferPool.Stats.RentedBytes);
    }

    [TestMethod]
    public void BatchTensorsAreOutsideScopesAndPooled()
    {
        var data = Numbered(16);
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 16, PrefetchDepth = 1 });
        Tensor images;
        using (var scope = new TensorScope())
        {
            var batch = loader.GetBatches(0).First();
            images = batch.Images;
            Assert.AreEqual(0, scope.Count, "the batch owns its tensor, not the caller's scope");
            batch.Dispose();
        }
        Assert.IsTrue(images.IsDisposed);
        // The buffer went back to the pool: the next epoch reuses it without allocating.
        long allocated = BufferPool.Stats.AllocatedBytes;
        foreach (var b in loader.GetBatches(1))
        {
            b.Dispose();
        }
        Assert.AreEqual(allocated, BufferPool.Stats.AllocatedBytes);
    }

    [TestMethod]
    public void InvalidOptionsAreRejected()
    {
        var data = Numbered(5);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchLoader(data, new BatchLoaderOptions { BatchSize = 0 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchLoader(data, new BatchLoaderOptions { PrefetchDepth = -1 }));
    }

    [TestMethod]
    public void DatasetValidatesAndSubsets()
    {
        var data = Numbered(10);
        Assert.ThrowsExactly<ArgumentException>(() => new ImageDataset(new float[11], new Shape(1), new int[10], ["x"]));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageDataset(new float[2], new Shape(1), [0, 1], ["x"]));
        var sub = data.Subset([7, 2]);
        CollectionAssert.AreEqual(new[] { 3, 2 }, sub.Labels);
        CollectionAssert.AreEqual(data.GetImage(7).ToArray(), sub.GetImage(0).ToArray());
        var r = data.RandomSubset(4, seed: 1);
        Assert.AreEqual(4, r.Count);
        CollectionAssert.AreEqual(r.Images, data.RandomSubset(4, seed: 1).Images);
        var n = data.Normalize(5f, 2f);
        Assert.AreEqual((data.Images[13] - 5f) / 2f, n.Images[13], 1e-6);
        using var t = data.Take(3).ToTensor();
        CollectionAssert.AreEqual(new[] { 3, 2, 3 }, t.Shape.Dims.ToArray());
    }
}
