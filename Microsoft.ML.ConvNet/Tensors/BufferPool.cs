namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// Host float buffers reused by exact length. Training repeats the same shapes every step, so after the
/// first step every tensor buffer comes from here and a step allocates no new tensor memory.
/// Thread-safe. The pool keeps at most <see cref="MaxPooledBytes"/>; buffers beyond that go to the GC.
/// </summary>
public static class BufferPool
{
    private static readonly Dictionary<int, Stack<float[]>> Buckets = new();
    private static readonly object Gate = new();
    private static long _pooledBytes;
    private static long _allocatedBytes;
    private static long _rentedBytes;
    private static long _allocations;

    /// <summary>Upper bound on the bytes kept in the pool (default 2 GiB).</summary>
    public static long MaxPooledBytes { get; set; } = 2L << 30;

    /// <summary>Snapshot of the pool's counters.</summary>
    public static BufferPoolStats Stats
    {
        get
        {
            lock (Gate)
            {
                return new BufferPoolStats(_allocations, _allocatedBytes, _rentedBytes, _pooledBytes);
            }
        }
    }

    /// <summary>Rents a buffer of exactly <paramref name="length"/> floats. Its contents are undefined.</summary>
    public static float[] Rent(int length)
    {
        if (length == 0)
        {
            return [];
        }
        lock (Gate)
        {
            _rentedBytes += length * 4L;
            if (Buckets.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                _pooledBytes -= length * 4L;
                return stack.Pop();
            }
            _allocations++;
            _allocatedBytes += length * 4L;
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Returns a buffer obtained from <see cref="Rent"/>.</summary>
    public static void Return(float[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length == 0)
        {
            return;
        }
        lock (Gate)
        {
            _rentedBytes -= buffer.Length * 4L;
            if (_pooledBytes + buffer.Length * 4L > MaxPooledBytes)
            {
                return;
            }
            if (!Buckets.TryGetValue(buffer.Length, out var stack))
            {
                stack = new Stack<float[]>();
                Buckets[buffer.Length] = stack;
            }
            stack.Push(buffer);
            _pooledBytes += buffer.Length * 4L;
        }
    }

    /// <summary>Drops every pooled buffer (they are left to the GC).</summary>
    public static void Trim()
    {
        lock (Gate)
        {
            Buckets.Clear();
            _pooledBytes = 0;
        }
    }
}

/// <summary>Counters of <see cref="BufferPool"/>.</summary>
/// <param name="Allocations">Buffers ever allocated because the pool had none of the length asked.</param>
/// <param name="AllocatedBytes">Bytes ever allocated by the pool.</param>
/// <param name="RentedBytes">Bytes currently rented out (held by live tensors).</param>
/// <param name="PooledBytes">Bytes currently idle in the pool.</param>
public readonly record struct BufferPoolStats(long Allocations, long AllocatedBytes, long RentedBytes, long PooledBytes);
