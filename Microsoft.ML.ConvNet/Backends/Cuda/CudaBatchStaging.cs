using System.Collections.Concurrent;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>Writes a batch's values into <paramref name="destination"/>.</summary>
internal delegate void FillAction(Span<float> destination);

/// <summary>
/// Host-to-device batch uploads overlapped with compute. The loader's background thread gathers each batch straight
/// into a pinned (page-locked) host buffer and queues its copy on the device's copy stream; the consumer makes the
/// compute stream wait for that copy (an event) before the batch is used. Ordering:
/// <list type="bullet">
/// <item>the copy waits for an event recorded on the compute stream when the destination was allocated, so device
/// memory the cache hands out again is not overwritten while queued compute work still reads it;</item>
/// <item>a pinned buffer is refilled only after its previous copy has finished (its event).</item>
/// </list>
/// </summary>
internal sealed class CudaBatchStaging : IDisposable
{
    private readonly CudaBackend _backend;
    private readonly CudaDevice _device;
    private readonly ConcurrentBag<PinnedSlot> _free = [];
    private readonly ConcurrentBag<PinnedSlot> _all = [];
    private bool _disposed;

    public CudaBatchStaging(CudaBackend backend)
    {
        _backend = backend;
        _device = backend.DeviceState;
    }

    /// <summary>
    /// Fills a pinned buffer of <paramref name="shape"/>'s size with <paramref name="fill"/> and queues its upload into a new
    /// device tensor (owned by the caller, in no scope). Call <see cref="Acquire"/> before using the tensor.
    /// </summary>
    public unsafe (Tensor Images, object Token) Stage(Shape shape, FillAction fill)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int size = shape.Size;
        var slot = Rent(size);
        var d = _device.Driver;
        _device.MakeCurrent();
        if (slot.CopyQueued)
        {
            d.EventSynchronize(slot.CopyDone.Value);
        }
        fill(new Span<float>((void*)slot.Buffer.Value, size));
        var images = new Tensor(shape, _backend.Allocate(size), register: false);
        try
        {
            d.EventRecord(slot.Allocated.Value, _device.Stream);
            d.StreamWaitEvent(_device.CopyStream, slot.Allocated.Value);
            d.CopyHtoDAsync(_backend.Ptr(images), (void*)slot.Buffer.Value, size * 4L, _device.CopyStream);
            d.EventRecord(slot.CopyDone.Value, _device.CopyStream);
            slot.CopyQueued = true;
        }
        catch
        {
            images.Dispose();
            _free.Add(slot);
            throw;
        }
        return (images, slot);
    }

    /// <summary>Orders the compute stream after the upload of a staged batch and recycles its pinned buffer.</summary>
    public void Acquire(object token)
    {
        var slot = (PinnedSlot)token;
        _device.MakeCurrent();
        _device.Driver.StreamWaitEvent(_device.Stream, slot.CopyDone.Value);
        _free.Add(slot);
    }

    /// <summary>Waits for the queued copies and frees the pinned buffers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _device.MakeCurrent();
        foreach (var slot in _all)
        {
            if (slot.CopyQueued)
            {
                _device.Driver.EventSynchronize(slot.CopyDone.Value);
            }
            slot.Buffer.Dispose();
            slot.CopyDone.Dispose();
            slot.Allocated.Dispose();
        }
    }

    private PinnedSlot Rent(int floats)
    {
        while (_free.TryTake(out var slot))
        {
            if (slot.Floats >= floats)
            {
                return slot;
            }
            slot.Retire(_device);
        }
        _device.MakeCurrent();
        var d = _device.Driver;
        var created = new PinnedSlot(
            new CudaHandle(d.MemHostAlloc(floats * 4L), p => d.MemFreeHost(p)),
            floats,
            new CudaHandle(d.EventCreate(), e => d.EventDestroy(e)),
            new CudaHandle(d.EventCreate(), e => d.EventDestroy(e)));
        _all.Add(created);
        return created;
    }

    /// <summary>A pinned host buffer with the events ordering its reuse.</summary>
    private sealed class PinnedSlot(CudaHandle buffer, int floats, CudaHandle copyDone, CudaHandle allocated)
    {
        public CudaHandle Buffer { get; } = buffer;

        public int Floats { get; } = floats;

        public CudaHandle CopyDone { get; } = copyDone;

        public CudaHandle Allocated { get; } = allocated;

        public bool CopyQueued { get; set; }

        /// <summary>Frees a buffer too small for the batches now asked for (after its last copy).</summary>
        public void Retire(CudaDevice device)
        {
            if (CopyQueued)
            {
                device.MakeCurrent();
                device.Driver.EventSynchronize(CopyDone.Value);
                CopyQueued = false;
            }
            Buffer.Dispose();
        }
    }
}
