using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>Host memory from the <see cref="BufferPool"/>.</summary>
public sealed class CpuStorage : Storage
{
    private float[]? _data;

    internal CpuStorage(float[] data) => _data = data;

    /// <inheritdoc/>
    public override int Length => _data?.Length ?? 0;

    /// <inheritdoc/>
    public override IBackend Backend => CpuBackend.Instance;

    /// <summary>The buffer; throws once released.</summary>
    public float[] Data => _data ?? throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed; its memory is back in the pool.");

    /// <inheritdoc/>
    protected override void Free()
    {
        var d = _data;
        _data = null;
        if (d != null)
        {
            BufferPool.Return(d);
        }
    }
}
