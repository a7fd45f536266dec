namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// A constant of an imported graph kept on the host: an initializer, a Constant node's value, or a value computed from
/// constants and shapes (Shape → Gather → Concat → Reshape chains). Float and double tensors hold floats; integer and
/// boolean tensors hold 64-bit integers.
/// </summary>
internal sealed class HostTensor
{
    public HostTensor(long[] dims, float[] values)
    {
        Dims = dims;
        Floats = values;
        ElementType = (int)OnnxElementType.Float;
    }

    public HostTensor(long[] dims, long[] values, int elementType = (int)OnnxElementType.Int64)
    {
        Dims = dims;
        Ints = values;
        ElementType = elementType;
    }

    /// <summary>The dimensions (none for a scalar).</summary>
    public long[] Dims { get; }

    /// <summary>The ONNX element type (float, int64, bool, ...).</summary>
    public int ElementType { get; }

    /// <summary>The values of a float tensor, else null.</summary>
    public float[]? Floats { get; }

    /// <summary>The values of an integer or boolean tensor, else null.</summary>
    public long[]? Ints { get; }

    /// <summary>True when the values are floats.</summary>
    public bool IsFloat => Floats != null;

    /// <summary>The number of values.</summary>
    public int Count => Floats?.Length ?? Ints!.Length;

    /// <summary>True for a constant known when the model was loaded (converted to a device tensor once).</summary>
    public bool IsLoadConstant { get; init; }

    /// <summary>The values as 64-bit integers (floats truncated).</summary>
    public long[] AsLongs() => Ints ?? Floats!.Select(f => (long)f).ToArray();

    /// <summary>The values as floats.</summary>
    public float[] AsFloats() => Floats ?? Ints!.Select(i => (float)i).ToArray();

    /// <summary>The dimensions as ints.</summary>
    public int[] IntDims() => Dims.Select(d => (int)d).ToArray();

    /// <summary>The same values with other dimensions.</summary>
    public HostTensor WithDims(long[] dims) => IsFloat ? new HostTensor(dims, Floats!) : new HostTensor(dims, Ints!, ElementType);

    /// <summary>A new tensor of this one's kind holding the values at <paramref name="index"/>.</summary>
    public HostTensor Pick(long[] dims, IEnumerable<int> index)
        => IsFloat ? new HostTensor(dims, index.Select(i => Floats![i]).ToArray()) : new HostTensor(dims, index.Select(i => Ints![i]).ToArray(), ElementType);

    /// <summary>Builds a host tensor from a parsed TensorProto; null when its element type has no host form here.</summary>
    public static HostTensor? From(OnnxTensorData t)
    {
        if (t.Floats != null)
        {
            return new HostTensor(t.Dims, t.Floats) { IsLoadConstant = true };
        }
        if (t.Ints != null)
        {
            return new HostTensor(t.Dims, t.Ints, t.DataType) { IsLoadConstant = true };
        }
        return null;
    }
}
