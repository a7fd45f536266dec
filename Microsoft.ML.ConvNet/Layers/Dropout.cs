using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Inverted dropout: in training mode each element is zeroed with probability <see cref="P"/> and the rest are
/// scaled by 1/(1 − p); in evaluation mode the input passes through unchanged. No parameters.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Random? _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="p">Probability of zeroing an element, in [0, 1).</param>
    /// <param name="random">
    /// Generator for the masks; when null each forward pass forks a generator off <see cref="RandomSource.Shared"/>
    /// (reproducible after <see cref="RandomSource.ManualSeed"/>).
    /// </param>
    public Dropout(float p = 0.5f, Random? random = null)
    {
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: the probability must be in [0, 1), got {p}.");
        }
        P = p;
        _random = random;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!IsTraining || P == 0f)
        {
            return input;
        }
        return Functional.Dropout(input, P, training: true, _random ?? RandomSource.Fork());
    }

    /// <summary>For example <c>Dropout(p=0.5)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p={P})");
}
