namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// The process-wide random generator behind weight initialisation and dropout when no <see cref="Random"/> is
/// passed explicitly, like <c>torch.manual_seed</c>: after <c>RandomSource.ManualSeed(42)</c>, building the same
/// model again gives the same weights.
/// </summary>
/// <remarks>
/// <see cref="Shared"/> is safe to call from several threads (each call is serialised by a lock), but the
/// sequence is reproducible only when the draws happen in a fixed order, i.e. when models are built on one
/// thread. For reproducible work across threads, give each thread its own seeded <see cref="Random"/>.
/// <see cref="ManualSeed"/> replaces the generator; a <see cref="Random"/> obtained from <see cref="Shared"/>
/// before the call keeps drawing from the old sequence.
/// Until <see cref="ManualSeed"/> is called the generator is seeded from the system's entropy.
/// </remarks>
public static class RandomSource
{
    private static readonly Lock Gate = new();
    private static Random _shared = new LockedRandom(null);

    /// <summary>The seed given to the last <see cref="ManualSeed"/> call; null while the generator is unseeded.</summary>
    public static int? Seed { get; private set; }

    /// <summary>The shared generator (thread-safe; see the remarks on <see cref="RandomSource"/>).</summary>
    public static Random Shared
    {
        get
        {
            lock (Gate)
            {
                return _shared;
            }
        }
    }

    /// <summary>Restarts the shared generator from <paramref name="seed"/>: the same seed gives the same sequence.</summary>
    public static void ManualSeed(int seed)
    {
        lock (Gate)
        {
            _shared = new LockedRandom(seed);
            Seed = seed;
        }
    }

    /// <summary>
    /// A generator seeded from the shared one: reproducible after <see cref="ManualSeed"/>, and independent
    /// of later draws from <see cref="Shared"/>. Use it to give a component (a data loader, a dropout layer)
    /// a stream of its own.
    /// </summary>
    public static Random Fork() => new(Shared.Next());

    /// <summary>A <see cref="Random"/> whose every draw takes a lock, so concurrent callers cannot corrupt its state.</summary>
    private sealed class LockedRandom(int? seed) : Random
    {
        private readonly Random _inner = seed is int s ? new Random(s) : new Random();
        private readonly Lock _lock = new();

        public override int Next()
        {
            lock (_lock)
            {
                return _inner.Next();
            }
        }

        public override int Next(int maxValue)
        {
            lock (_lock)
            {
                return _inner.Next(maxValue);
            }
        }

        public override int Next(int minValue, int maxValue)
        {
            lock (_lock)
            {
                return _inner.Next(minValue, maxValue);
            }
        }

        public override long NextInt64()
        {
            lock (_lock)
            {
                return _inner.NextInt64();
            }
        }

        public override long NextInt64(long maxValue)
        {
            lock (_lock)
            {
                return _inner.NextInt64(maxValue);
            }
        }

        public override long NextInt64(long minValue, long maxValue)
        {
            lock (_lock)
            {
                return _inner.NextInt64(minValue, maxValue);
            }
        }

        public override double NextDouble()
        {
            lock (_lock)
            {
                return _inner.NextDouble();
            }
        }

        public override float NextSingle()
        {
            lock (_lock)
            {
                return _inner.NextSingle();
            }
        }

        public override void NextBytes(byte[] buffer)
        {
            lock (_lock)
            {
                _inner.NextBytes(buffer);
            }
        }

        public override void NextBytes(Span<byte> buffer)
        {
            lock (_lock)
            {
                _inner.NextBytes(buffer);
            }
        }

        protected override double Sample()
        {
            lock (_lock)
            {
                return _inner.NextDouble();
            }
        }
    }
}
