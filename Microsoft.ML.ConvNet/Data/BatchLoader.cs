using System.Collections.Concurrent;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Backends.Cuda;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Data;

/// <summary>
/// Changes a batch in place before it is handed out (data augmentation): <paramref name="images"/> holds
/// <c>batchShape</c> values (<c>[count, ...sampleShape]</c>), <paramref name="labels"/> one label per sample.
/// Runs on a background thread; <paramref name="random"/> is seeded from the loader's seed, the epoch and the batch
/// index, so augmentation is reproducible and independent of thread timing.
/// </summary>
public delegate void BatchAugmentation(Span<float> images, Span<int> labels, Shape batchShape, Random random);

/// <summary>Options of a <see cref="BatchLoader"/>.</summary>
public sealed class BatchLoaderOptions
{
    /// <summary>Samples per batch (default 64).</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Visits the samples in a new random order each epoch (default true); false keeps the data set's order.</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Seed of the shuffling (and of the augmentation generators): same seed and epoch ⇒ same order.</summary>
    public int Seed { get; set; }

    /// <summary>Skips the last batch of an epoch when it would be smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; set; }

    /// <summary>
    /// Batches prepared ahead on a background thread while the current one is used (default 2; 0 prepares each batch on
    /// the consuming thread when it is asked for).
    /// </summary>
    public int PrefetchDepth { get; set; } = 2;

    /// <summary>The device of the batch tensors (CPU by default).</summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>
    /// Optional in-place change of each batch (augmentation), run where the batch is prepared; an
    /// <see cref="ImageAugmentation"/> converts to it (applied to every sample).
    /// </summary>
    public BatchAugmentation? Augmentation { get; set; }

    /// <summary>
    /// Optional mixing of the samples of each batch (<see cref="Mixup"/>, <see cref="CutMix"/>), run after
    /// <see cref="Augmentation"/>; the batch then carries soft targets in <see cref="Batch.Targets"/>.
    /// </summary>
    public BatchMixing? Mixing { get; set; }
}

/// <summary>
/// One mini-batch: images <c>[Count, ...sampleShape]</c>, their labels and their indices in the data set.
/// The consumer owns it and disposes it (which returns the image buffer to the <see cref="BufferPool"/>).
/// </summary>
public sealed class Batch : IDisposable
{
    internal Batch(Tensor images, int[] labels, int[] indices, int index, int epoch, float[]? targets = null)
    {
        Images = images;
        Targets = targets;
        Labels = labels;
        Indices = indices;
        Index = index;
        Epoch = epoch;
    }

    /// <summary>The images, <c>[Count, ...sampleShape]</c>. Not part of any <see cref="TensorScope"/>: the batch owns it.</summary>
    public Tensor Images { get; }

    /// <summary>The class index of each image (with <see cref="BatchLoaderOptions.Mixing"/>: the class of the image before mixing).</summary>
    public int[] Labels { get; }

    /// <summary>
    /// Soft targets [Count, classes], row-major, when <see cref="BatchLoaderOptions.Mixing"/> mixed the batch; null
    /// otherwise.
    /// </summary>
    public float[]? Targets { get; }

    /// <summary>The position of each image in the data set.</summary>
    public int[] Indices { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>The batch's number within its epoch, from 0.</summary>
    public int Index { get; }

    /// <summary>The epoch the batch belongs to.</summary>
    public int Epoch { get; }

    /// <summary>The managed thread id of the thread that gathered the batch (diagnostics).</summary>
    public int PreparedOnThreadId { get; internal set; }

    /// <summary>An upload still in flight on a device copy stream (see <see cref="CudaBatchStaging"/>); null when ready.</summary>
    internal object? PendingUpload { get; set; }

    /// <summary>Releases the image tensor.</summary>
    public void Dispose() => Images.Dispose();
}

/// <summary>
/// Iterates mini-batches over an in-memory <see cref="ImageDataset"/>: a seeded shuffle per epoch (same seed and
/// epoch ⇒ same order, each epoch a different order), a fixed batch size with an optional smaller last batch, and
/// prefetching: the next batches are gathered into pooled host buffers on a background thread while the current
/// one is in use.
/// <code>
/// var loader = new BatchLoader(train, new BatchLoaderOptions { BatchSize = 64, Seed = 1 });
/// foreach (var batch in loader.GetBatches(epoch, token))
/// {
///     using (batch) { ... batch.Images ... batch.Labels ... }
/// }
/// </code>
/// </summary>
public sealed class BatchLoader
{
    private readonly BatchLoaderOptions _options;

    /// <summary>Creates a loader over <paramref name="data"/> (not copied).</summary>
    public BatchLoader(ImageDataset data, BatchLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new BatchLoaderOptions();
        if (options.BatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"BatchLoader: the batch size must be positive, got {options.BatchSize}.");
        }
        if (options.PrefetchDepth < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"BatchLoader: the prefetch depth must be non-negative, got {options.PrefetchDepth}.");
        }
        Data = data;
        _options = new BatchLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = options.Shuffle,
            Seed = options.Seed,
            DropLast = options.DropLast,
            PrefetchDepth = options.PrefetchDepth,
            Device = options.Device,
            Augmentation = options.Augmentation,
            Mixing = options.Mixing,
        };
    }

    /// <summary>The data set.</summary>
    public ImageDataset Data { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize => _options.BatchSize;

    /// <summary>Number of batches in one epoch.</summary>
    public int BatchCount => _options.DropLast ? Data.Count / BatchSize : (Data.Count + BatchSize - 1) / BatchSize;

    /// <summary>Number of samples visited in one epoch (all of them unless <see cref="BatchLoaderOptions.DropLast"/> drops some).</summary>
    public int SamplesPerEpoch => _options.DropLast ? BatchCount * BatchSize : Data.Count;

    /// <summary>
    /// The order in which epoch <paramref name="epoch"/> visits the samples: a permutation of <c>[0, Count)</c> drawn
    /// from the seed and the epoch, or the identity when shuffling is off.
    /// </summary>
    public int[] EpochOrder(int epoch)
    {
        var order = new int[Data.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        if (_options.Shuffle)
        {
            var rng = new Random(MixSeed(_options.Seed, epoch, -1));
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        return order;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, in order. Dispose each batch when done with it. Stopping early
    /// (break, exception, cancellation) waits for the batches being prepared and releases them.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IEnumerable<Batch> GetBatches(int epoch = 0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Iterate(epoch, cancellationToken);
    }

    private IEnumerable<Batch> Iterate(int epoch, CancellationToken cancellationToken)
    {
        var order = EpochOrder(epoch);
        int count = BatchCount;
        // On a GPU with prefetching, batches are gathered into pinned memory and uploaded on the copy stream while
        // the model computes.
        using var staging = _options.PrefetchDepth > 0 && _options.Device.Backend is CudaBackend cuda ? new CudaBatchStaging(cuda) : null;
        if (_options.PrefetchDepth == 0)
        {
            for (int b = 0; b < count; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return ToDevice(Gather(order, b, epoch, null), null);
            }
            yield break;
        }

        // One producer thread per epoch gathers the batches in order. A batch holds a slot from when its gathering
        // starts until the consumer takes it, so at most PrefetchDepth batches are prepared ahead.
        using var ready = new BlockingCollection<Batch>(new ConcurrentQueue<Batch>());
        using var slots = new SemaphoreSlim(_options.PrefetchDepth);
        using var stop = new CancellationTokenSource();
        var producer = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    for (int b = 0; b < count; b++)
                    {
                        slots.Wait(stop.Token);
                        ready.Add(Gather(order, b, epoch, staging), CancellationToken.None);
                    }
                }
                finally
                {
                    ready.CompleteAdding();
                }
            },
            stop.Token, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        try
        {
            for (int b = 0; b < count; b++)
            {
                if (!ready.TryTake(out var batch, Timeout.Infinite, cancellationToken))
                {
                    // The producer stopped early: report its failure.
                    producer.GetAwaiter().GetResult();
                    throw new InvalidOperationException($"BatchLoader: the producer ended after {b} of {count} batches.");
                }
                slots.Release();
                yield return ToDevice(batch, staging);
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Cancelled on purpose, or a failure already reported to the consumer.
            }
            while (ready.TryTake(out var left))
            {
                if (left.PendingUpload is { } upload)
                {
                    // The copy may still be writing the device memory: order its release after the copy.
                    staging!.Acquire(upload);
                }
                left.Dispose();
            }
        }
    }

    private Batch ToDevice(Batch batch, CudaBatchStaging? staging)
    {
        if (batch.PendingUpload is { } upload)
        {
            staging!.Acquire(upload);
            batch.PendingUpload = null;
            return batch;
        }
        return _options.Device.Type == DeviceType.Cpu ? batch : MoveToDevice(batch);
    }

    /// <summary>
    /// Copies samples <c>order[b·size .. ]</c> into a pooled host buffer wrapped as a CPU tensor, or, with
    /// <paramref name="staging"/>, into pinned memory whose upload to the device is queued at once.
    /// </summary>
    private Batch Gather(int[] order, int b, int epoch, CudaBatchStaging? staging)
    {
        int size = _options.BatchSize;
        int start = b * size;
        int n = Math.Min(size, order.Length - start);
        int sampleSize = Data.SampleSize;
        var shape = new Shape([n, .. Data.SampleShape.Dims]);
        var labels = new int[n];
        var indices = new int[n];
        var targets = _options.Mixing != null ? new float[n * Data.ClassCount] : null;
        void Fill(Span<float> dst)
        {
            var src = Data.Images.AsSpan();
            for (int i = 0; i < n; i++)
            {
                int j = order[start + i];
                indices[i] = j;
                labels[i] = Data.Labels[j];
                src.Slice(j * sampleSize, sampleSize).CopyTo(dst.Slice(i * sampleSize, sampleSize));
            }
            if (_options.Augmentation == null && _options.Mixing == null)
            {
                return;
            }
            var random = new Random(MixSeed(_options.Seed, epoch, b));
            _options.Augmentation?.Invoke(dst, labels, shape, random);
            if (_options.Mixing is { } mixing)
            {
                var (_, c, h, w) = ImageAugmentation.SampleLayout(shape, mixing.GetType().Name);
                mixing.Mix(dst.Slice(0, n * sampleSize), labels, targets, c, h, w, Data.ClassCount, random);
            }
        }
        if (staging != null)
        {
            var (deviceImages, token) = staging.Stage(shape, Fill);
            return new Batch(deviceImages, labels, indices, b, epoch, targets) { PreparedOnThreadId = Environment.CurrentManagedThreadId, PendingUpload = token };
        }
        var buffer = BufferPool.Rent(n * sampleSize);
        var images = new Tensor(shape, new CpuStorage(buffer), register: false);
        try
        {
            Fill(buffer.AsSpan(0, n * sampleSize));
        }
        catch
        {
            images.Dispose();
            throw;
        }
        return new Batch(images, labels, indices, b, epoch, targets) { PreparedOnThreadId = Environment.CurrentManagedThreadId };
    }

    /// <summary>Uploads a host batch to the target device on the consuming thread and releases the host buffer.</summary>
    private Batch MoveToDevice(Batch host)
    {
        using (host)
        {
            var t = Tensor.FromArray(host.Images.AsReadOnlySpan(), host.Images.Shape, _options.Device).Unscope();
            return new Batch(t, host.Labels, host.Indices, host.Index, host.Epoch, host.Targets) { PreparedOnThreadId = host.PreparedOnThreadId };
        }
    }

    /// <summary>A well-mixed 31-bit seed from (seed, epoch, batch) (SplitMix64 finaliser), stable across runs and platforms.</summary>
    private static int MixSeed(int seed, int epoch, int batch)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch * 0xBF58476D1CE4E5B9UL + (ulong)(uint)batch * 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFF_FFFF);
    }
}
