using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Reference;

/// <summary>
/// Inputs shared with build/reference/layers_losses_optimizers.py: Seq[i] = float32(sin(0.37·i + phase)·scale),
/// so the reference files store only expected outputs.
/// </summary>
internal static class ReferenceInputs
{
    /// <summary>The values of <see cref="SeqTensor"/> as an array.</summary>
    public static float[] Seq(int count, double phase = 0, double scale = 1, double shift = 0)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = (float)(Math.Sin(0.37 * i + phase) * scale);
            if (shift != 0)
            {
                a[i] += (float)shift;
            }
        }
        return a;
    }

    /// <summary>A tensor of shape <paramref name="shape"/> holding Seq values (plus <paramref name="shift"/>, added in float32).</summary>
    public static Tensor SeqTensor(int[] shape, double phase = 0, double scale = 1, double shift = 0)
    {
        var s = new Shape(shape);
        return Tensor.FromArray(Seq(s.Size, phase, scale, shift), s);
    }
}
