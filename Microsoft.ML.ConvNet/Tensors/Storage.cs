using Microsoft.ML.ConvNet.Backends;

namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// The memory behind one or more tensors (a reshape shares it). Reference counted: the memory goes back
/// to its device's pool when the last tensor using it is disposed.
/// </summary>
public abstract class Storage
{
    private int _refCount = 1;

    /// <summary>Number of float elements.</summary>
    public abstract int Length { get; }

    /// <summary>The backend that owns the memory.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>True once the memory has been released.</summary>
    public bool IsReleased => Volatile.Read(ref _refCount) <= 0;

    internal void AddRef()
    {
        if (Interlocked.Increment(ref _refCount) <= 1)
        {
            throw new ObjectDisposedException(nameof(Storage), "The tensor's memory was already released.");
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _refCount) == 0)
        {
            Free();
        }
    }

    /// <summary>Gives the memory back to the device's pool.</summary>
    protected abstract void Free();
}
