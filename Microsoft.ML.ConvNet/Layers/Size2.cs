using System.Globalization;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// A per-axis pair (height, width) for kernel sizes, strides, paddings and dilations. Converts implicitly from
/// an <see cref="int"/> (the same value on both axes) and from a tuple <c>(h, w)</c>, so a layer accepts
/// <c>kernelSize: 3</c> as well as <c>kernelSize: (3, 1)</c>.
/// </summary>
public readonly record struct Size2(int H, int W)
{
    /// <summary>True when both axes have the same value.</summary>
    public bool IsSquare => H == W;

    /// <summary>The same value on both axes.</summary>
    public static implicit operator Size2(int value) => new(value, value);

    /// <summary>A (height, width) tuple.</summary>
    public static implicit operator Size2((int H, int W) value) => new(value.H, value.W);

    /// <summary>The pair as a tuple.</summary>
    public (int H, int W) ToTuple() => (H, W);

    /// <summary>The same value on both axes (named alternative to the implicit conversion).</summary>
    public static Size2 FromInt32(int value) => new(value, value);

    /// <summary>"3" for a square pair, "(3, 1)" otherwise.</summary>
    public override string ToString()
        => IsSquare ? H.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"({H}, {W})");
}
