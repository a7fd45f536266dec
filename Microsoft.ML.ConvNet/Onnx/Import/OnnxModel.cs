using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// Imports ONNX models (opsets 7 to 21) as trainable modules: <c>using var net = OnnxModel.Load("resnet18.onnx");</c>.
/// Everything is checked when the file is read: an operator or attribute the importer does not support gives a
/// <see cref="NotSupportedException"/> naming the operator, the node and the opset; a malformed or truncated file an
/// <see cref="InvalidFileException"/> naming the file and what is wrong. See <see cref="OnnxGraphModule"/>.
/// </summary>
public static class OnnxModel
{
    /// <summary>The oldest default-domain opset the importer reads.</summary>
    public const long MinOpset = 7;

    /// <summary>The newest default-domain opset the importer reads.</summary>
    public const long MaxOpset = 21;

    /// <summary>Files larger than this (2 GiB, protobuf's own limit) are refused.</summary>
    private const long MaxBytes = int.MaxValue;

    /// <summary>Reads the ONNX model at <paramref name="path"/> (a regular file of at most 2 GiB).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">The file is not a valid ONNX model; the message names it and what is wrong.</exception>
    /// <exception cref="NotSupportedException">A valid model uses an operator, attribute or opset the importer does not read.</exception>
    public static OnnxGraphModule Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = InputFile.ReadAllBytes(path, MaxBytes, "ONNX model");
        return InputFile.Guard(path, "ONNX model", () => Load(bytes, path));
    }

    /// <summary>Reads an ONNX model from <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidFileException">The data is not a valid ONNX model or exceeds 2 GiB.</exception>
    public static OnnxGraphModule Load(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string name = source ?? "stream";
        return InputFile.Guard(name, "ONNX model", () => Load(ReadLimited(stream, name), name));
    }

    /// <summary>
    /// Reads the ONNX model at <paramref name="path"/> cut at <paramref name="outputName"/>: a value name, or a node name
    /// (its first output), becomes the module's output and the nodes after it are left out (a feature extractor).
    /// </summary>
    /// <exception cref="ArgumentException">No node produces <paramref name="outputName"/>.</exception>
    /// <exception cref="InvalidFileException">The file is not a valid ONNX model.</exception>
    public static OnnxGraphModule Load(string path, string outputName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(outputName);
        var bytes = InputFile.ReadAllBytes(path, MaxBytes, "ONNX model");
        try
        {
            return new OnnxImporter(OnnxProtoReader.ReadModel(bytes, path), path, outputName).Build();
        }
        catch (Exception e) when (InputFile.Convertible(e) && e is not ArgumentException { ParamName: "name" })
        {
            throw InputFile.Wrap(path, "ONNX model", e);
        }
    }

    private static OnnxGraphModule Load(byte[] bytes, string source)
    {
        var model = OnnxProtoReader.ReadModel(bytes, source);
        return new OnnxImporter(model, source).Build();
    }

    /// <summary>The rest of <paramref name="stream"/>, refused beyond 2 GiB before it is all read.</summary>
    private static byte[] ReadLimited(Stream stream, string source)
    {
        if (stream.CanSeek)
        {
            long length = stream.Length - stream.Position;
            if (length > MaxBytes)
            {
                throw new InvalidDataException($"ONNX model '{source}': {length} bytes is more than the 2 GiB a protobuf file may hold.");
            }
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        using var copy = new MemoryStream();
        var chunk = new byte[1 << 20];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (copy.Length + n > MaxBytes)
            {
                throw new InvalidDataException($"ONNX model '{source}': more than the 2 GiB a protobuf file may hold.");
            }
            copy.Write(chunk, 0, n);
        }
        return copy.ToArray();
    }
}

/// <summary>Turns a parsed model into an <see cref="OnnxGraphModule"/>: checks, compiles, folds constants, names weights.</summary>
internal sealed class OnnxImporter(OnnxModelData model, string source, string? outputName = null)
{
    private readonly OnnxGraphData _graph = model.Graph!;
    private readonly Dictionary<string, HostTensor> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxTensorData> _initializers = new(StringComparer.Ordinal);
    private long _opset;

    public OnnxGraphModule Build()
    {
        _opset = model.DefaultOpset;
        if (_opset == 0)
        {
            throw Bad("the model imports no default-domain (ai.onnx) operator set");
        }
        if (_opset < OnnxModel.MinOpset || _opset > OnnxModel.MaxOpset)
        {
            throw new NotSupportedException($"ONNX model '{source}': opset {_opset} is not supported (the importer reads opsets {OnnxModel.MinOpset} to {OnnxModel.MaxOpset}).");
        }
        foreach (var t in _graph.Initializers)
        {
            if (t.Name.Length == 0)
            {
                throw Bad("an initializer has no name");
            }
            _initializers[t.Name] = t;
            if (HostTensor.From(t) is { } h)
            {
                _constants[t.Name] = h;
            }
        }
        var input = _graph.Inputs.FirstOrDefault(i => !_initializers.ContainsKey(i.Name))
            ?? throw Bad("the graph has no input that is not an initializer");
        if (input.ElementType != (int)OnnxElementType.Float)
        {
            throw new NotSupportedException($"ONNX model '{source}': the input '{input.Name}' has element type {input.ElementType}; the importer reads float32 inputs.");
        }
        string output = outputName == null
            ? (_graph.Outputs.FirstOrDefault() ?? throw Bad("the graph declares no output")).Name
            : OutputOf(outputName);
        var nodes = Needed(TopologicalOrder(input.Name), output);

        // Compile every node first: unsupported operators and attributes fail before any other work.
        var compiled = nodes.Select(n => (Node: n, Op: OnnxOperators.Compile(n, _opset, source))).ToList();

        // Weights: float initializers in the weight inputs of nodes whose data input is not a constant.
        var weightUses = new Dictionary<string, List<(OnnxNodeData Node, int Index)>>(StringComparer.Ordinal);
        foreach (var (node, op) in compiled)
        {
            if (op.Roles.Count == 0 || node.Inputs.Count == 0 || IsConstant(node.Inputs[0]))
            {
                continue;
            }
            foreach (var (index, _) in op.Roles)
            {
                if (index < node.Inputs.Count && _constants.TryGetValue(node.Inputs[index], out var c) && c.IsFloat && _initializers.ContainsKey(node.Inputs[index]))
                {
                    (weightUses.TryGetValue(node.Inputs[index], out var l) ? l : weightUses[node.Inputs[index]] = []).Add((node, index));
                }
            }
        }

        // Constant folding: nodes whose inputs are all constants (not weights) and that have a host form.
        var steps = new List<(OnnxNodeData Node, CompiledOperator Op)>();
        foreach (var (node, op) in compiled)
        {
            bool foldable = op.HostCapable && node.Inputs.All(i => i.Length == 0 || (_constants.ContainsKey(i) && !weightUses.ContainsKey(i)));
            if (!foldable)
            {
                steps.Add((node, op));
                continue;
            }
            object?[] results;
            try
            {
                results = op.Kernel(OnnxRunContext.Folding, [.. node.Inputs.Select(i => i.Length == 0 ? null : (object)_constants[i])]);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or DivideByZeroException or IndexOutOfRangeException or OverflowException)
            {
                throw Bad($"node '{node.Name}' ({node.OpType}) fails on its constant inputs: {e.Message}", e);
            }
            for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
            {
                if (results[i] is HostTensor h)
                {
                    _constants[node.Outputs[i]] = Loaded(h);
                }
            }
        }

        var info = new OnnxGraphInfo(source, input.Name, input.Dims?.ToArray() ?? [], output, _opset, model.Producer, _graph.Nodes.Count);
        var stateInputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var layers = new List<(OnnxStep Step, string Path)>();
        var runSteps = new List<OnnxStep>();
        var owned = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (node, op) in steps)
        {
            OnnxLayer? layer = null;
            var weights = op.Roles.Where(r => r.Key < node.Inputs.Count && weightUses.ContainsKey(node.Inputs[r.Key])).ToList();
            if (weights.Count > 0)
            {
                layer = new OnnxLayer(node.OpType, node.Name, op.Kernel, node.Inputs.Count);
                var (path, leafNames) = LayerPath(node, weights.Select(w => (w.Key, w.Value.Name)).ToList());
                foreach (var (index, role) in weights)
                {
                    string init = node.Inputs[index];
                    if (owned.TryGetValue(init, out var shared))
                    {
                        layer.Share(index, shared);
                        continue;
                    }
                    var c = _constants[init];
                    var t = Tensor.FromArray(c.Floats!, new Shape(c.IntDims())).Unscope();
                    layer.Own(index, leafNames[index], t, role.Buffer);
                    owned[init] = t;
                    stateInputs[init] = t;
                }
                layers.Add((new OnnxStep(node, op.Kernel, layer), path));
            }
            runSteps.Add(new OnnxStep(node, op.Kernel, layer));
        }

        CheckDataFlow(input.Name, output, runSteps);
        foreach (var w in weightUses.Keys)
        {
            _constants.Remove(w);
        }
        var module = new OnnxGraphModule(info, runSteps, _constants, stateInputs);
        AttachLayers(module, layers);
        return module;
    }

    private static HostTensor Loaded(HostTensor h)
        => h.IsFloat ? new HostTensor(h.Dims, h.Floats!) { IsLoadConstant = true } : new HostTensor(h.Dims, h.Ints!, h.ElementType) { IsLoadConstant = true };

    private bool IsConstant(string name) => _constants.ContainsKey(name) || ConstantNodeOutputs.Contains(name);

    private HashSet<string> ConstantNodeOutputs { get; } = new(StringComparer.Ordinal);

    private InvalidDataException Bad(string what, Exception? inner = null) => new($"ONNX model '{source}': {what}.", inner);

    /// <summary>The nodes, each after the producers of its inputs; a missing value or a cycle is an error.</summary>
    /// <summary>The value <paramref name="name"/> names: a node's output value, or a node's first output.</summary>
    private string OutputOf(string name)
    {
        if (_graph.Nodes.Any(n => n.Outputs.Contains(name)))
        {
            return name;
        }
        var node = _graph.Nodes.FirstOrDefault(n => n.Name == name && n.Outputs.Count > 0)
            ?? throw new ArgumentException($"ONNX model '{source}': no node or node output is named '{name}'; its nodes are {string.Join(", ", _graph.Nodes.Take(20).Select(n => $"{n.Name} ({n.OpType})"))}{(_graph.Nodes.Count > 20 ? ", ..." : "")}.", nameof(name));
        return node.Outputs[0];
    }

    /// <summary>The nodes of <paramref name="order"/> (topological) that <paramref name="output"/> depends on, in order.</summary>
    private static List<OnnxNodeData> Needed(List<OnnxNodeData> order, string output)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal) { output };
        var kept = new List<OnnxNodeData>();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            if (order[i].Outputs.Any(needed.Contains))
            {
                kept.Add(order[i]);
                needed.UnionWith(order[i].Inputs);
            }
        }
        kept.Reverse();
        return kept;
    }

    private List<OnnxNodeData> TopologicalOrder(string inputName)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            var node = _graph.Nodes[i];
            if (node.OpType == "Constant")
            {
                ConstantNodeOutputs.UnionWith(node.Outputs);
            }
            foreach (var o in node.Outputs.Where(o => o.Length > 0))
            {
                if (!producer.TryAdd(o, i) || o == inputName)
                {
                    throw Bad($"the value '{o}' is produced twice (node '{node.Name}')");
                }
            }
        }
        var order = new List<OnnxNodeData>(_graph.Nodes.Count);
        var state = new byte[_graph.Nodes.Count]; // 0 new, 1 on the stack, 2 done
        for (int start = 0; start < _graph.Nodes.Count; start++)
        {
            if (state[start] != 0)
            {
                continue;
            }
            var stack = new Stack<(int Node, int Next)>();
            stack.Push((start, 0));
            state[start] = 1;
            while (stack.Count > 0)
            {
                var (n, next) = stack.Pop();
                var node = _graph.Nodes[n];
                if (next < node.Inputs.Count)
                {
                    stack.Push((n, next + 1));
                    string value = node.Inputs[next];
                    if (value.Length == 0 || value == inputName || _initializers.ContainsKey(value))
                    {
                        continue;
                    }
                    if (!producer.TryGetValue(value, out int p))
                    {
                        throw Bad($"node '{node.Name}' ({node.OpType}) reads '{value}', which no node, initializer or input produces");
                    }
                    if (state[p] == 1)
                    {
                        throw Bad($"the graph has a cycle through node '{node.Name}' ({node.OpType})");
                    }
                    if (state[p] == 0)
                    {
                        state[p] = 1;
                        stack.Push((p, 0));
                    }
                    continue;
                }
                state[n] = 2;
                order.Add(node);
            }
        }
        return order;
    }

    /// <summary>Every value a run step reads must be produced by an earlier step, be a constant, a weight or the input.</summary>
    private void CheckDataFlow(string inputName, string outputName, List<OnnxStep> steps)
    {
        var available = new HashSet<string>(_constants.Keys, StringComparer.Ordinal) { inputName };
        var skipped = new Dictionary<string, OnnxNodeData>(StringComparer.Ordinal);
        void Need(string value, string reader)
        {
            if (available.Contains(value))
            {
                return;
            }
            if (skipped.TryGetValue(value, out var producer))
            {
                throw new NotSupportedException($"ONNX model '{source}': operator {producer.OpType} (node '{producer.Name}', opset {_opset}) is not supported: its output '{value}', read by {reader}, is one the importer does not compute.");
            }
            throw Bad($"{reader} reads '{value}', which no node computes");
        }
        foreach (var step in steps)
        {
            foreach (var i in step.Node.Inputs.Where(i => i.Length > 0))
            {
                Need(i, $"node '{step.Node.Name}' ({step.Node.OpType})");
            }
            int computed = OnnxOperators.OutputCount(step.Node);
            available.UnionWith(step.Node.Outputs.Take(computed));
            foreach (var o in step.Node.Outputs.Skip(computed).Where(o => o.Length > 0))
            {
                skipped[o] = step.Node;
            }
        }
        Need(outputName, "the graph output");
    }

    /// <summary>
    /// Where a node's layer goes and what its weights are called: the common prefix of its initializers' dotted names when
    /// they have one (<c>layer1.0.conv1</c> for <c>layer1.0.conv1.weight</c>), else the node's name, sanitised.
    /// </summary>
    private (string Path, Dictionary<int, string> Leaves) LayerPath(OnnxNodeData node, List<(int Index, string Role)> weights)
    {
        var leaves = new Dictionary<int, string>();
        var split = weights.Select(w => node.Inputs[w.Index].Split('.')).ToList();
        if (split.All(s => s.Length >= 2 && s.All(ValidSegment)))
        {
            string prefix = string.Join('.', split[0][..^1]);
            if (split.All(s => string.Join('.', s[..^1]) == prefix) && split.Select(s => s[^1]).Distinct().Count() == split.Count)
            {
                for (int i = 0; i < weights.Count; i++)
                {
                    leaves[weights[i].Index] = split[i][^1];
                }
                return (prefix, leaves);
            }
        }
        foreach (var (index, role) in weights)
        {
            leaves[index] = role;
        }
        string name = node.Name.Length > 0 ? node.Name : node.OpType;
        return (Sanitize(name), leaves);
    }

    private static bool ValidSegment(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-');

    /// <summary>A dotted name made of letters, digits, '_' and '-': '/' and ':' separate levels, other characters become '_'.</summary>
    internal static string Sanitize(string name)
    {
        var parts = name.Split(['.', '/', ':'], StringSplitOptions.RemoveEmptyEntries)
            .Select(p => new string(p.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-' ? c : '_').ToArray()))
            .ToList();
        return parts.Count == 0 ? "node" : string.Join('.', parts);
    }

    /// <summary>Registers each layer under its dotted path (levels become <see cref="OnnxScope"/>s); clashes get a suffix.</summary>
    private static void AttachLayers(OnnxGraphModule module, List<(OnnxStep Step, string Path)> layers)
    {
        var scopes = new Dictionary<string, OnnxScope>(StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (step, path) in layers)
        {
            string p = path;
            if (!CanPlace(p, taken, scopes))
            {
                string flat = p.Replace('.', '_');
                p = flat;
                for (int k = 1; !CanPlace(p, taken, scopes); k++)
                {
                    p = $"{flat}_{k}";
                }
            }
            taken.Add(p);
            var segments = p.Split('.');
            OnnxScope? parent = null;
            for (int i = 0; i < segments.Length - 1; i++)
            {
                string key = string.Join('.', segments[..(i + 1)]);
                if (!scopes.TryGetValue(key, out var scope))
                {
                    scope = new OnnxScope();
                    scopes[key] = scope;
                    taken.Add(key);
                    if (parent == null)
                    {
                        module.AddChild(segments[i], scope);
                    }
                    else
                    {
                        parent.Add(segments[i], scope);
                    }
                }
                parent = scope;
            }
            if (parent == null)
            {
                module.AddChild(segments[^1], step.Layer!);
            }
            else
            {
                parent.Add(segments[^1], step.Layer!);
            }
        }
    }

    /// <summary>True when no layer or level has the path, and no prefix of it is a layer.</summary>
    private static bool CanPlace(string path, HashSet<string> taken, Dictionary<string, OnnxScope> scopes)
    {
        if (taken.Contains(path))
        {
            return false;
        }
        var segments = path.Split('.');
        for (int i = 1; i < segments.Length; i++)
        {
            string prefix = string.Join('.', segments[..i]);
            if (taken.Contains(prefix) && !scopes.ContainsKey(prefix))
            {
                return false;
            }
        }
        return true;
    }
}
