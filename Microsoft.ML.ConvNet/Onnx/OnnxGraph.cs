using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// An ONNX graph under construction (IR version 8, default-domain opset 17): <see cref="Trace"/> records a module's
/// forward pass as nodes, and callers may append nodes (<see cref="AddNode"/>), constants (<see cref="AddConstant(string, float[], long[])"/>)
/// and outputs (<see cref="AddOutput"/>) before writing the model with <see cref="WriteTo"/> or <see cref="ToArray"/>.
/// Parameters and buffers become initializers named by their state-dictionary names (<c>layer1.0.conv1.weight</c>).
/// </summary>
public sealed class OnnxGraph
{
    private readonly GraphProto _graph = new("ConvNetML");
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);

    private OnnxGraph(bool dynamicBatch)
    {
        DynamicBatch = dynamicBatch;
    }

    /// <summary>
    /// Traces <paramref name="module"/> (in evaluation mode; every module's mode is restored afterwards) on an input of
    /// <paramref name="inputShape"/> (first dimension: the batch), declared as the graph input
    /// <paramref name="inputName"/>. With <paramref name="dynamicBatch"/> the batch dimension is written as the symbol
    /// "N", otherwise it is fixed. Declares no output: see <see cref="TracedOutput"/> and <see cref="AddOutput"/>.
    /// An operation without an ONNX form gives a <see cref="NotSupportedException"/> naming it and its module.
    /// </summary>
    public static OnnxGraph Trace(Module module, string inputName, int[] inputShape, bool dynamicBatch = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(inputName);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
        {
            throw new ArgumentException($"ONNX export: the input shape [{string.Join(", ", inputShape)}] must have at least one dimension (the batch) and only positive sizes.", nameof(inputShape));
        }
        var graph = new OnnxGraph(dynamicBatch);
        graph.Reserve(inputName);
        var dims = inputShape.Select(d => (long)d).ToArray();
        if (dynamicBatch)
        {
            dims[0] = -1;
        }
        graph._graph.Inputs.Add(new ValueInfoProto(inputName, OnnxElementType.Float, dims));
        (graph.TracedOutput, graph.TracedOutputShape) = new ModuleTracer(graph, module).Run(inputName, inputShape);
        return graph;
    }

    /// <summary>The value name of the traced module's output (for example logits [N, K]).</summary>
    public string TracedOutput { get; private set; } = string.Empty;

    /// <summary>The shape of the traced output at the traced batch size.</summary>
    internal Shape TracedOutputShape { get; private set; }

    /// <summary>True when the batch dimension is symbolic: reshapes must then not bake the traced batch size in.</summary>
    internal bool DynamicBatch { get; }

    /// <summary>The tensors of the trace that depend on the input (their first axis is the batch).</summary>
    internal HashSet<Tensor> BatchDependent { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Where the node being exported comes from (a module path and type), for node names and errors.</summary>
    internal string Scope { get; set; } = string.Empty;

    /// <summary>The module description used in errors, e.g. <c>features.3 (Conv2d)</c>.</summary>
    internal string ScopeDescription { get; set; } = "the model";

    /// <summary>
    /// Appends a node of <paramref name="opType"/> (default domain) with one output and returns that output's unique
    /// value name.
    /// </summary>
    public string AddNode(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        string output = Unique(Scope.Length == 0 ? opType : $"{Scope}/{opType}");
        _graph.Nodes.Add(new NodeProto(opType, output, [.. inputs], [output], [.. attributes]));
        return output;
    }

    /// <summary>Adds a float constant (initializer) of shape <paramref name="dims"/> and returns its value name.</summary>
    public string AddConstant(string nameHint, float[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(values.Length, dims);
        return AddInitializer(nameHint, name => TensorProto.FromFloats(name, values, dims));
    }

    /// <summary>Adds a 64-bit integer constant of shape <paramref name="dims"/> and returns its value name.</summary>
    public string AddConstant(string nameHint, long[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(values.Length, dims);
        return AddInitializer(nameHint, name => TensorProto.FromInt64(name, [.. values], dims));
    }

    /// <summary>Adds a string constant of shape <paramref name="dims"/> and returns its value name.</summary>
    public string AddConstant(string nameHint, string[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(values.Length, dims);
        return AddInitializer(nameHint, name => TensorProto.FromStrings(name, [.. values], dims));
    }

    /// <summary>Adds a boolean constant of shape <paramref name="dims"/> and returns its value name.</summary>
    public string AddConstant(string nameHint, bool[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(values.Length, dims);
        return AddInitializer(nameHint, name => TensorProto.FromBool(name, values, dims));
    }

    /// <summary>
    /// Declares the graph output <paramref name="outputName"/> holding <paramref name="value"/> (an Identity node is added
    /// when the names differ), of element <paramref name="type"/> and dimensions <paramref name="dims"/>: each &gt; 0 fixed,
    /// -1 the symbolic batch "N"; no dimensions declare a scalar.
    /// </summary>
    public void AddOutput(string value, string outputName, OnnxElementType type, params long[] dims)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        ArgumentException.ThrowIfNullOrEmpty(outputName);
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Any(d => d == 0 || d < -1))
        {
            throw new ArgumentException($"ONNX output '{outputName}': dimensions must be positive or -1 (the batch), got [{string.Join(", ", dims)}].", nameof(dims));
        }
        if (_graph.Outputs.Any(o => o.Name == outputName))
        {
            throw new ArgumentException($"The ONNX graph already has an output named '{outputName}'.", nameof(outputName));
        }
        if (value != outputName)
        {
            Reserve(outputName);
            _graph.Nodes.Add(new NodeProto("Identity", outputName, [value], [outputName], []));
        }
        _graph.Outputs.Add(new ValueInfoProto(outputName, type, [.. dims]));
    }

    /// <summary>Writes the model (ModelProto) to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var output = new CodedOutputStream(stream, leaveOpen: true);
        new ModelProto(_graph).WriteTo(output);
        output.Flush();
    }

    /// <summary>The model (ModelProto) as bytes.</summary>
    public byte[] ToArray() => new ModelProto(_graph).ToByteArray();

    /// <summary>The node types in order (for inspection and tests).</summary>
    internal IEnumerable<string> NodeTypes => _graph.Nodes.Select(n => n.OpType);

    /// <summary>The initializer names in order.</summary>
    internal IEnumerable<string> InitializerNames => _graph.Initializers.Select(i => i.Name);

    /// <summary>Adds the values of <paramref name="tensor"/> (read to the host) as a float initializer.</summary>
    internal string AddTensorConstant(string nameHint, Tensor tensor)
    {
        var bytes = new byte[tensor.Size * sizeof(float)];
        tensor.CopyTo(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()));
        var dims = tensor.Shape.ToArray().Select(d => (long)d).ToArray();
        return AddInitializer(nameHint, name => TensorProto.FromFloatBytes(name, bytes, dims));
    }

    /// <summary>A scalar float constant.</summary>
    internal string Scalar(float value) => AddConstant("scalar", [value]);

    /// <summary>A 1-D int64 constant (axes, shapes, slice bounds).</summary>
    internal string Int64s(string nameHint, params long[] values) => AddConstant(nameHint, values, values.Length);

    /// <summary>
    /// The shape input of a Reshape from <paramref name="input"/> to <paramref name="target"/>. With a dynamic batch
    /// and a batch-dependent input, the first dimension is written as 0 (copy the input's) when it keeps the batch
    /// size, else -1 (inferred), so that the file works for every batch size.
    /// </summary>
    internal string ReshapeTarget(Tensor input, Shape target)
    {
        var dims = target.ToArray().Select(d => (long)d).ToArray();
        if (DynamicBatch && BatchDependent.Contains(input) && dims.Length > 0 && input.Rank > 0)
        {
            dims[0] = target[0] == input.Shape[0] ? 0 : -1;
        }
        return Int64s("shape", dims);
    }

    /// <summary>The error for an operation that has no ONNX form here, naming it and the module it runs in.</summary>
    internal NotSupportedException Unsupported(string operation, string? reason = null)
        => new($"ONNX export: the operation '{operation}' in {ScopeDescription} has no ONNX form{(reason == null ? "" : $" ({reason})")}.");

    private string AddInitializer(string nameHint, Func<string, TensorProto> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameHint);
        var tensor = create(Unique(nameHint));
        _graph.Initializers.Add(tensor);
        return tensor.Name;
    }

    private static void CheckCount(int count, long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long expected = dims.Aggregate(1L, (a, d) => a * d);
        if (dims.Any(d => d < 0) || expected != count)
        {
            throw new ArgumentException($"An ONNX constant of shape [{string.Join(", ", dims)}] needs {expected} values, got {count}.", nameof(dims));
        }
    }

    private void Reserve(string name)
    {
        if (!_names.Add(name))
        {
            throw new ArgumentException($"The ONNX graph already has a value named '{name}'.", nameof(name));
        }
    }

    /// <summary><paramref name="hint"/> itself when unused, else hint_1, hint_2, ...</summary>
    private string Unique(string hint)
    {
        string name = hint;
        int k = _nextSuffix.GetValueOrDefault(hint);
        while (!_names.Add(name))
        {
            name = $"{hint}_{++k}";
        }
        _nextSuffix[hint] = k;
        return name;
    }
}
