using System.Text;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>
/// Bit-identical twin of build/reference/zoo_weights.py: every parameter and buffer value is an integer hash
/// (splitmix64) of the tensor's dotted name and element index, so a whole network can be compared with torchvision
/// without storing its weights. Keep the two files in step.
/// </summary>
public static class DeterministicWeights
{
    /// <summary>Overwrites every parameter and buffer of <paramref name="model"/>.</summary>
    public static void Fill(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var (name, t) in model.StateDict())
        {
            t.CopyFrom(Values(name, t.Shape));
        }
    }

    /// <summary>The input tensor the fixtures use, uniform in [−1, 1).</summary>
    public static Tensor Input(params int[] shape)
    {
        var s = new Shape(shape);
        var u = Uniform("input", s.Size);
        var v = new float[u.Length];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(2 * u[i] - 1);
        }
        return Tensor.FromArray(v, s);
    }

    /// <summary>The values of the tensor named <paramref name="name"/> (rules by name suffix and rank).</summary>
    public static float[] Values(string name, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        var u = Uniform(name, shape.Size);
        var v = new float[u.Length];
        double bound = shape.Rank >= 2 ? Math.Sqrt(6.0 / shape.SizeOf(1, shape.Rank)) : 0;
        for (int i = 0; i < v.Length; i++)
        {
            double x = u[i];
            v[i] = (float)(name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? 0
                : name.EndsWith("running_var", StringComparison.Ordinal) ? 1.0 + 0.5 * x
                : name.EndsWith("running_mean", StringComparison.Ordinal) ? 0.1 * (2 * x - 1)
                : shape.Rank >= 2 ? bound * (2 * x - 1)
                : name.EndsWith("weight", StringComparison.Ordinal) ? 1.0 + 0.1 * (2 * x - 1)
                : 0.1 * (2 * x - 1));
        }
        return v;
    }

    private static double[] Uniform(string name, int count)
    {
        ulong seed = (ulong)Fnv1a32(name) << 32;
        var r = new double[count];
        for (int i = 0; i < count; i++)
        {
            ulong z = unchecked(seed + (ulong)i + 0x9E3779B97F4A7C15UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            z ^= z >> 31;
            r[i] = (z >> 40) / (double)(1 << 24);
        }
        return r;
    }

    private static uint Fnv1a32(string text)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            h = unchecked((h ^ b) * 0x01000193);
        }
        return h;
    }
}
