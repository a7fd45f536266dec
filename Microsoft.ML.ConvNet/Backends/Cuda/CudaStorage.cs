using Microsoft.ML.ConvNet.Backends.Cuda.Memory;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// Device memory of a CUDA tensor: a block of the device's <see cref="CachingAllocator"/>, given back to it when the
/// last tensor using it is disposed (or, for a tensor never disposed, when it is garbage collected). Freed blocks are
/// reused by work queued later on the same stream, so no synchronisation is needed.
/// </summary>
public sealed class CudaStorage : Storage
{
    private readonly CudaBackend _backend;
    private DeviceBlock? _block;

    internal CudaStorage(CudaBackend backend, DeviceBlock block, int length)
    {
        _backend = backend;
        _block = block;
        Length = length;
    }

    /// <summary>Returns the block if the storage was never released.</summary>
    ~CudaStorage()
    {
        Free();
    }

    /// <inheritdoc/>
    public override int Length { get; }

    /// <inheritdoc/>
    public override IBackend Backend => _backend;

    /// <summary>The device address of the first element; throws once released.</summary>
    public nint Pointer => (_block ?? throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed; its device memory is back in the cache.")).Pointer;

    /// <inheritdoc/>
    protected override void Free()
    {
        var b = Interlocked.Exchange(ref _block, null);
        if (b != null)
        {
            _backend.Allocator.Free(b);
            GC.SuppressFinalize(this);
        }
    }
}
