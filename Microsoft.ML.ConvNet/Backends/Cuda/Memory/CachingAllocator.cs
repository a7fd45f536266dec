using System.Globalization;

namespace Microsoft.ML.ConvNet.Backends.Cuda.Memory;

/// <summary>The device's own allocation calls, under the <see cref="CachingAllocator"/> (a fake in tests).</summary>
public interface IRawDeviceMemory
{
    /// <summary>Allocates <paramref name="bytes"/> bytes of device memory; returns 0 when the device is out of memory.</summary>
    nint Allocate(long bytes);

    /// <summary>Frees memory returned by <see cref="Allocate"/>.</summary>
    void Free(nint pointer);
}

/// <summary>A snapshot of a <see cref="CachingAllocator"/>'s counters.</summary>
/// <param name="AllocatedBytes">Bytes in blocks handed out and not yet freed (sizes after rounding).</param>
/// <param name="ReservedBytes">Bytes obtained from the device (in use plus cached).</param>
/// <param name="PeakAllocatedBytes">Highest <paramref name="AllocatedBytes"/> since creation or <see cref="CachingAllocator.ResetPeaks"/>.</param>
/// <param name="PeakReservedBytes">Highest <paramref name="ReservedBytes"/> since creation or <see cref="CachingAllocator.ResetPeaks"/>.</param>
/// <param name="Allocations">Blocks handed out.</param>
/// <param name="Frees">Blocks given back.</param>
/// <param name="CacheHits">Allocations served from cached memory, without a device allocation.</param>
/// <param name="SegmentAllocations">Device allocations (segments) made.</param>
/// <param name="SegmentFrees">Segments given back to the device.</param>
/// <param name="ActiveBlocks">Blocks in use now.</param>
/// <param name="Segments">Segments held now.</param>
public readonly record struct DeviceMemoryStats(long AllocatedBytes, long ReservedBytes, long PeakAllocatedBytes, long PeakReservedBytes,
    long Allocations, long Frees, long CacheHits, long SegmentAllocations, long SegmentFrees, int ActiveBlocks, int Segments)
{
    /// <summary>Bytes reserved but not in use (the cache).</summary>
    public long CachedBytes => ReservedBytes - AllocatedBytes;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"allocated {AllocatedBytes / 1048576.0:F1} MiB (peak {PeakAllocatedBytes / 1048576.0:F1}), reserved {ReservedBytes / 1048576.0:F1} MiB (peak {PeakReservedBytes / 1048576.0:F1}) in {Segments} segments, {ActiveBlocks} blocks in use, {Allocations} allocations, {CacheHits} from the cache");
}

/// <summary>A piece of device memory handed out by a <see cref="CachingAllocator"/>.</summary>
public sealed class DeviceBlock
{
    internal DeviceBlock(Segment segment, nint pointer, long size)
    {
        Segment = segment;
        Pointer = pointer;
        Size = size;
    }

    /// <summary>The device address.</summary>
    public nint Pointer { get; }

    /// <summary>The usable size in bytes (the request rounded up; at least what was asked).</summary>
    public long Size { get; internal set; }

    internal Segment Segment { get; }

    internal DeviceBlock? Previous { get; set; }

    internal DeviceBlock? Next { get; set; }

    internal bool IsFree { get; set; }
}

/// <summary>One device allocation, carved into blocks.</summary>
internal sealed class Segment(nint pointer, long size, bool small)
{
    public nint Pointer { get; } = pointer;

    public long Size { get; } = size;

    public bool Small { get; } = small;
}

/// <summary>
/// A caching allocator of device memory in the manner of PyTorch's: requests are rounded to 512 bytes; small ones
/// (≤ 1 MiB) are carved from 2 MiB segments, mid-sized ones (≤ 10 MiB) from 20 MiB segments, larger ones get a
/// segment rounded to 2 MiB. Freed blocks are kept, merged with free neighbours of the same segment, and reused by
/// best fit (smallest sufficient block), split when the rest is worth keeping. Nothing goes back to the device until
/// <see cref="ReleaseCachedBlocks"/> is called, or an allocation fails (then the cache is released and the allocation
/// retried once). All device work runs on one stream per device, so a block freed after its last use on the stream
/// can be handed out at once: the next user's work is queued behind the last one's. Thread-safe.
/// </summary>
public sealed class CachingAllocator
{
    /// <summary>Requests are rounded up to a multiple of this.</summary>
    public const long Alignment = 512;

    /// <summary>Requests up to this size come from the small pool.</summary>
    public const long SmallRequestLimit = 1 << 20;

    /// <summary>Segment size of the small pool.</summary>
    public const long SmallSegmentSize = 2 << 20;

    /// <summary>Requests up to this size (and above the small limit) get a <see cref="MidSegmentSize"/> segment.</summary>
    public const long MidRequestLimit = 10 << 20;

    /// <summary>Segment size for mid-sized requests.</summary>
    public const long MidSegmentSize = 20 << 20;

    /// <summary>Large segments are rounded to a multiple of this.</summary>
    public const long LargeSegmentRounding = 2 << 20;

    private readonly IRawDeviceMemory _raw;
    private readonly object _lock = new();
    private readonly SortedSet<DeviceBlock> _smallFree = new(BlockOrder.Instance);
    private readonly SortedSet<DeviceBlock> _largeFree = new(BlockOrder.Instance);
    private readonly List<Segment> _segments = [];
    private long _allocated, _reserved, _peakAllocated, _peakReserved, _allocations, _frees, _hits, _segmentAllocs, _segmentFrees;
    private int _active;

    /// <summary>Creates an allocator over <paramref name="raw"/> device allocation calls.</summary>
    public CachingAllocator(IRawDeviceMemory raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        _raw = raw;
    }

    /// <summary>The counters now.</summary>
    public DeviceMemoryStats Stats
    {
        get
        {
            lock (_lock)
            {
                return new DeviceMemoryStats(_allocated, _reserved, _peakAllocated, _peakReserved, _allocations, _frees, _hits,
                    _segmentAllocs, _segmentFrees, _active, _segments.Count);
            }
        }
    }

    /// <summary>The rounded size a request of <paramref name="bytes"/> occupies.</summary>
    public static long RoundSize(long bytes) => bytes <= Alignment ? Alignment : (bytes + Alignment - 1) / Alignment * Alignment;

    /// <summary>The size of the segment a request of <paramref name="rounded"/> bytes allocates when the cache has no room.</summary>
    public static long SegmentSizeFor(long rounded) => rounded <= SmallRequestLimit ? SmallSegmentSize
        : rounded <= MidRequestLimit ? MidSegmentSize
        : (rounded + LargeSegmentRounding - 1) / LargeSegmentRounding * LargeSegmentRounding;

    /// <summary>Hands out a block of at least <paramref name="bytes"/> bytes (contents undefined).</summary>
    /// <exception cref="OutOfMemoryException">The device has no room even after the cache was released.</exception>
    public DeviceBlock Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = RoundSize(bytes);
        bool small = size <= SmallRequestLimit;
        lock (_lock)
        {
            var pool = small ? _smallFree : _largeFree;
            var block = BestFit(pool, size);
            if (block != null)
            {
                _hits++;
            }
            else
            {
                block = NewSegment(size, small);
            }
            pool.Remove(block);
            Split(block, size, pool);
            block.IsFree = false;
            _allocations++;
            _active++;
            _allocated += block.Size;
            _peakAllocated = Math.Max(_peakAllocated, _allocated);
            return block;
        }
    }

    /// <summary>Gives a block back to the cache (merged with free neighbours). Safe from any thread, including finalizers.</summary>
    public void Free(DeviceBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        lock (_lock)
        {
            if (block.IsFree)
            {
                throw new InvalidOperationException("The device block was already freed.");
            }
            block.IsFree = true;
            _frees++;
            _active--;
            _allocated -= block.Size;
            var pool = block.Segment.Small ? _smallFree : _largeFree;
            var merged = block;
            if (merged.Previous is { IsFree: true } prev)
            {
                pool.Remove(prev);
                prev.Size += merged.Size;
                prev.Next = merged.Next;
                if (merged.Next != null)
                {
                    merged.Next.Previous = prev;
                }
                merged = prev;
            }
            if (merged.Next is { IsFree: true } next)
            {
                pool.Remove(next);
                merged.Size += next.Size;
                merged.Next = next.Next;
                if (next.Next != null)
                {
                    next.Next.Previous = merged;
                }
            }
            pool.Add(merged);
        }
    }

    /// <summary>Gives every wholly unused segment back to the device; returns the bytes released.</summary>
    public long ReleaseCachedBlocks()
    {
        lock (_lock)
        {
            long released = 0;
            for (int i = _segments.Count - 1; i >= 0; i--)
            {
                var s = _segments[i];
                var pool = s.Small ? _smallFree : _largeFree;
                // A wholly free segment is one free block spanning it.
                var whole = pool.FirstOrDefault(b => ReferenceEquals(b.Segment, s) && b.Size == s.Size);
                if (whole == null)
                {
                    continue;
                }
                pool.Remove(whole);
                _segments.RemoveAt(i);
                _raw.Free(s.Pointer);
                _reserved -= s.Size;
                _segmentFrees++;
                released += s.Size;
            }
            return released;
        }
    }

    /// <summary>Resets the peaks to the current values.</summary>
    public void ResetPeaks()
    {
        lock (_lock)
        {
            _peakAllocated = _allocated;
            _peakReserved = _reserved;
        }
    }

    /// <summary>Frees every segment, in use or not (the device is going away).</summary>
    internal void ReleaseAll()
    {
        lock (_lock)
        {
            foreach (var s in _segments)
            {
                _raw.Free(s.Pointer);
                _segmentFrees++;
            }
            _segments.Clear();
            _smallFree.Clear();
            _largeFree.Clear();
            _reserved = 0;
            _allocated = 0;
            _active = 0;
        }
    }

    private static DeviceBlock? BestFit(SortedSet<DeviceBlock> pool, long size)
    {
        if (pool.Count == 0 || pool.Max!.Size < size)
        {
            return null;
        }
        return pool.GetViewBetween(BlockOrder.Probe(size), pool.Max).Min;
    }

    private DeviceBlock NewSegment(long size, bool small)
    {
        long segmentSize = small ? SmallSegmentSize : SegmentSizeFor(size);
        nint p = _raw.Allocate(segmentSize);
        if (p == 0)
        {
            // Out of memory: give the cache back and try once more.
            ReleaseCachedBlocks();
            p = _raw.Allocate(segmentSize);
            if (p == 0)
            {
                throw new OutOfMemoryException(string.Create(CultureInfo.InvariantCulture,
                    $"CUDA out of memory: could not allocate {segmentSize / 1048576.0:F1} MiB for a request of {size} bytes; {Stats}."));
            }
        }
        var segment = new Segment(p, segmentSize, small);
        _segments.Add(segment);
        _segmentAllocs++;
        _reserved += segmentSize;
        _peakReserved = Math.Max(_peakReserved, _reserved);
        var block = new DeviceBlock(segment, p, segmentSize) { IsFree = true };
        (small ? _smallFree : _largeFree).Add(block);
        return block;
    }

    /// <summary>Cuts the tail of <paramref name="block"/> beyond <paramref name="size"/> into a free block when it is worth keeping.</summary>
    private static void Split(DeviceBlock block, long size, SortedSet<DeviceBlock> pool)
    {
        long rest = block.Size - size;
        // Small blocks split down to the alignment; large ones only when the rest is itself beyond the small limit,
        // so large segments are not fragmented into many slivers.
        bool worth = block.Segment.Small ? rest >= Alignment : rest > SmallRequestLimit;
        if (!worth)
        {
            return;
        }
        var tail = new DeviceBlock(block.Segment, block.Pointer + (nint)size, rest) { IsFree = true, Previous = block, Next = block.Next };
        if (block.Next != null)
        {
            block.Next.Previous = tail;
        }
        block.Next = tail;
        block.Size = size;
        pool.Add(tail);
    }

    /// <summary>Orders blocks by size, then address (best fit = first block not smaller than the request).</summary>
    private sealed class BlockOrder : IComparer<DeviceBlock>
    {
        public static readonly BlockOrder Instance = new();

        private static readonly Segment ProbeSegment = new(0, 0, false);

        public static DeviceBlock Probe(long size) => new(ProbeSegment, nint.MinValue, size);

        public int Compare(DeviceBlock? x, DeviceBlock? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }
            int c = x!.Size.CompareTo(y!.Size);
            return c != 0 ? c : x.Pointer.CompareTo(y.Pointer);
        }
    }
}
