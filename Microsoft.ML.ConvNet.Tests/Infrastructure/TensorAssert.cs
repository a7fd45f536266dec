using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>Tolerance comparisons that report the max difference and the first differing indices.</summary>
public static class TensorAssert
{
    /// <summary>|actual − expected| ≤ atol + rtol·|expected| elementwise.</summary>
    public static void AreClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what = "")
    {
        if (expected.Length != actual.Length)
        {
            Assert.Fail($"{what}: length {actual.Length}, expected {expected.Length}.");
        }
        double maxDiff = 0;
        int bad = 0;
        var first = new List<string>();
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double diff = Math.Abs(a - e);
            if (double.IsNaN(a) != double.IsNaN(e))
            {
                diff = double.PositiveInfinity;
            }
            else if (double.IsNaN(a))
            {
                diff = 0;
            }
            maxDiff = Math.Max(maxDiff, diff);
            if (diff > atol + rtol * Math.Abs(e))
            {
                bad++;
                if (first.Count < 5)
                {
                    first.Add(string.Create(CultureInfo.InvariantCulture, $"[{i}] expected {e:G7} got {a:G7}"));
                }
            }
        }
        if (bad > 0)
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}: {bad} of {expected.Length} elements differ beyond atol={atol} rtol={rtol}; max |diff| = {maxDiff:G4}; first: {string.Join("; ", first)}"));
        }
    }

    /// <summary>Compares two tensors' shapes and values.</summary>
    public static void AreClose(Tensor expected, Tensor actual, double atol, double rtol, string what = "")
    {
        Assert.AreEqual(expected.Shape, actual.Shape, $"{what}: shape");
        AreClose(expected.ToArray(), actual.ToArray(), atol, rtol, what);
    }

    /// <summary>Compares a tensor with expected values and shape.</summary>
    public static void AreClose(ReadOnlySpan<float> expected, Shape expectedShape, Tensor actual, double atol, double rtol, string what = "")
    {
        Assert.AreEqual(expectedShape, actual.Shape, $"{what}: shape");
        AreClose(expected, actual.ToArray(), atol, rtol, what);
    }
}
