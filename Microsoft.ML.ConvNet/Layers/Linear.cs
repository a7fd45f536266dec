using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Fully connected layer: y = x·Wᵀ + b over the last axis, input [..., InFeatures] → [..., OutFeatures]
/// (usually [N, InFeatures] → [N, OutFeatures]). Parameters <c>weight</c> [OutFeatures, InFeatures] and
/// <c>bias</c> [OutFeatures], initialised as PyTorch does: U(±1/√InFeatures) for both.
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inFeatures">Size of each input row.</param>
    /// <param name="outFeatures">Size of each output row.</param>
    /// <param name="bias">Whether to add a learnable bias.</param>
    /// <param name="random">Generator for the initial weights; a fork of <see cref="RandomSource.Shared"/> when null.</param>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Random? random = null)
    {
        LayerChecks.Positive(inFeatures, nameof(inFeatures), nameof(Linear));
        LayerChecks.Positive(outFeatures, nameof(outFeatures), nameof(Linear));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Empty(new Shape(outFeatures, inFeatures)));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty(new Shape(outFeatures))) : null;
        Init.DefaultLayerInit(Weight, Bias, random);
    }

    /// <summary>Size of each input row.</summary>
    public int InFeatures { get; }

    /// <summary>Size of each output row.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [OutFeatures, InFeatures] (parameter <c>weight</c>).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [OutFeatures] (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0 || input.Shape[-1] != InFeatures)
        {
            throw new ShapeMismatchException(input.Rank == 0
                ? $"{this}: expected input [N, {InFeatures}], got a scalar."
                : $"{this}: input {input.Shape} has {input.Shape[-1]} feature(s) in its last axis, expected {InFeatures}.");
        }
        return LayerChecks.Run(this, input, () =>
        {
            if (input.Rank == 2)
            {
                return Functional.Linear(input, Weight, Bias);
            }
            var outShape = input.Shape.ToArray();
            outShape[^1] = OutFeatures;
            var rows = input.Reshape(-1, InFeatures);
            return Functional.Linear(rows, Weight, Bias).Reshape(outShape);
        });
    }

    /// <summary>For example <c>Linear(400→120)</c>.</summary>
    public override string ToString() => $"Linear({InFeatures}→{OutFeatures}{(Bias == null ? ", bias=false" : string.Empty)})";
}
