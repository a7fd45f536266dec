using System.Runtime.CompilerServices;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// Packs kernel arguments into one buffer with C's alignment rules (passed to cuLaunchKernel as
/// CU_LAUNCH_PARAM_BUFFER_POINTER). The order and types must match the kernel's signature: <see cref="Ptr"/> for
/// pointers, <see cref="Int"/> for int, <see cref="Long"/> for long long, <see cref="Float"/> for float and
/// <see cref="Dims"/> for the <c>Dims8</c> struct.
/// </summary>
internal ref struct KernelArgs
{
    private readonly Span<byte> _buffer;
    private int _size;

    public KernelArgs(Span<byte> buffer)
    {
        _buffer = buffer;
        _size = 0;
    }

    public readonly ReadOnlySpan<byte> Bytes => _buffer[.._size];

    public void Ptr(nint value) => Add(value, 8);

    public void Int(int value) => Add(value, 4);

    public void Long(long value) => Add(value, 8);

    public void Float(float value) => Add(value, 4);

    /// <summary>Up to eight ints (a <c>Dims8</c> by value; unused entries are 1).</summary>
    public void Dims(ReadOnlySpan<int> values)
    {
        if (values.Length > 8)
        {
            throw new ArgumentException($"A CUDA kernel takes at most 8 dimensions, got {values.Length}.");
        }
        for (int i = 0; i < 8; i++)
        {
            Add(i < values.Length ? values[i] : 1, 4);
        }
    }

    private void Add<T>(T value, int alignment) where T : unmanaged
    {
        _size = (_size + alignment - 1) / alignment * alignment;
        int bytes = Unsafe.SizeOf<T>();
        if (_size + bytes > _buffer.Length)
        {
            throw new InvalidOperationException("Too many kernel arguments for the argument buffer.");
        }
        Unsafe.WriteUnaligned(ref _buffer[_size], value);
        _size += bytes;
    }
}
