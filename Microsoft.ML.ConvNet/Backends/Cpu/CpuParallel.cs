using System.Diagnostics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// A persistent pool of worker threads for the CPU kernels: one per core beyond the calling thread, which takes part
/// in the work. Work items are handed out one at a time through an atomic counter, so a core slowed by other work
/// does not hold up the rest. Idle workers spin for a short while before blocking, so the back-to-back small parallel
/// calls of a training step cost a few hundred nanoseconds each instead of a thread-pool round trip.
/// Calls made from inside a parallel region, or while another thread's call is running, run on the calling thread.
/// Which thread runs an item is not fixed: kernels whose result depends on the order of a sum split the work in a
/// fixed way and combine the parts in a fixed order.
/// </summary>
internal static class CpuParallel
{
    /// <summary>How long an idle worker keeps polling for new work before it blocks (in stopwatch ticks).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;

    private static readonly object Gate = new();
    private static readonly int ThreadCount = Math.Max(1, Environment.ProcessorCount);
    private static Job? _job;
    private static int _busy;
    private static int _sleepers;
    private static bool _started;

    [ThreadStatic]
    private static bool _inside;

    /// <summary>Threads that share the work (the calling thread included).</summary>
    public static int Threads => ThreadCount;

    /// <summary>True on a thread that is running an item of a parallel call.</summary>
    public static bool InParallelRegion => _inside;

    /// <summary>Runs body(i) for every i in [0, count), in parallel when there is more than one core and item.</summary>
    public static void For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0)
        {
            return;
        }
        if (count == 1 || ThreadCount == 1 || _inside || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            bool outer = _inside;
            _inside = true;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    body(i);
                }
            }
            finally
            {
                _inside = outer;
            }
            return;
        }
        var job = new Job(body, count);
        try
        {
            EnsureStarted();
            Volatile.Write(ref _job, job);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (Gate)
                {
                    Monitor.PulseAll(Gate);
                }
            }
            _inside = true;
            job.RunItems();
            _inside = false;
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Done) < count)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        finally
        {
            _inside = false;
            Volatile.Write(ref _job, null);
            Volatile.Write(ref _busy, 0);
        }
        if (job.Error != null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(job.Error).Throw();
        }
    }

    /// <summary>
    /// Runs body(from, to) over contiguous ranges covering [0, count), about <paramref name="rangesPerThread"/> ranges
    /// per thread (at least <paramref name="minRange"/> items each), in parallel.
    /// </summary>
    public static void ForRanges(int count, Action<int, int> body, int rangesPerThread = 4, int minRange = 1)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0)
        {
            return;
        }
        int size = Math.Max(Math.Max(1, minRange), count / (rangesPerThread * ThreadCount));
        int ranges = (count + size - 1) / size;
        if (ranges == 1)
        {
            body(0, count);
            return;
        }
        For(ranges, r => body(r * size, Math.Min(count, (r + 1) * size)));
    }

    private static void EnsureStarted()
    {
        if (_started)
        {
            return;
        }
        lock (Gate)
        {
            if (_started)
            {
                return;
            }
            for (int i = 1; i < ThreadCount; i++)
            {
                var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "ConvNet CPU worker " + i };
                thread.Start();
            }
            _started = true;
        }
    }

    private static void WorkerLoop()
    {
        _inside = true;
        Job? last = null;
        while (true)
        {
            var job = WaitForJob(last);
            last = job;
            job.RunItems();
        }
    }

    /// <summary>Polls for a job other than <paramref name="last"/>, then blocks until one is posted.</summary>
    private static Job WaitForJob(Job? last)
    {
        long start = Stopwatch.GetTimestamp();
        int polls = 0;
        while (true)
        {
            var job = Volatile.Read(ref _job);
            if (job != null && job != last && !job.Exhausted)
            {
                return job;
            }
            if (++polls < 64 || Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                Thread.SpinWait(20);
                continue;
            }
            lock (Gate)
            {
                Interlocked.Increment(ref _sleepers);
                try
                {
                    while (true)
                    {
                        job = Volatile.Read(ref _job);
                        if (job != null && job != last && !job.Exhausted)
                        {
                            return job;
                        }
                        Monitor.Wait(Gate);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _sleepers);
                }
            }
        }
    }

    /// <summary>One parallel call: items are claimed through <see cref="_next"/> and counted in <see cref="Done"/>.</summary>
    private sealed class Job(Action<int> body, int count)
    {
        private int _next;
        public int Done;
        public Exception? Error;

        public bool Exhausted => Volatile.Read(ref _next) >= count;

        public void RunItems()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref _next) - 1;
                if (i >= count)
                {
                    return;
                }
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                }
                finally
                {
                    Interlocked.Increment(ref Done);
                }
            }
        }
    }
}
