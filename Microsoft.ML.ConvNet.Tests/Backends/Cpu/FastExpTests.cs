using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Backends.Cpu;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The single-precision exponential of the inference SiLU against double-precision Math.Exp.</summary>
[TestClass]
public sealed class FastExpTests
{
    private static float Exp(float x) => FastExp.Exp(Vector256.Create(x)).ToScalar();

    [TestMethod]
    public void RelativeErrorStaysWithinAFewUlpsOverTheWholeRange()
    {
        double worst = 0;
        float at = 0;
        for (float x = -87.3f; x <= 87.3f; x += 0.000731f * (1 + MathF.Abs(x)))
        {
            float[] lanes = [x, -x, x * 0.5f, x * 0.25f, x * 0.125f, x * 0.01f, x * 1e-4f, 0.5f - x * 0.003f];
            var got = FastExp.Exp(Vector256.Create(lanes));
            for (int i = 0; i < 8; i++)
            {
                double expected = Math.Exp(lanes[i]);
                if (double.IsInfinity(expected) || expected > float.MaxValue)
                {
                    continue;
                }
                double error = Math.Abs(got[i] - expected) / expected;
                if (error > worst)
                {
                    worst = error;
                    at = lanes[i];
                }
            }
        }
        Console.WriteLine($"largest relative error {worst:E2} at x = {at}");
        Assert.IsLessThan(4e-7, worst, $"at x = {at}");
    }

    [TestMethod]
    public void ClampsBeyondTheRange()
    {
        Assert.AreEqual(1f, Exp(0f));
        Assert.AreEqual(0f, Exp(-100f));
        Assert.AreEqual(0f, Exp(float.NegativeInfinity));
        Assert.AreEqual(Exp(88.3762626647949f), Exp(100f), "clamped");
        Assert.AreEqual(Exp(100f), Exp(float.PositiveInfinity));
        Assert.IsGreaterThan(2e38f, Exp(100f));
        Assert.IsTrue(float.IsFinite(Exp(100f)));
        // SiLU's use: v / (1 + e⁻ᵛ) is 0 for very negative v and v for very positive v.
        Assert.AreEqual(0f, -200f / (1f + Exp(200f)), 1e-30f);
        Assert.AreEqual(200f, 200f / (1f + Exp(-200f)));
    }
}
