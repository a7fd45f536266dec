using System.Collections.Concurrent;
using Microsoft.ML.ConvNet.Backends.Cuda.Memory;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// An NVIDIA GPU: convolutions, pooling, batch norm and softmax through cuDNN, GEMMs through cuBLAS, everything else
/// as CUDA C kernels compiled at run time by NVRTC. Every operation is queued on the device's compute stream and
/// returns at once; reading values back (<see cref="Download"/>, <see cref="ArgMax"/>) waits for the queue.
/// Split by concern into partial files.
/// </summary>
public sealed partial class CudaBackend : IBackend
{
    private const int ThreadsPerBlock = 256;
    private static readonly ConcurrentDictionary<int, Lazy<CudaBackend>> Backends = new();
    private readonly CudaDevice _device;

    private CudaBackend(CudaDevice device)
    {
        _device = device;
        Device = Device.Cuda(device.Ordinal);
    }

    /// <summary>Whether CUDA is usable in this process and, if not, why (probed once; never throws).</summary>
    public static CudaAvailability Availability => CudaRuntime.Availability;

    /// <summary>The backend of GPU <paramref name="index"/>, initialised on first use.</summary>
    /// <exception cref="CudaLibraryNotFoundException">A CUDA library is missing; the message lists where it was looked for.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There is no GPU with that index.</exception>
    public static CudaBackend Get(int index)
    {
        var runtime = CudaRuntime.Instance;
        if (index < 0 || index >= runtime.DeviceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"cuda:{index} does not exist; this machine has {runtime.DeviceCount} GPU(s).");
        }
        return Backends.GetOrAdd(index, i => new Lazy<CudaBackend>(() => new CudaBackend(new CudaDevice(runtime, i)))).Value;
    }

    /// <inheritdoc/>
    public Device Device { get; }

    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string Name => _device.Name;

    /// <summary>The compute capability, e.g. (9, 0).</summary>
    public (int Major, int Minor) ComputeCapability => _device.ComputeCapability;

    /// <summary>The device memory allocator (statistics, <see cref="CachingAllocator.ReleaseCachedBlocks"/>).</summary>
    public CachingAllocator Allocator => _device.Allocator;

    /// <summary>The allocator's counters.</summary>
    public DeviceMemoryStats MemoryStats => _device.Allocator.Stats;

    /// <summary>Gives cached, unused device memory back to the driver; returns the bytes released.</summary>
    public long ReleaseCachedMemory() => _device.Allocator.ReleaseCachedBlocks();

    /// <summary>Waits until every queued operation has finished (for timing; reading results waits by itself).</summary>
    public void Synchronize() => _device.Synchronize();

    internal CudaDevice DeviceState => _device;

    /// <inheritdoc/>
    public Storage Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new CudaStorage(this, _device.Allocator.Allocate(Math.Max(length, 1) * 4L), length);
    }

    // ---- data movement ----------------------------------------------------------------------------

    /// <inheritdoc/>
    public unsafe void Upload(ReadOnlySpan<float> src, Tensor dst)
    {
        ArgumentNullException.ThrowIfNull(dst);
        if (src.Length != dst.Size)
        {
            throw new ArgumentException($"Upload: {src.Length} values for tensor {dst.Shape}.");
        }
        if (src.IsEmpty)
        {
            return;
        }
        _device.MakeCurrent();
        fixed (float* p = src)
        {
            // From pageable memory the copy returns once the source has been staged, so the span may change afterwards.
            _device.Driver.CopyHtoDAsync(Ptr(dst), p, src.Length * 4L, _device.Stream);
        }
    }

    /// <inheritdoc/>
    public unsafe void Download(Tensor src, Span<float> dst)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (dst.Length != src.Size)
        {
            throw new ArgumentException($"Download: tensor {src.Shape} into {dst.Length} values.");
        }
        if (dst.IsEmpty)
        {
            return;
        }
        _device.MakeCurrent();
        fixed (float* p = dst)
        {
            _device.Driver.CopyDtoHAsync(p, Ptr(src), dst.Length * 4L, _device.Stream);
            _device.Driver.StreamSynchronize(_device.Stream);
        }
    }

    /// <inheritdoc/>
    public void Fill(Tensor t, float value)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Size == 0)
        {
            return;
        }
        _device.MakeCurrent();
        _device.Driver.MemsetD32Async(Ptr(t), BitConverter.SingleToUInt32Bits(value), t.Size, _device.Stream);
    }

    /// <inheritdoc/>
    public void CopyBlocks(Tensor src, int srcOffset, int srcStride, Tensor dst, int dstOffset, int dstStride, int blockLength, int blockCount)
    {
        long total = (long)blockLength * blockCount;
        if (total == 0)
        {
            return;
        }
        _device.MakeCurrent();
        bool contiguous = blockCount == 1 || (srcStride == blockLength && dstStride == blockLength);
        if (contiguous)
        {
            _device.Driver.CopyDtoDAsync(Ptr(dst) + dstOffset * (nint)4, Ptr(src) + srcOffset * (nint)4, total * 4, _device.Stream);
            return;
        }
        var a = new KernelArgs(stackalloc byte[128]);
        a.Ptr(Ptr(src));
        a.Long(srcOffset);
        a.Long(srcStride);
        a.Ptr(Ptr(dst));
        a.Long(dstOffset);
        a.Long(dstStride);
        a.Long(blockLength);
        a.Long(blockCount);
        Launch(KernelNames.CopyBlocks, total, a);
    }

    /// <inheritdoc/>
    public void Permute(Tensor x, Tensor y, ReadOnlySpan<int> perm)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int rank = x.Rank;
        var xs = x.Shape.Strides();
        Span<int> srcStride = stackalloc int[rank];
        for (int i = 0; i < rank; i++)
        {
            srcStride[i] = xs[perm[i]];
        }
        var a = new KernelArgs(stackalloc byte[128]);
        a.Ptr(Ptr(x));
        a.Ptr(Ptr(y));
        a.Int(rank);
        a.Dims(y.Shape.Dims);
        a.Dims(srcStride);
        a.Long(y.Size);
        Launch(KernelNames.Permute, y.Size, a);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>The device address of a tensor of this device (errors name both devices when it is elsewhere).</summary>
    internal nint Ptr(Tensor t)
    {
        if (t.Storage is CudaStorage s && ReferenceEquals(s.Backend, this))
        {
            return s.Pointer;
        }
        throw new InvalidOperationException($"A tensor {t.Shape} on {t.Device} was passed to an operation on {Device}; move it with tensor.To({Device}) first.");
    }

    /// <summary>The device address of an optional tensor (0 for null).</summary>
    internal nint PtrOrNull(Tensor? t) => t == null ? 0 : Ptr(t);

    /// <summary>Launches an elementwise (grid-stride) kernel over <paramref name="elements"/> work items.</summary>
    internal void Launch(string kernel, long elements, in KernelArgs args)
    {
        if (elements <= 0)
        {
            return;
        }
        long blocks = Math.Clamp((elements + ThreadsPerBlock - 1) / ThreadsPerBlock, 1, (long)_device.MultiprocessorCount * 32);
        LaunchBlocks(kernel, blocks, ThreadsPerBlock, args);
    }

    /// <summary>Launches <paramref name="blocks"/> blocks of <paramref name="threads"/> threads (block-per-row kernels).</summary>
    internal unsafe void LaunchBlocks(string kernel, long blocks, int threads, in KernelArgs args)
    {
        if (blocks <= 0)
        {
            return;
        }
        _device.MakeCurrent();
        nint f = _device.Function(kernel);
        var bytes = args.Bytes;
        fixed (byte* p = bytes)
        {
            _device.Driver.Launch(f, (uint)Math.Min(blocks, 1L << 20), 1, 1, (uint)threads, 1, 1, 0, _device.Stream, p, (nuint)bytes.Length, kernel);
        }
    }

    /// <summary>
    /// Threads per block for a block reducing <paramref name="length"/> values: a power of two from 32 (one warp) to 256,
    /// the smallest that covers the length (the kernels' tree reductions need a power of two).
    /// </summary>
    internal static int ReductionThreads(long length)
    {
        int threads = 32;
        while (threads < ThreadsPerBlock && threads < length)
        {
            threads *= 2;
        }
        return threads;
    }

    /// <summary>Temporary device memory, given back when disposed (stream order makes that safe at once).</summary>
    internal ScratchBuffer Scratch(long bytes) => new(_device.Allocator, _device.Allocator.Allocate(bytes));

    /// <summary>Copies host values into scratch device memory (for index arrays).</summary>
    internal unsafe ScratchBuffer UploadScratch<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var s = Scratch(Math.Max(values.Length, 1) * (long)sizeof(T));
        if (!values.IsEmpty)
        {
            _device.MakeCurrent();
            fixed (T* p = values)
            {
                _device.Driver.CopyHtoDAsync(s.Pointer, p, values.Length * (long)sizeof(T), _device.Stream);
            }
        }
        return s;
    }

    /// <summary>A block of temporary device memory.</summary>
    internal readonly struct ScratchBuffer(CachingAllocator allocator, DeviceBlock block) : IDisposable
    {
        public nint Pointer => block.Pointer;

        public long Size => block.Size;

        public void Dispose() => allocator.Free(block);
    }
}
