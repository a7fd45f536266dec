using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// The few ONNX protobuf messages the exporter writes, each with its encoded size and its writer (field numbers from
/// <c>onnx.proto</c>). A message is written as its fields in field order; a nested message as a length-delimited field
/// whose length is the nested message's <see cref="ProtoMessage.Size"/>, so nothing is buffered twice.
/// </summary>
internal abstract class ProtoMessage
{
    /// <summary>The encoded size in bytes.</summary>
    public abstract int Size();

    /// <summary>Writes the fields.</summary>
    public abstract void WriteTo(CodedOutputStream output);

    /// <summary>The message as bytes.</summary>
    public byte[] ToByteArray()
    {
        var bytes = new byte[Size()];
        var output = new CodedOutputStream(bytes);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    protected static int TagSize(int field) => CodedOutputStream.ComputeTagSize(field);

    protected static int StringSize(int field, string? value)
        => value == null ? 0 : TagSize(field) + CodedOutputStream.ComputeStringSize(value);

    protected static int Int64Size(int field, long value) => TagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    protected static int MessageSize(int field, ProtoMessage? message)
        => message == null ? 0 : TagSize(field) + CodedOutputStream.ComputeLengthSize(message.Size()) + message.Size();

    protected static int MessagesSize(int field, IEnumerable<ProtoMessage> messages) => messages.Sum(m => MessageSize(field, m));

    protected static int PackedInt64Size(int field, IReadOnlyCollection<long> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }
        int payload = values.Sum(CodedOutputStream.ComputeInt64Size);
        return TagSize(field) + CodedOutputStream.ComputeLengthSize(payload) + payload;
    }

    protected static void WriteString(CodedOutputStream output, int field, string? value)
    {
        if (value != null)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteString(value);
        }
    }

    protected static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    protected static void WriteMessage(CodedOutputStream output, int field, ProtoMessage? message)
    {
        if (message != null)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteLength(message.Size());
            message.WriteTo(output);
        }
    }

    protected static void WriteMessages(CodedOutputStream output, int field, IEnumerable<ProtoMessage> messages)
    {
        foreach (var m in messages)
        {
            WriteMessage(output, field, m);
        }
    }

    protected static void WritePackedInt64(CodedOutputStream output, int field, IReadOnlyCollection<long> values)
    {
        if (values.Count == 0)
        {
            return;
        }
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(values.Sum(CodedOutputStream.ComputeInt64Size));
        foreach (long v in values)
        {
            output.WriteInt64(v);
        }
    }
}

/// <summary>ModelProto: ir_version (1), producer_name (2), producer_version (3), graph (7), opset_import (8).</summary>
internal sealed class ModelProto(GraphProto graph) : ProtoMessage
{
    public const long IrVersion = 8;
    public const long Opset = 17;
    private const string Producer = "Microsoft.ML.ConvNet";
    private static readonly string ProducerVersion = typeof(ModelProto).Assembly.GetName().Version?.ToString() ?? "0";
    private readonly OperatorSetIdProto _opset = new(string.Empty, Opset);

    public override int Size()
        => Int64Size(1, IrVersion) + StringSize(2, Producer) + StringSize(3, ProducerVersion) + MessageSize(7, graph) + MessageSize(8, _opset);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteInt64(output, 1, IrVersion);
        WriteString(output, 2, Producer);
        WriteString(output, 3, ProducerVersion);
        WriteMessage(output, 7, graph);
        WriteMessage(output, 8, _opset);
    }
}

/// <summary>OperatorSetIdProto: domain (1), version (2).</summary>
internal sealed class OperatorSetIdProto(string domain, long version) : ProtoMessage
{
    public override int Size() => StringSize(1, domain) + Int64Size(2, version);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, domain);
        WriteInt64(output, 2, version);
    }
}

/// <summary>GraphProto: node (1), name (2), initializer (5), input (11), output (12).</summary>
internal sealed class GraphProto(string name) : ProtoMessage
{
    public List<NodeProto> Nodes { get; } = [];
    public List<TensorProto> Initializers { get; } = [];
    public List<ValueInfoProto> Inputs { get; } = [];
    public List<ValueInfoProto> Outputs { get; } = [];

    public override int Size()
        => MessagesSize(1, Nodes) + StringSize(2, name) + MessagesSize(5, Initializers) + MessagesSize(11, Inputs) + MessagesSize(12, Outputs);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteMessages(output, 1, Nodes);
        WriteString(output, 2, name);
        WriteMessages(output, 5, Initializers);
        WriteMessages(output, 11, Inputs);
        WriteMessages(output, 12, Outputs);
    }
}

/// <summary>NodeProto: input (1), output (2), name (3), op_type (4), attribute (5).</summary>
internal sealed class NodeProto(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttribute> attributes) : ProtoMessage
{
    public string OpType => opType;

    public IReadOnlyList<string> Outputs => outputs;

    private IEnumerable<AttributeProto> Attributes => attributes.Select(a => new AttributeProto(a));

    public override int Size()
        => inputs.Sum(i => StringSize(1, i)) + outputs.Sum(o => StringSize(2, o)) + StringSize(3, name) + StringSize(4, opType)
            + MessagesSize(5, Attributes);

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (var i in inputs)
        {
            WriteString(output, 1, i);
        }
        foreach (var o in outputs)
        {
            WriteString(output, 2, o);
        }
        WriteString(output, 3, name);
        WriteString(output, 4, opType);
        WriteMessages(output, 5, Attributes);
    }
}

/// <summary>AttributeProto: name (1), f (2), i (3), s (4), ints (8, packed), type (20).</summary>
internal sealed class AttributeProto(OnnxAttribute attribute) : ProtoMessage
{
    // AttributeProto.AttributeType values.
    private const int FloatType = 1, IntType = 2, StringType = 3, IntsType = 7;

    private int TypeCode => attribute.Kind switch
    {
        OnnxAttributeKind.Float => FloatType,
        OnnxAttributeKind.Int => IntType,
        OnnxAttributeKind.String => StringType,
        _ => IntsType,
    };

    public override int Size()
    {
        int size = StringSize(1, attribute.Name) + Int64Size(20, TypeCode);
        return size + attribute.Kind switch
        {
            OnnxAttributeKind.Float => TagSize(2) + CodedOutputStream.ComputeFloatSize(attribute.FloatValue),
            OnnxAttributeKind.Int => Int64Size(3, attribute.IntValue),
            OnnxAttributeKind.String => StringSize(4, attribute.StringValue),
            _ => PackedInt64Size(8, attribute.IntValues),
        };
    }

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttributeKind.Float:
                output.WriteTag(2, WireFormat.WireType.Fixed32);
                output.WriteFloat(attribute.FloatValue);
                break;
            case OnnxAttributeKind.Int:
                WriteInt64(output, 3, attribute.IntValue);
                break;
            case OnnxAttributeKind.String:
                WriteString(output, 4, attribute.StringValue);
                break;
            default:
                WritePackedInt64(output, 8, attribute.IntValues);
                break;
        }
        WriteInt64(output, 20, TypeCode);
    }
}

/// <summary>
/// TensorProto: dims (1, packed), data_type (2), int32_data (5, packed; bools), string_data (6), int64_data (7, packed),
/// name (8), raw_data (9; floats, little-endian).
/// </summary>
internal sealed class TensorProto : ProtoMessage
{
    private readonly long[] _dims;
    private readonly OnnxElementType _type;
    private ByteString? _raw;
    private long[] _int64 = [];
    private long[] _int32 = [];
    private string[] _strings = [];

    private TensorProto(string name, OnnxElementType type, long[] dims)
    {
        Name = name;
        _type = type;
        _dims = dims;
    }

    public string Name { get; }

    /// <summary>Float values as little-endian bytes in raw_data; <paramref name="bytes"/> is kept, not copied.</summary>
    public static TensorProto FromFloatBytes(string name, byte[] bytes, long[] dims)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
            foreach (ref float f in floats)
            {
                f = BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(f)));
            }
        }
        return new TensorProto(name, OnnxElementType.Float, dims) { _raw = UnsafeByteOperations.UnsafeWrap(bytes) };
    }

    public static TensorProto FromFloats(string name, ReadOnlySpan<float> values, long[] dims)
        => FromFloatBytes(name, MemoryMarshal.AsBytes(values).ToArray(), dims);

    public static TensorProto FromInt64(string name, long[] values, long[] dims)
        => new(name, OnnxElementType.Int64, dims) { _int64 = values };

    public static TensorProto FromBool(string name, bool[] values, long[] dims)
        => new(name, OnnxElementType.Bool, dims) { _int32 = values.Select(b => b ? 1L : 0L).ToArray() };

    public static TensorProto FromStrings(string name, string[] values, long[] dims)
        => new(name, OnnxElementType.String, dims) { _strings = values };

    public override int Size()
        => PackedInt64Size(1, _dims) + Int64Size(2, (int)_type) + PackedInt64Size(5, _int32)
            + _strings.Sum(s => TagSize(6) + CodedOutputStream.ComputeBytesSize(ByteString.CopyFromUtf8(s)))
            + PackedInt64Size(7, _int64) + StringSize(8, Name)
            + (_raw == null ? 0 : TagSize(9) + CodedOutputStream.ComputeBytesSize(_raw));

    public override void WriteTo(CodedOutputStream output)
    {
        WritePackedInt64(output, 1, _dims);
        WriteInt64(output, 2, (int)_type);
        WritePackedInt64(output, 5, _int32);
        foreach (var s in _strings)
        {
            output.WriteTag(6, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(s, Encoding.UTF8));
        }
        WritePackedInt64(output, 7, _int64);
        WriteString(output, 8, Name);
        if (_raw != null)
        {
            output.WriteTag(9, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(_raw);
        }
    }
}

/// <summary>
/// ValueInfoProto: name (1), type (2) → TypeProto: tensor_type (1) → TypeProto.Tensor: elem_type (1), shape (2) →
/// TensorShapeProto: dim (1) → Dimension: dim_value (1) or dim_param (2). A dimension of -1 is written as the
/// symbolic batch size "N".
/// </summary>
internal sealed class ValueInfoProto(string name, OnnxElementType type, long[] dims) : ProtoMessage
{
    public const string BatchSymbol = "N";

    public string Name => name;

    private readonly TypeProto _type = new(type, new ShapeProto(dims));

    public override int Size() => StringSize(1, name) + MessageSize(2, _type);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, name);
        WriteMessage(output, 2, _type);
    }

    private sealed class TypeProto(OnnxElementType type, ShapeProto shape) : ProtoMessage
    {
        private readonly TensorTypeProto _tensor = new(type, shape);

        public override int Size() => MessageSize(1, _tensor);

        public override void WriteTo(CodedOutputStream output) => WriteMessage(output, 1, _tensor);
    }

    private sealed class TensorTypeProto(OnnxElementType type, ShapeProto shape) : ProtoMessage
    {
        public override int Size() => Int64Size(1, (int)type) + MessageSize(2, shape);

        public override void WriteTo(CodedOutputStream output)
        {
            WriteInt64(output, 1, (int)type);
            WriteMessage(output, 2, shape);
        }
    }

    private sealed class ShapeProto(long[] dims) : ProtoMessage
    {
        private readonly DimensionProto[] _dims = dims.Select(d => new DimensionProto(d)).ToArray();

        public override int Size() => MessagesSize(1, _dims);

        public override void WriteTo(CodedOutputStream output) => WriteMessages(output, 1, _dims);
    }

    private sealed class DimensionProto(long dim) : ProtoMessage
    {
        public override int Size() => dim < 0 ? StringSize(2, BatchSymbol) : Int64Size(1, dim);

        public override void WriteTo(CodedOutputStream output)
        {
            if (dim < 0)
            {
                WriteString(output, 2, BatchSymbol);
            }
            else
            {
                WriteInt64(output, 1, dim);
            }
        }
    }
}
