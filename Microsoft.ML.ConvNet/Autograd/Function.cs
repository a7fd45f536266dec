using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd;

/// <summary>
/// One differentiable operation in the graph. A subclass computes its forward result in a static helper
/// (next to its <see cref="Backward"/>), keeps what the backward pass needs, and is attached to the output
/// with <see cref="Record"/>.
/// </summary>
internal abstract class Function
{
    /// <summary>The operation's inputs, in order.</summary>
    public Tensor[] Inputs { get; private set; } = [];

    /// <summary>Name used in error messages.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Given dL/d(output), returns dL/d(input i) for each input (null when input i needs no gradient).
    /// Returned tensors must be fresh; the engine owns and disposes them. The incoming gradient is the engine's alone and
    /// nothing reads it after this call, so a backward may overwrite it and return it (the engine copies when it is
    /// handed to several inputs).
    /// </summary>
    public abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>Whether <see cref="Backward"/> reads the values of the operation's output (true unless a subclass says not).</summary>
    internal virtual bool BackwardReadsOutput => true;

    /// <summary>
    /// Writes this operation as ONNX nodes into <paramref name="graph"/>, reading the value names
    /// <paramref name="inputs"/> (one per <see cref="Inputs"/> entry) and producing a value with the shape of the traced
    /// <paramref name="output"/>; returns that value's name. Operations without an ONNX form keep this default, which
    /// throws a <see cref="NotSupportedException"/> naming the operation and its module.
    /// </summary>
    public virtual string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output) => throw graph.Unsupported(Name);

    /// <summary>True when input <paramref name="i"/> needs a gradient.</summary>
    protected bool NeedsGrad(int i) => Inputs[i].RequiresGrad;

    /// <summary>
    /// Attaches <paramref name="fn"/> to <paramref name="output"/> when recording is on and any input requires
    /// a gradient; returns the output.
    /// </summary>
    public static Tensor Record(Function fn, Tensor output, params Tensor[] inputs)
    {
        if (!NoGradScope.IsGradEnabled)
        {
            return output;
        }
        bool any = false;
        foreach (var t in inputs)
        {
            any |= t.RequiresGrad;
        }
        if (any)
        {
            fn.Inputs = inputs;
            output.GradFn = fn;
            output.RequiresGrad = true;
        }
        return output;
    }

    /// <summary>True when an op with these inputs will be recorded (lets forward skip saving state otherwise).</summary>
    public static bool WillRecord(params Tensor[] inputs)
    {
        if (!NoGradScope.IsGradEnabled)
        {
            return false;
        }
        foreach (var t in inputs)
        {
            if (t.RequiresGrad)
            {
                return true;
            }
        }
        return false;
    }
}
