using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// A network imported from an ONNX file by <see cref="OnnxModel.Load(string)"/>: its forward pass runs the graph's nodes
/// in topological order with this library's tensor operations, so it trains, freezes, moves between devices, saves its
/// state dictionary, summarises and exports to ONNX again like any other <see cref="Module"/>.
/// The weights of Conv, ConvTranspose, Gemm, MatMul, BatchNormalization (scale and bias), PRelu, InstanceNormalization
/// and LayerNormalization nodes are trainable parameters of one child layer per node (named after the initializer, e.g.
/// <c>layer1.0.conv1.weight</c>, or after the node); BatchNormalization running statistics are buffers; every other
/// constant stays a constant. In training mode batch normalisation uses batch statistics and dropout drops, as in
/// <see cref="BatchNorm2d"/> and <see cref="Dropout"/>.
/// </summary>
public sealed class OnnxGraphModule : Module
{
    private readonly List<OnnxStep> _steps;
    private readonly Dictionary<string, HostTensor> _constants;
    private readonly Dictionary<string, Tensor> _stateInputs;
    private readonly Dictionary<HostTensor, Tensor> _deviceConstants = new(ReferenceEqualityComparer.Instance);
    private readonly Random _random = new(0);

    internal OnnxGraphModule(OnnxGraphInfo info, List<OnnxStep> steps, Dictionary<string, HostTensor> constants, Dictionary<string, Tensor> stateInputs)
    {
        _steps = steps;
        _constants = constants;
        _stateInputs = stateInputs;
        Source = info.Source;
        InputName = info.InputName;
        InputDims = info.InputDims;
        OutputName = info.OutputName;
        Opset = info.Opset;
        Producer = info.Producer;
        NodeCount = info.NodeCount;
    }

    /// <summary>The file (or stream description) the model was read from.</summary>
    public string Source { get; }

    /// <summary>The graph input the forward pass feeds.</summary>
    public string InputName { get; }

    /// <summary>The declared input dimensions (-1 where symbolic, such as a dynamic batch).</summary>
    public IReadOnlyList<long> InputDims { get; }

    /// <summary>The graph output the forward pass returns.</summary>
    public string OutputName { get; }

    /// <summary>The default-domain operator set version of the file.</summary>
    public long Opset { get; }

    /// <summary>The producer named in the file (e.g. <c>CNTK</c>, <c>pytorch</c>).</summary>
    public string Producer { get; }

    /// <summary>The number of nodes in the file (before constant folding).</summary>
    public int NodeCount { get; }

    /// <summary>The number of nodes that run in each forward pass (after constant folding).</summary>
    public int RunNodeCount => _steps.Count;

    /// <summary>Runs the graph on <paramref name="input"/> (the graph input; float32, any batch size).</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        var values = new Dictionary<string, object>(StringComparer.Ordinal) { [InputName] = input };
        var context = new OnnxRunContext(this);
        foreach (var step in _steps)
        {
            var args = new object?[step.Node.Inputs.Count];
            for (int i = 0; i < args.Length; i++)
            {
                args[i] = Resolve(step.Node.Inputs[i], values);
            }
            object?[] results;
            try
            {
                results = step.Layer != null ? [step.Layer.Run(context, args)] : step.Kernel(context, args);
            }
            catch (ArgumentException e)
            {
                throw new ShapeMismatchException($"ONNX model '{Source}', node '{step.Node.Name}' ({step.Node.OpType}): {e.Message}", e);
            }
            for (int i = 0; i < results.Length && i < step.Node.Outputs.Count; i++)
            {
                if (step.Node.Outputs[i].Length > 0 && results[i] != null)
                {
                    values[step.Node.Outputs[i]] = results[i]!;
                }
            }
        }
        var output = Resolve(OutputName, values) ?? throw new InvalidOperationException($"ONNX model '{Source}': the output '{OutputName}' was not computed.");
        return context.ToTensor(output);
    }

    private void CheckInput(Tensor input)
    {
        bool fits = input.Rank == InputDims.Count;
        for (int i = 0; fits && i < InputDims.Count; i++)
        {
            fits = InputDims[i] < 0 || InputDims[i] == input.Shape[i] || i == 0;
        }
        if (!fits)
        {
            throw new ShapeMismatchException($"ONNX model '{Source}': input '{InputName}' is declared [{string.Join(", ", InputDims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}], got {input.Shape}.");
        }
    }

    private object? Resolve(string name, Dictionary<string, object> values)
    {
        if (name.Length == 0)
        {
            return null;
        }
        if (values.TryGetValue(name, out var v))
        {
            return v;
        }
        if (_stateInputs.TryGetValue(name, out var t))
        {
            return t;
        }
        return _constants.TryGetValue(name, out var c) ? c : throw new InvalidOperationException($"ONNX model '{Source}': the value '{name}' is not available.");
    }

    /// <summary>The device copy of a load-time constant (made once per device).</summary>
    internal Tensor DeviceConstant(HostTensor constant)
    {
        if (!_deviceConstants.TryGetValue(constant, out var t))
        {
            t = Tensor.FromArray(constant.AsFloats(), new Shape(constant.IntDims()), Device).Unscope();
            _deviceConstants[constant] = t;
        }
        return t;
    }

    internal Random Random => _random;

    /// <inheritdoc/>
    protected override void OnDeviceChanged(Device device)
    {
        DropDeviceConstants();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropDeviceConstants();
        }
        base.Dispose(disposing);
    }

    private void DropDeviceConstants()
    {
        foreach (var t in _deviceConstants.Values)
        {
            t.Dispose();
        }
        _deviceConstants.Clear();
    }

    internal void AddChild(string name, Module child) => RegisterModule(name, child);

    /// <inheritdoc/>
    public override string ToString() => $"OnnxGraphModule({Source}: {NodeCount} nodes, opset {Opset})";
}

/// <summary>What the loader learned about the graph as a whole.</summary>
internal sealed record OnnxGraphInfo(string Source, string InputName, long[] InputDims, string OutputName, long Opset, string Producer, int NodeCount);

/// <summary>One node to run: its kernel, and the layer that owns its weights when it has any.</summary>
internal sealed record OnnxStep(OnnxNodeData Node, OnnxKernel Kernel, OnnxLayer? Layer);

/// <summary>Runs a compiled node on its inputs (tensors, host constants, or null for a missing optional input).</summary>
internal delegate object?[] OnnxKernel(OnnxRunContext run, object?[] inputs);

/// <summary>What a kernel may ask of the running module.</summary>
internal sealed class OnnxRunContext(OnnxGraphModule? module)
{
    /// <summary>The context of constant folding at load time: host values only, no module yet.</summary>
    public static OnnxRunContext Folding { get; } = new(null);

    private OnnxGraphModule Module => module ?? throw new InvalidOperationException("a node folded at load time needs a tensor.");

    public bool Training => Module.IsTraining;

    public Random Random => Module.Random;

    /// <summary>A value as a tensor (host constants become device tensors; load-time ones are cached).</summary>
    public Tensor ToTensor(object? value) => value switch
    {
        Tensor t => t,
        HostTensor { IsLoadConstant: true } h => Module.DeviceConstant(h),
        HostTensor h => Tensor.FromArray(h.AsFloats(), new Shape(h.IntDims()), Module.Device),
        _ => throw new ArgumentException("a required input is missing."),
    };
}

/// <summary>
/// The layer of one ONNX node with weights (Conv, Gemm, BatchNormalization, ...): it owns the node's parameters and
/// buffers and runs the node's kernel with them, so that the model summary and the state dictionary see one entry per
/// such node.
/// </summary>
internal sealed class OnnxLayer : Module
{
    private readonly OnnxKernel _kernel;
    private readonly Tensor?[] _state;
    private OnnxRunContext? _run;
    private object?[]? _args;

    public OnnxLayer(string opType, string nodeName, OnnxKernel kernel, int inputCount)
    {
        OpType = opType;
        NodeName = nodeName;
        _kernel = kernel;
        _state = new Tensor?[inputCount];
    }

    public string OpType { get; }

    public string NodeName { get; }

    /// <summary>Registers the node's input <paramref name="index"/> as a parameter or buffer of this layer.</summary>
    public void Own(int index, string name, Tensor value, bool buffer)
    {
        _state[index] = buffer ? RegisterBuffer(name, value) : RegisterParameter(name, value);
    }

    /// <summary>Uses a tensor owned by another layer (shared weights) as input <paramref name="index"/>.</summary>
    public void Share(int index, Tensor value) => _state[index] = value;

    internal Tensor Run(OnnxRunContext run, object?[] args)
    {
        _run = run;
        _args = args;
        try
        {
            return Forward(run.ToTensor(args[0]));
        }
        finally
        {
            _run = null;
            _args = null;
        }
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (_run == null || _args == null)
        {
            throw new InvalidOperationException($"The layer of ONNX node '{NodeName}' ({OpType}) runs as part of its {nameof(OnnxGraphModule)}, not on its own.");
        }
        var args = (object?[])_args.Clone();
        args[0] = input;
        for (int i = 1; i < _state.Length && i < args.Length; i++)
        {
            if (_state[i] != null)
            {
                args[i] = _state[i];
            }
        }
        return (Tensor)_kernel(_run, args)[0]!;
    }

    public override string ToString() => $"{OpType}({NodeName})";
}

/// <summary>A level of dotted parameter names (<c>layer1</c> in <c>layer1.0.conv1.weight</c>); it has no forward pass of its own.</summary>
internal sealed class OnnxScope : Module
{
    internal T Add<T>(string name, T child) where T : Module => RegisterModule(name, child);

    protected override Tensor ForwardCore(Tensor input)
        => throw new InvalidOperationException("A naming level of an imported ONNX graph has no forward pass; run the whole OnnxGraphModule.");
}
