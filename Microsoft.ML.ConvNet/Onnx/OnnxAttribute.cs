namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>ONNX tensor element types (the values of <c>TensorProto.DataType</c>).</summary>
public enum OnnxElementType
{
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>64-bit float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
}

/// <summary>Which value an <see cref="OnnxAttribute"/> holds.</summary>
public enum OnnxAttributeKind
{
    /// <summary>One 64-bit integer (<see cref="OnnxAttribute.IntValue"/>).</summary>
    Int,
    /// <summary>A list of 64-bit integers (<see cref="OnnxAttribute.IntValues"/>).</summary>
    Ints,
    /// <summary>One float (<see cref="OnnxAttribute.FloatValue"/>).</summary>
    Float,
    /// <summary>One string (<see cref="OnnxAttribute.StringValue"/>).</summary>
    String,
}

/// <summary>
/// A node attribute of an ONNX graph (for <see cref="OnnxGraph.AddNode"/>); build one with <see cref="Int"/>,
/// <see cref="Ints"/>, <see cref="Float"/> or <see cref="String"/>.
/// </summary>
/// <param name="Name">The attribute name, e.g. <c>axis</c>.</param>
/// <param name="Kind">Which value is set.</param>
/// <param name="IntValue">The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</param>
/// <param name="IntValues">The values of an <see cref="OnnxAttributeKind.Ints"/> attribute.</param>
/// <param name="FloatValue">The value of a <see cref="OnnxAttributeKind.Float"/> attribute.</param>
/// <param name="StringValue">The value of a <see cref="OnnxAttributeKind.String"/> attribute.</param>
public readonly record struct OnnxAttribute(string Name, OnnxAttributeKind Kind, long IntValue, long[] IntValues, float FloatValue, string? StringValue)
{
    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long v) => new(name, OnnxAttributeKind.Int, v, [], 0f, null);

    /// <summary>An integer-list attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] v) => new(name, OnnxAttributeKind.Ints, 0, [.. v], 0f, null);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float v) => new(name, OnnxAttributeKind.Float, 0, [], v, null);

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string v) => new(name, OnnxAttributeKind.String, 0, [], 0f, v);
}
