using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

[TestClass]
public sealed class CpuParallelTests
{
    [TestMethod]
    public void ForRunsEveryItemExactlyOnce()
    {
        foreach (int count in new[] { 0, 1, 2, 3, 17, 1000 })
        {
            var hits = new int[count];
            CpuParallel.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.IsTrue(hits.All(h => h == 1), $"count {count}: {string.Join(",", hits)}");
        }
    }

    [TestMethod]
    public void ForRangesCoverTheRangeWithoutOverlap()
    {
        foreach (var (count, perThread, min) in new[] { (1, 4, 1), (7, 4, 1), (100, 4, 1), (100, 1, 30), (5, 4, 10) })
        {
            var hits = new int[count];
            CpuParallel.ForRanges(count, (from, to) =>
            {
                Assert.IsTrue(from < to, $"empty range [{from}, {to})");
                for (int i = from; i < to; i++)
                {
                    Interlocked.Increment(ref hits[i]);
                }
            }, perThread, min);
            Assert.IsTrue(hits.All(h => h == 1), $"count {count}");
        }
    }

    [TestMethod]
    public void NestedCallsRunInlineAndComplete()
    {
        var hits = new int[8 * 9];
        CpuParallel.For(8, i =>
        {
            Assert.IsTrue(CpuParallel.InParallelRegion);
            CpuParallel.For(9, j => Interlocked.Increment(ref hits[i * 9 + j]));
        });
        Assert.IsTrue(hits.All(h => h == 1));
        Assert.IsFalse(CpuParallel.InParallelRegion);
    }

    [TestMethod]
    public void AnExceptionReachesTheCallerAfterTheOtherItemsRan()
    {
        int ran = 0;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => CpuParallel.For(50, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 7)
            {
                throw new InvalidOperationException("item 7");
            }
        }));
        Assert.AreEqual("item 7", e.Message);
        Assert.AreEqual(50, ran);
        // The pool is usable afterwards.
        int after = 0;
        CpuParallel.For(10, _ => Interlocked.Increment(ref after));
        Assert.AreEqual(10, after);
    }

    [TestMethod]
    public void CallsFromSeveralThreadsAtOnceAllComplete()
    {
        var totals = new long[4];
        var threads = Enumerable.Range(0, totals.Length).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 200; round++)
            {
                CpuParallel.For(13, i => Interlocked.Add(ref totals[t], i + 1));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.IsTrue(totals.All(s => s == 200L * 13 * 14 / 2), string.Join(",", totals));
    }

    [TestMethod]
    public void BufferPoolNeverHandsOutOneBufferTwiceUnderConcurrentUse()
    {
        // Pool workers and plain threads renting and returning the same length: a buffer is never held by two at once.
        var owners = new System.Collections.Concurrent.ConcurrentDictionary<float[], int>(ReferenceEqualityComparer.Instance);
        int clashes = 0;
        CpuParallel.For(4, worker =>
        {
            for (int i = 0; i < 2000; i++)
            {
                var buffer = BufferPool.Rent(777);
                if (!owners.TryAdd(buffer, worker))
                {
                    Interlocked.Increment(ref clashes);
                }
                owners.TryRemove(buffer, out _);
                BufferPool.Return(buffer);
            }
        });
        var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                var buffer = BufferPool.Rent(777);
                if (!owners.TryAdd(buffer, -1))
                {
                    Interlocked.Increment(ref clashes);
                }
                owners.TryRemove(buffer, out _);
                BufferPool.Return(buffer);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.AreEqual(0, clashes);
    }
}
