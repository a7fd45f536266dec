using Microsoft.ML.ConvNet.Backends.Cuda.Memory;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>The caching allocator's logic over a fake device that records its allocations.</summary>
[TestClass]
public sealed class CachingAllocatorTests
{
    /// <summary>A device with a byte budget; addresses are distinct and far apart.</summary>
    private sealed class FakeDevice(long budget = long.MaxValue) : IRawDeviceMemory
    {
        private long _next = 1L << 32;

        public Dictionary<nint, long> Live { get; } = [];

        public int Allocations { get; private set; }

        public long InUse => Live.Values.Sum();

        public nint Allocate(long bytes)
        {
            if (InUse + bytes > budget)
            {
                return 0;
            }
            Allocations++;
            nint p = (nint)_next;
            _next += bytes + (1L << 30);
            Live.Add(p, bytes);
            return p;
        }

        public void Free(nint pointer)
        {
            Assert.IsTrue(Live.Remove(pointer), "freed a pointer the device did not hand out");
        }
    }

    [TestMethod]
    public void SizesRoundTo512BytesAndSegmentsFollowThePoolRules()
    {
        Assert.AreEqual(512, CachingAllocator.RoundSize(0));
        Assert.AreEqual(512, CachingAllocator.RoundSize(1));
        Assert.AreEqual(1024, CachingAllocator.RoundSize(513));
        Assert.AreEqual(2L << 20, CachingAllocator.SegmentSizeFor(1L << 20));
        Assert.AreEqual(20L << 20, CachingAllocator.SegmentSizeFor((1L << 20) + 512));
        Assert.AreEqual(20L << 20, CachingAllocator.SegmentSizeFor(10L << 20));
        Assert.AreEqual(12L << 20, CachingAllocator.SegmentSizeFor((10L << 20) + 512));
    }

    [TestMethod]
    public void SmallBlocksShareASegmentAndFreedBlocksAreReused()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device);
        var a = allocator.Allocate(1000);
        var b = allocator.Allocate(4000);
        Assert.AreEqual(1, device.Allocations, "both come from one 2 MiB segment");
        Assert.AreEqual(1024, a.Size);
        Assert.AreEqual(a.Pointer + 1024, b.Pointer, "carved one after the other");
        allocator.Free(a);
        var c = allocator.Allocate(900);
        Assert.AreEqual(a.Pointer, c.Pointer, "best fit reuses the freed block");
        var s = allocator.Stats;
        Assert.AreEqual(3, s.Allocations);
        Assert.AreEqual(1, s.Frees);
        Assert.AreEqual(2, s.CacheHits, "only the first allocation went to the device");
        Assert.AreEqual(1024 + 4096, s.AllocatedBytes);
        Assert.AreEqual(2L << 20, s.ReservedBytes);
        Assert.AreEqual(2, s.ActiveBlocks);
    }

    [TestMethod]
    public void FreedNeighboursMergeAndWhollyFreeSegmentsAreReleased()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device);
        var a = allocator.Allocate(512 * 1024);
        var b = allocator.Allocate(512 * 1024);
        var c = allocator.Allocate(512 * 1024);
        Assert.AreEqual(1, device.Allocations, "three 512 KiB blocks fit in one 2 MiB segment");
        allocator.Free(b);
        allocator.Free(a);
        Assert.AreEqual(0, allocator.ReleaseCachedBlocks(), "c still uses the segment");
        Assert.HasCount(1, device.Live);
        var big = allocator.Allocate(1024 * 1024);
        Assert.AreEqual(a.Pointer, big.Pointer, "a and b merged into one 1 MiB block");
        Assert.AreEqual(1, device.Allocations);
        allocator.Free(big);
        allocator.Free(c);
        Assert.AreEqual(2L << 20, allocator.ReleaseCachedBlocks());
        Assert.IsEmpty(device.Live);
        var s = allocator.Stats;
        Assert.AreEqual(0, s.ReservedBytes);
        Assert.AreEqual(0, s.AllocatedBytes);
        Assert.AreEqual(1, s.SegmentFrees);
        Assert.AreEqual(2L << 20, s.PeakReservedBytes);
        Assert.AreEqual(1536 * 1024, s.PeakAllocatedBytes);
    }

    [TestMethod]
    public void LargeBlocksSplitOnlyWhenTheRestIsWorthKeeping()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device);
        var x = allocator.Allocate(15L << 20);
        Assert.AreEqual(16L << 20, device.Live.Values.Single(), "rounded to 2 MiB");
        Assert.AreEqual(16L << 20, x.Size, "a 1 MiB rest is not worth a block of its own");
        allocator.Free(x);
        var y = allocator.Allocate(12L << 20);
        Assert.AreEqual(x.Pointer, y.Pointer);
        Assert.AreEqual(12L << 20, y.Size, "a 4 MiB rest is kept as a free block");
        var z = allocator.Allocate(3L << 20);
        Assert.AreEqual(y.Pointer + (nint)(12L << 20), z.Pointer, "served from the rest");
        Assert.AreEqual(1, device.Allocations);
    }

    [TestMethod]
    public void OutOfMemoryReleasesTheCacheAndRetriesOnce()
    {
        var device = new FakeDevice(budget: 21L << 20);
        var allocator = new CachingAllocator(device);
        allocator.Free(allocator.Allocate(1000));
        var mid = allocator.Allocate(1536 * 1024);
        Assert.AreEqual(20L << 20, device.InUse, "the cached small segment was released to make room");
        Assert.AreEqual(1, allocator.Stats.SegmentFrees);
        var e = Assert.ThrowsExactly<OutOfMemoryException>(() => allocator.Allocate(30L << 20));
        StringAssert.Contains(e.Message, "CUDA out of memory");
        StringAssert.Contains(e.Message, "allocated");
        allocator.Free(mid);
    }

    [TestMethod]
    public void DoubleFreeIsAnError()
    {
        var allocator = new CachingAllocator(new FakeDevice());
        var a = allocator.Allocate(10);
        allocator.Free(a);
        Assert.ThrowsExactly<InvalidOperationException>(() => allocator.Free(a));
    }

    [TestMethod]
    public void ARepeatedStepPatternReachesASteadyStateWithoutGrowth()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device);
        var rng = new Random(3);
        // One "training step": activations of several sizes, kept until the step ends, freed in a mixed order.
        long[] sizes = [.. Enumerable.Range(0, 60).Select(_ => (long)rng.Next(1, 8 << 20))];
        DeviceMemoryStats afterFirst = default;
        for (int step = 0; step < 1000; step++)
        {
            var live = sizes.Select(allocator.Allocate).ToList();
            foreach (var b in live.OrderBy(b => b.Pointer % 7))
            {
                allocator.Free(b);
            }
            if (step == 0)
            {
                afterFirst = allocator.Stats;
            }
        }
        var s = allocator.Stats;
        Assert.AreEqual(afterFirst.ReservedBytes, s.ReservedBytes, "no growth after the first step");
        Assert.AreEqual(afterFirst.SegmentAllocations, s.SegmentAllocations);
        Assert.AreEqual(0, s.AllocatedBytes);
        Assert.AreEqual(60_000, s.Allocations);
        Assert.AreEqual(60_000 - afterFirst.SegmentAllocations, s.CacheHits);
    }
}
