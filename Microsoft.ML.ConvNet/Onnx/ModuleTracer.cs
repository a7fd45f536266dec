using Microsoft.ML.ConvNet.Autograd;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// Runs a module's forward pass in evaluation mode on an input that requires a gradient, so that every operation
/// records its <see cref="Function"/>, then walks the recorded graph from the output back to the input and lets each
/// function write its ONNX nodes (<see cref="Function.ExportOnnx"/>). Tensors that do not depend on the input
/// (parameters, buffers, and whatever is computed from them alone, such as the scale of an evaluation-mode batch norm)
/// become initializers; parameters and buffers keep their state-dictionary names.
/// </summary>
internal sealed class ModuleTracer(OnnxGraph graph, Module module)
{
    private readonly Dictionary<Tensor, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _stateNames = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Function, Module> _owners = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Module, string> _paths = new(ReferenceEqualityComparer.Instance);

    /// <summary>Traces the module on an input of <paramref name="inputShape"/>; returns the output's value name and shape.</summary>
    public (string Output, Shape Shape) Run(string inputName, int[] inputShape)
    {
        foreach (var (name, t) in module.StateDict())
        {
            _stateNames.TryAdd(t, name);
        }
        foreach (var (path, m) in module.NamedModules())
        {
            _paths.TryAdd(m, path);
        }
        var modes = module.NamedModules().Select(m => (m.Value, m.Value.IsTraining)).ToList();
        module.Eval();
        try
        {
            using var scope = new TensorScope();
            using var grad = NoGradScope.EnableGrad();
            var input = Tensor.RandomNormal(new Shape(inputShape), new Random(1), device: module.Device);
            input.RequiresGrad = true;
            var observed = new List<(Module Module, Tensor Input, Tensor Output)>();
            Tensor output;
            using (Module.ObserveForward((m, i, o) => observed.Add((m, i, o))))
            {
                output = module.Forward(input);
            }
            foreach (var (m, i, o) in observed)
            {
                Claim(m, i, o);
            }
            _names[input] = inputName;
            return (Export(input, output), output.Shape);
        }
        finally
        {
            // Parents first: Train sets the children too, and each child then gets its own mode back.
            foreach (var (m, training) in modes)
            {
                m.Train(training);
            }
        }
    }

    /// <summary>Marks every not yet claimed function between a module's input and output as that module's.</summary>
    private void Claim(Module owner, Tensor input, Tensor output)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Tensor>();
        stack.Push(output);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (ReferenceEquals(t, input) || t.GradFn is not { } fn || !seen.Add(t))
            {
                continue;
            }
            _owners.TryAdd(fn, owner);
            foreach (var i in fn.Inputs)
            {
                stack.Push(i);
            }
        }
    }

    private string Export(Tensor input, Tensor output)
    {
        var order = TopologicalOrder(input, output);
        foreach (var t in order)
        {
            if (t.GradFn!.Inputs.Any(i => ReferenceEquals(i, input) || graph.BatchDependent.Contains(i)))
            {
                graph.BatchDependent.Add(t);
            }
        }
        foreach (var t in order)
        {
            // A value computed from constants alone is folded into an initializer, unless it was disposed.
            if (graph.BatchDependent.Contains(t) || t.IsDisposed)
            {
                var fn = t.GradFn!;
                EnterScope(fn);
                var inputs = fn.Inputs.Select(Name).ToArray();
                _names[t] = fn.ExportOnnx(graph, inputs, t);
            }
        }
        graph.Scope = string.Empty;
        return Name(output);
    }

    /// <summary>The non-leaf tensors between the input and the output, each after its inputs.</summary>
    private static List<Tensor> TopologicalOrder(Tensor input, Tensor output)
    {
        var order = new List<Tensor>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Tensor, bool Expanded)>();
        stack.Push((output, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded)
            {
                order.Add(t);
                continue;
            }
            if (ReferenceEquals(t, input) || t.GradFn == null || !seen.Add(t))
            {
                continue;
            }
            stack.Push((t, true));
            foreach (var i in t.GradFn.Inputs)
            {
                if (!seen.Contains(i))
                {
                    stack.Push((i, false));
                }
            }
        }
        return order;
    }

    /// <summary>The value name of an exported tensor, or of a new initializer holding a constant tensor's values.</summary>
    private string Name(Tensor t)
    {
        if (_names.TryGetValue(t, out var name))
        {
            return name;
        }
        if (t.IsDisposed)
        {
            throw new InvalidOperationException($"ONNX export: a constant {t.Shape} used in {graph.ScopeDescription} was disposed during the forward pass.");
        }
        string hint = _stateNames.TryGetValue(t, out var stateName) ? stateName : (graph.Scope.Length == 0 ? "const" : graph.Scope + ".const");
        name = graph.AddTensorConstant(hint, t);
        _names[t] = name;
        return name;
    }

    private void EnterScope(Function fn)
    {
        if (_owners.TryGetValue(fn, out var owner))
        {
            string path = _paths.GetValueOrDefault(owner, string.Empty);
            graph.Scope = path;
            graph.ScopeDescription = path.Length == 0 ? $"the model ({owner.GetType().Name})" : $"{path} ({owner.GetType().Name})";
        }
        else
        {
            graph.Scope = string.Empty;
            graph.ScopeDescription = $"the model ({module.GetType().Name})";
        }
    }
}
