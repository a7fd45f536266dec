using System.Globalization;
using System.Text;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// A chain of modules applied in order. Children are named "0", "1", ... as in PyTorch, so parameters are
/// <c>0.weight</c>, <c>0.bias</c>, <c>3.weight</c>, ... The sequence owns its children (disposing it disposes them).
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _modules = new();

    /// <summary>Creates the chain from <paramref name="modules"/>, in order.</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules)
        {
            Add(m);
        }
    }

    /// <summary>Number of modules.</summary>
    public int Count => _modules.Count;

    /// <summary>Module number <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <summary>Appends <paramref name="module"/> under the next index; returns this sequence for chaining.</summary>
    public Sequential Add(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(_modules.Count.ToString(CultureInfo.InvariantCulture), module);
        _modules.Add(module);
        return this;
    }

    /// <summary>
    /// Applies every module in order (the identity when empty). A convolution followed by an evaluation-mode batch norm
    /// (and a ReLU, ReLU6 or SiLU) runs as one folded convolution where nothing is recorded (see
    /// <see cref="ConvBatchNormFolding"/>), and there each intermediate is freed as soon as the next module has read it. In
    /// training, a batch norm followed by a ReLU or ReLU6 runs as one operation (<see cref="BatchNormBase.TryForwardFused"/>).
    /// </summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = input;
        for (int i = 0; i < _modules.Count; i++)
        {
            Tensor next;
            if (_modules[i] is Conv2d conv && i + 1 < _modules.Count && _modules[i + 1] is BatchNormBase bn
                && ConvBatchNormFolding.CanFold(conv, bn, x))
            {
                var activation = i + 2 < _modules.Count ? ConvBatchNormFolding.ActivationOf(_modules[i + 2]) : null;
                next = ConvBatchNormFolding.Forward(conv, bn, x, activation ?? FusedActivation.None);
                i += activation == null ? 1 : 2;
            }
            else if (_modules[i] is BatchNormBase norm && i + 1 < _modules.Count && ConvBatchNormFolding.ActivationOf(_modules[i + 1]) is { } act
                && norm.TryForwardFused(x, act) is { } fused)
            {
                next = fused;
                i++;
            }
            else
            {
                next = _modules[i].Forward(x);
            }
            if (!ReferenceEquals(x, input))
            {
                ReleaseIntermediate(x, next);
            }
            x = next;
        }
        return x;
    }

    /// <summary>One line per child, as PyTorch prints it: <c>(0): Conv2d(1→6, kernel=5)</c>.</summary>
    public override string ToString()
    {
        if (_modules.Count == 0)
        {
            return "Sequential()";
        }
        var sb = new StringBuilder("Sequential(\n");
        for (int i = 0; i < _modules.Count; i++)
        {
            string child = _modules[i].ToString()!.Replace("\n", "\n  ", StringComparison.Ordinal);
            sb.Append("  (").Append(i.ToString(CultureInfo.InvariantCulture)).Append("): ").Append(child).Append('\n');
        }
        return sb.Append(')').ToString();
    }
}

/// <summary>Returns its input unchanged (a placeholder, e.g. for a removed classifier head).</summary>
public sealed class Identity : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => input;
}

/// <summary>
/// Flattens axes <see cref="StartAxis"/> to <see cref="EndAxis"/> (inclusive) into one; the default
/// [N, C, H, W] → [N, C·H·W] keeps the batch axis. A view: no copy.
/// </summary>
public sealed class Flatten : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="startAxis">First axis flattened (negative counts from the end).</param>
    /// <param name="endAxis">Last axis flattened (negative counts from the end).</param>
    public Flatten(int startAxis = 1, int endAxis = -1)
    {
        StartAxis = startAxis;
        EndAxis = endAxis;
    }

    /// <summary>First axis flattened.</summary>
    public int StartAxis { get; }

    /// <summary>Last axis flattened.</summary>
    public int EndAxis { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0)
        {
            return input.Reshape(1);
        }
        int start, end;
        try
        {
            start = input.Shape.NormalizeAxis(StartAxis);
            end = input.Shape.NormalizeAxis(EndAxis);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ShapeMismatchException($"{this}: input {input.Shape} has no such axes: {e.Message}", e);
        }
        if (start > end)
        {
            throw new ShapeMismatchException($"{this}: for input {input.Shape} the start axis {start} comes after the end axis {end}.");
        }
        var dims = new List<int>();
        for (int i = 0; i < start; i++)
        {
            dims.Add(input.Shape[i]);
        }
        dims.Add(input.Shape.SizeOf(start, end + 1));
        for (int i = end + 1; i < input.Rank; i++)
        {
            dims.Add(input.Shape[i]);
        }
        return input.Reshape([.. dims]);
    }

    /// <summary>For example <c>Flatten(start_axis=1, end_axis=-1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Flatten(start_axis={StartAxis}, end_axis={EndAxis})");
}
