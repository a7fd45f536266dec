using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>A parsed ONNX model: IR version, default-domain opset and the main graph.</summary>
internal sealed class OnnxModelData
{
    public long IrVersion { get; set; }
    public string Producer { get; set; } = string.Empty;
    public Dictionary<string, long> Opsets { get; } = new(StringComparer.Ordinal);
    public OnnxGraphData? Graph { get; set; }

    /// <summary>The default domain's opset ("" and "ai.onnx" are the same domain).</summary>
    public long DefaultOpset => Opsets.TryGetValue(string.Empty, out var v) ? v : Opsets.GetValueOrDefault("ai.onnx", 0);
}

/// <summary>A parsed GraphProto: nodes, initializers, inputs and outputs.</summary>
internal sealed class OnnxGraphData
{
    public string Name { get; set; } = string.Empty;
    public List<OnnxNodeData> Nodes { get; } = [];
    public List<OnnxTensorData> Initializers { get; } = [];
    public List<OnnxValueInfoData> Inputs { get; } = [];
    public List<OnnxValueInfoData> Outputs { get; } = [];
}

/// <summary>A parsed NodeProto.</summary>
internal sealed class OnnxNodeData
{
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public string Name { get; set; } = string.Empty;
    public string OpType { get; set; } = string.Empty;
    public string Domain { get; set; } = string.Empty;
    public List<OnnxAttributeData> Attributes { get; } = [];
}

/// <summary>A parsed AttributeProto (graph-valued attributes are only noted, not read).</summary>
internal sealed class OnnxAttributeData
{
    // AttributeProto.AttributeType values.
    public const int FloatType = 1, IntType = 2, StringType = 3, TensorType = 4, GraphType = 5, FloatsType = 6, IntsType = 7, StringsType = 8;

    public string Name { get; set; } = string.Empty;
    public int Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public byte[] S { get; set; } = [];
    public OnnxTensorData? T { get; set; }
    public bool HasGraph { get; set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<byte[]> Strings { get; } = [];

    /// <summary>The string value as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(S);
}

/// <summary>A parsed ValueInfoProto: the name, element type and dimensions (-1 for a symbolic or missing one).</summary>
internal sealed class OnnxValueInfoData
{
    public string Name { get; set; } = string.Empty;
    public int ElementType { get; set; }
    public List<long>? Dims { get; set; }
}

/// <summary>
/// A parsed TensorProto: dimensions, element type and values as floats (float and double tensors) or 64-bit integers
/// (integer and boolean tensors). The values are checked against the dimensions when read.
/// </summary>
internal sealed class OnnxTensorData
{
    public string Name { get; set; } = string.Empty;
    public long[] Dims { get; set; } = [];
    public int DataType { get; set; }
    public float[]? Floats { get; set; }
    public long[]? Ints { get; set; }
}

/// <summary>
/// Reads the ONNX protobuf messages the importer needs (field numbers from <c>onnx.proto</c>) with
/// <see cref="CodedInputStream"/>; unknown fields are skipped. Every failure (truncation, a bad length or wire type,
/// values that do not fit their dimensions, external data) becomes an <see cref="InvalidDataException"/> naming the
/// source; sizes are checked before anything is allocated for them.
/// </summary>
internal sealed class OnnxProtoReader
{
    /// <summary>The largest tensor the importer reads, in elements.</summary>
    private const long MaxElements = int.MaxValue / 8;

    private readonly byte[] _bytes;
    private readonly string _source;

    private OnnxProtoReader(byte[] bytes, string source)
    {
        _bytes = bytes;
        _source = source;
    }

    /// <summary>Parses a ModelProto from <paramref name="bytes"/>; <paramref name="source"/> names the file in errors.</summary>
    public static OnnxModelData ReadModel(byte[] bytes, string source)
    {
        var reader = new OnnxProtoReader(bytes, source);
        try
        {
            return reader.Model(new Region(bytes, 0, bytes.Length, prefixed: false));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw reader.Bad($"the protobuf encoding is broken or truncated ({e.Message})", e);
        }
    }

    /// <summary>One message's bytes: a stream over them and where they start in the file.</summary>
    private sealed class Region
    {
        private readonly int _base;
        private readonly long _start;

        public Region(byte[] bytes, int offset, int length, bool prefixed)
        {
            Input = new CodedInputStream(bytes, offset, length);
            _base = offset;
            _start = Input.Position;
            if (prefixed)
            {
                Input.ReadLength();
            }
        }

        public CodedInputStream Input { get; }

        /// <summary>The absolute offset in the file of the stream's current position.</summary>
        public int Offset => _base + (int)(Input.Position - _start);
    }

    private InvalidDataException Bad(string what, Exception? inner = null)
        => new($"ONNX model '{_source}': {what}.", inner);

    private static bool IsVarint(uint tag) => WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint;

    private static bool IsDelimited(uint tag) => WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;

    private static bool IsFixed32(uint tag) => WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed32;

    /// <summary>The length-delimited field whose tag was just read, as a region of its own (the outer one moves past it).</summary>
    private Region Nested(Region outer)
    {
        int start = outer.Offset;
        outer.Input.SkipLastField();
        int end = outer.Offset;
        return new Region(_bytes, start, end - start, prefixed: true);
    }

    private OnnxModelData Model(Region r)
    {
        var model = new OnnxModelData();
        var input = r.Input;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsVarint(tag): model.IrVersion = input.ReadInt64(); break;
                case 2 when IsDelimited(tag): model.Producer = input.ReadString(); break;
                case 7 when IsDelimited(tag): model.Graph = Graph(Nested(r)); break;
                case 8 when IsDelimited(tag):
                    var (domain, version) = Opset(Nested(r));
                    model.Opsets[domain] = version;
                    break;
                default: input.SkipLastField(); break;
            }
        }
        if (model.Graph == null)
        {
            throw Bad("the model has no graph (ModelProto.graph is missing: is this an ONNX file?)");
        }
        return model;
    }

    private static (string Domain, long Version) Opset(Region r)
    {
        string domain = string.Empty;
        long version = 0;
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsDelimited(tag): domain = r.Input.ReadString(); break;
                case 2 when IsVarint(tag): version = r.Input.ReadInt64(); break;
                default: r.Input.SkipLastField(); break;
            }
        }
        return (domain, version);
    }

    private OnnxGraphData Graph(Region r)
    {
        var graph = new OnnxGraphData();
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsDelimited(tag): graph.Nodes.Add(Node(Nested(r))); break;
                case 2 when IsDelimited(tag): graph.Name = r.Input.ReadString(); break;
                case 5 when IsDelimited(tag): graph.Initializers.Add(Tensor(Nested(r))); break;
                case 11 when IsDelimited(tag): graph.Inputs.Add(ValueInfo(Nested(r))); break;
                case 12 when IsDelimited(tag): graph.Outputs.Add(ValueInfo(Nested(r))); break;
                case 15 when IsDelimited(tag): throw Bad("sparse initializers are not supported");
                default: r.Input.SkipLastField(); break;
            }
        }
        return graph;
    }

    private OnnxNodeData Node(Region r)
    {
        var node = new OnnxNodeData();
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsDelimited(tag): node.Inputs.Add(r.Input.ReadString()); break;
                case 2 when IsDelimited(tag): node.Outputs.Add(r.Input.ReadString()); break;
                case 3 when IsDelimited(tag): node.Name = r.Input.ReadString(); break;
                case 4 when IsDelimited(tag): node.OpType = r.Input.ReadString(); break;
                case 5 when IsDelimited(tag): node.Attributes.Add(Attribute(Nested(r))); break;
                case 7 when IsDelimited(tag): node.Domain = r.Input.ReadString(); break;
                default: r.Input.SkipLastField(); break;
            }
        }
        return node;
    }

    private OnnxAttributeData Attribute(Region r)
    {
        var a = new OnnxAttributeData();
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsDelimited(tag): a.Name = r.Input.ReadString(); break;
                case 2 when IsFixed32(tag): a.F = r.Input.ReadFloat(); break;
                case 3 when IsVarint(tag): a.I = r.Input.ReadInt64(); break;
                case 4 when IsDelimited(tag): a.S = r.Input.ReadBytes().ToByteArray(); break;
                case 5 when IsDelimited(tag): a.T = Tensor(Nested(r)); break;
                case 6 or 11: a.HasGraph = true; r.Input.SkipLastField(); break;
                case 7 when IsFixed32(tag): a.Floats.Add(r.Input.ReadFloat()); break;
                case 7 when IsDelimited(tag): ReadPacked(Nested(r), a.Floats, i => i.ReadFloat()); break;
                case 8 when IsVarint(tag): a.Ints.Add(r.Input.ReadInt64()); break;
                case 8 when IsDelimited(tag): ReadPacked(Nested(r), a.Ints, i => i.ReadInt64()); break;
                case 9 when IsDelimited(tag): a.Strings.Add(r.Input.ReadBytes().ToByteArray()); break;
                case 20 when IsVarint(tag): a.Type = r.Input.ReadInt32(); break;
                default: r.Input.SkipLastField(); break;
            }
        }
        if (a.Type == 0)
        {
            // IR version 1 files may leave the type out: infer it from the field that is set.
            a.Type = a.HasGraph ? OnnxAttributeData.GraphType : a.T != null ? OnnxAttributeData.TensorType
                : a.Ints.Count > 0 ? OnnxAttributeData.IntsType : a.Floats.Count > 0 ? OnnxAttributeData.FloatsType
                : a.S.Length > 0 ? OnnxAttributeData.StringType : a.F != 0 ? OnnxAttributeData.FloatType : OnnxAttributeData.IntType;
        }
        return a;
    }

    private static void ReadPacked<T>(Region r, List<T> values, Func<CodedInputStream, T> read)
    {
        while (!r.Input.IsAtEnd)
        {
            values.Add(read(r.Input));
        }
    }

    private OnnxValueInfoData ValueInfo(Region r)
    {
        var info = new OnnxValueInfoData();
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsDelimited(tag): info.Name = r.Input.ReadString(); break;
                case 2 when IsDelimited(tag): TypeProto(Nested(r), info); break;
                default: r.Input.SkipLastField(); break;
            }
        }
        return info;
    }

    /// <summary>TypeProto.tensor_type (1): elem_type (1), shape (2) with dim (1): dim_value (1) or dim_param (2).</summary>
    private void TypeProto(Region r, OnnxValueInfoData info)
    {
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1 || !IsDelimited(tag))
            {
                r.Input.SkipLastField();
                continue;
            }
            var tensorType = Nested(r);
            while ((tag = tensorType.Input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1 when IsVarint(tag): info.ElementType = tensorType.Input.ReadInt32(); break;
                    case 2 when IsDelimited(tag): info.Dims = Dims(Nested(tensorType)); break;
                    default: tensorType.Input.SkipLastField(); break;
                }
            }
        }
    }

    private List<long> Dims(Region shape)
    {
        var dims = new List<long>();
        uint tag;
        while ((tag = shape.Input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1 || !IsDelimited(tag))
            {
                shape.Input.SkipLastField();
                continue;
            }
            var dim = Nested(shape);
            long value = -1;
            while ((tag = dim.Input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == 1 && IsVarint(tag))
                {
                    value = dim.Input.ReadInt64();
                }
                else
                {
                    dim.Input.SkipLastField();
                }
            }
            dims.Add(value > 0 ? value : -1);
        }
        return dims;
    }

    private OnnxTensorData Tensor(Region r)
    {
        var t = new OnnxTensorData();
        var dims = new List<long>();
        var floats = new List<float>();
        var ints = new List<long>();
        var doubles = new List<double>();
        ReadOnlyMemory<byte>? raw = null;
        bool external = false;
        uint tag;
        while ((tag = r.Input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsVarint(tag): dims.Add(r.Input.ReadInt64()); break;
                case 1 when IsDelimited(tag): ReadPacked(Nested(r), dims, i => i.ReadInt64()); break;
                case 2 when IsVarint(tag): t.DataType = r.Input.ReadInt32(); break;
                case 4 when IsFixed32(tag): floats.Add(r.Input.ReadFloat()); break;
                case 4 when IsDelimited(tag): ReadPacked(Nested(r), floats, i => i.ReadFloat()); break;
                case 5 or 7 or 11 when IsVarint(tag): ints.Add(r.Input.ReadInt64()); break;
                case 5 or 7 or 11 when IsDelimited(tag): ReadPacked(Nested(r), ints, i => i.ReadInt64()); break;
                case 8 when IsDelimited(tag): t.Name = r.Input.ReadString(); break;
                case 9 when IsDelimited(tag): raw = Payload(r); break;
                case 10 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64: doubles.Add(r.Input.ReadDouble()); break;
                case 10 when IsDelimited(tag): ReadPacked(Nested(r), doubles, i => i.ReadDouble()); break;
                case 13 when IsDelimited(tag): external = true; r.Input.SkipLastField(); break;
                case 14 when IsVarint(tag): external |= r.Input.ReadInt32() == 1; break;
                default: r.Input.SkipLastField(); break;
            }
        }
        string what = $"tensor '{t.Name}'";
        if (external)
        {
            throw Bad($"{what} keeps its values in an external file (data_location EXTERNAL), which the importer does not read; save the model with its weights inside the .onnx file");
        }
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > MaxElements || (count *= Math.Max(d, 1)) > MaxElements)
            {
                throw Bad($"{what} has invalid dimensions [{string.Join(", ", dims)}]");
            }
        }
        if (dims.Any(d => d == 0))
        {
            count = 0;
        }
        t.Dims = [.. dims];
        int n = (int)count;
        switch (t.DataType)
        {
            case 1: // FLOAT
                if (raw != null)
                {
                    CheckBytes(what, raw.Value.Length, n, 4);
                    var f = new float[n];
                    raw.Value.Span.CopyTo(MemoryMarshal.AsBytes(f.AsSpan()));
                    if (!BitConverter.IsLittleEndian)
                    {
                        throw Bad("reading raw tensor data needs a little-endian machine");
                    }
                    t.Floats = f;
                }
                else
                {
                    CheckCount(what, floats.Count, n);
                    t.Floats = [.. floats];
                }
                break;
            case 11: // DOUBLE
                if (raw != null)
                {
                    CheckBytes(what, raw.Value.Length, n, 8);
                    var f = new float[n];
                    for (int i = 0; i < n; i++)
                    {
                        f[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.Value.Span.Slice(8 * i, 8));
                    }
                    t.Floats = f;
                }
                else
                {
                    CheckCount(what, doubles.Count, n);
                    t.Floats = [.. doubles.Select(d => (float)d)];
                }
                break;
            case 2 or 3 or 4 or 5 or 6 or 7 or 9 or 12 or 13: // UINT8 INT8 UINT16 INT16 INT32 INT64 BOOL UINT32 UINT64
                int size = t.DataType switch { 2 or 3 or 9 => 1, 4 or 5 => 2, 6 or 12 => 4, _ => 8 };
                if (raw != null)
                {
                    CheckBytes(what, raw.Value.Length, n, size);
                    var v = new long[n];
                    var span = raw.Value.Span;
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = t.DataType switch
                        {
                            2 or 9 => span[i],
                            3 => (sbyte)span[i],
                            4 => BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(2 * i, 2)),
                            5 => BinaryPrimitives.ReadInt16LittleEndian(span.Slice(2 * i, 2)),
                            6 => BinaryPrimitives.ReadInt32LittleEndian(span.Slice(4 * i, 4)),
                            12 => BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(4 * i, 4)),
                            _ => BinaryPrimitives.ReadInt64LittleEndian(span.Slice(8 * i, 8)),
                        };
                    }
                    t.Ints = v;
                }
                else
                {
                    CheckCount(what, ints.Count, n);
                    t.Ints = [.. ints];
                }
                break;
            default:
                // Other element types (strings, float16, ...) are kept without values: using one is an error later.
                break;
        }
        return t;
    }

    /// <summary>The bytes of the length-delimited field whose tag was just read, in place (no copy).</summary>
    private ReadOnlyMemory<byte> Payload(Region r)
    {
        int start = r.Offset;
        r.Input.SkipLastField();
        int end = r.Offset;
        int header = start;
        while (header < end && (_bytes[header] & 0x80) != 0)
        {
            header++;
        }
        header++;
        return new ReadOnlyMemory<byte>(_bytes, header, Math.Max(0, end - header));
    }

    private void CheckBytes(string what, int bytes, int count, int size)
    {
        if ((long)count * size != bytes)
        {
            throw Bad($"{what} has {bytes} bytes of raw data but its dimensions need {(long)count * size}");
        }
    }

    private void CheckCount(string what, int values, int count)
    {
        if (values != count)
        {
            throw Bad($"{what} has {values} values but its dimensions need {count}");
        }
    }
}
