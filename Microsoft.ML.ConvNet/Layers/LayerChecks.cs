using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>Argument and input checks shared by the layers; every message names the layer.</summary>
internal static class LayerChecks
{
    /// <summary>Runs a layer's computation, re-throwing shape errors with the layer's description and input shape prepended.</summary>
    public static Tensor Run(Module layer, Tensor input, Func<Tensor> forward)
    {
        try
        {
            return forward();
        }
        catch (ShapeMismatchException e)
        {
            throw new ShapeMismatchException($"{layer} with input {input.Shape}: {e.Message}", e);
        }
    }

    /// <summary>Throws unless <paramref name="input"/> has one of the given ranks.</summary>
    public static void Rank(Module layer, Tensor input, string expected, params int[] ranks)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Array.IndexOf(ranks, input.Rank) < 0)
        {
            throw new ShapeMismatchException($"{layer}: expected input {expected}, got {input.Shape}.");
        }
    }

    /// <summary>Throws unless axis 1 of <paramref name="input"/> has <paramref name="channels"/> entries.</summary>
    public static void Channels(Module layer, Tensor input, int channels)
    {
        if (input.Shape[1] != channels)
        {
            throw new ShapeMismatchException($"{layer}: input {input.Shape} has {input.Shape[1]} channel(s), expected {channels}.");
        }
    }

    public static void Positive(int value, string name, string layer)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, $"{layer}: {name} must be at least 1, got {value}.");
        }
    }

    public static void Positive(Size2 value, string name, string layer)
    {
        if (value.H < 1 || value.W < 1)
        {
            throw new ArgumentOutOfRangeException(name, $"{layer}: {name} must be at least 1 on both axes, got {value}.");
        }
    }

    public static void NonNegative(int value, string name, string layer)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, $"{layer}: {name} must be non-negative, got {value}.");
        }
    }

    public static void NonNegative(Size2 value, string name, string layer)
    {
        if (value.H < 0 || value.W < 0)
        {
            throw new ArgumentOutOfRangeException(name, $"{layer}: {name} must be non-negative on both axes, got {value}.");
        }
    }
}
