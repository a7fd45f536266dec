using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>Weight initialisation: gains and fans as PyTorch, distribution bounds and moments, seeding.</summary>
[TestClass]
public sealed class InitTests
{
    private static (double Mean, double Std, double Min, double Max) Moments(Tensor t)
    {
        var a = t.ToArray();
        double mean = a.Average(v => (double)v);
        double std = Math.Sqrt(a.Sum(v => (v - mean) * (v - mean)) / a.Length);
        return (mean, std, a.Min(), a.Max());
    }

    [TestMethod]
    public void GainsMatchPyTorch()
    {
        // torch.nn.init.calculate_gain
        Assert.AreEqual(1.0, Init.CalculateGain(Nonlinearity.Linear), 1e-12);
        Assert.AreEqual(1.0, Init.CalculateGain(Nonlinearity.Conv2d), 1e-12);
        Assert.AreEqual(1.0, Init.CalculateGain(Nonlinearity.Sigmoid), 1e-12);
        Assert.AreEqual(5.0 / 3.0, Init.CalculateGain(Nonlinearity.Tanh), 1e-12);
        Assert.AreEqual(1.4142135623730951, Init.CalculateGain(Nonlinearity.Relu), 1e-12);
        Assert.AreEqual(1.4141428569978354, Init.CalculateGain(Nonlinearity.LeakyRelu), 1e-12);
        Assert.AreEqual(1.3867504905630728, Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2), 1e-12);
        Assert.AreEqual(0.5773502691896258, Init.CalculateGain(Nonlinearity.LeakyRelu, Math.Sqrt(5)), 1e-12);
        Assert.AreEqual(0.75, Init.CalculateGain(Nonlinearity.Selu), 1e-12);
    }

    [TestMethod]
    public void FansCountTheReceptiveField()
    {
        Assert.AreEqual((75, 400), Init.CalculateFans(new Shape(16, 3, 5, 5)));
        Assert.AreEqual((20, 10), Init.CalculateFans(new Shape(10, 20)));
        Assert.AreEqual((12, 21), Init.CalculateFans(new Shape(7, 4, 3)));
        Assert.ThrowsExactly<ArgumentException>(() => Init.CalculateFans(new Shape(10)));
    }

    [TestMethod]
    public void KaimingMatchesTheRequestedStandardDeviation()
    {
        var rng = new Random(1);
        using var t = Tensor.Empty(new Shape(256, 128, 3, 3)); // fan_in 1152, fan_out 2304, 294 912 values
        double fanIn = 128 * 9, fanOut = 256 * 9;

        Init.KaimingUniform(t, random: rng);
        var m = Moments(t);
        double bound = Math.Sqrt(2) * Math.Sqrt(3 / fanIn);
        Assert.IsTrue(m.Min >= -bound && m.Max <= bound, $"values within ±{bound}");
        Assert.IsTrue(m.Max > 0.99 * bound && m.Min < -0.99 * bound, "the bound is reached");
        Assert.AreEqual(Math.Sqrt(2 / fanIn), m.Std, 0.01 * Math.Sqrt(2 / fanIn));
        Assert.AreEqual(0, m.Mean, 0.01 * m.Std);

        Init.KaimingNormal(t, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, random: rng);
        m = Moments(t);
        Assert.AreEqual(Math.Sqrt(2 / fanOut), m.Std, 0.01 * Math.Sqrt(2 / fanOut));
        Assert.AreEqual(0, m.Mean, 0.01 * m.Std);

        Init.KaimingNormal(t, a: 0.2, random: rng);
        Assert.AreEqual(Math.Sqrt(2 / (1 + 0.04)) / Math.Sqrt(fanIn), Moments(t).Std, 0.01 * Math.Sqrt(2 / fanIn));
    }

    [TestMethod]
    public void XavierMatchesTheRequestedStandardDeviation()
    {
        var rng = new Random(2);
        using var t = Tensor.Empty(new Shape(300, 500));
        double std = Math.Sqrt(2.0 / 800);

        Init.XavierUniform(t, random: rng);
        var m = Moments(t);
        Assert.IsTrue(m.Max <= Math.Sqrt(3) * std && m.Min >= -Math.Sqrt(3) * std);
        Assert.AreEqual(std, m.Std, 0.01 * std);

        Init.XavierNormal(t, gain: 5.0 / 3.0, random: rng);
        m = Moments(t);
        Assert.AreEqual(5.0 / 3.0 * std, m.Std, 0.01 * 5.0 / 3.0 * std);
        Assert.AreEqual(0, m.Mean, 0.01 * m.Std);
    }

    [TestMethod]
    public void SimpleInitialisers()
    {
        var rng = new Random(3);
        using var t = Tensor.Empty(new Shape(100, 100));
        Init.Uniform(t, -2, 3, rng);
        var m = Moments(t);
        Assert.IsTrue(m.Min >= -2 && m.Max < 3);
        Assert.AreEqual(0.5, m.Mean, 0.05);
        Init.Normal(t, 1, 0.5, rng);
        m = Moments(t);
        Assert.AreEqual(1, m.Mean, 0.02);
        Assert.AreEqual(0.5, m.Std, 0.01);
        Assert.IsTrue(Init.Zeros(t).ToArray().All(v => v == 0f));
        Assert.IsTrue(Init.Ones(t).ToArray().All(v => v == 1f));
        Assert.IsTrue(Init.Constant(t, 0.25f).ToArray().All(v => v == 0.25f));
        Assert.ThrowsExactly<ArgumentException>(() => Init.Uniform(t, 1, 0, rng));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Init.Normal(t, 0, -1, rng));
    }

    [TestMethod]
    public void DefaultLayerInitialisationIsPyTorchs()
    {
        // Conv/Linear: weight and bias ~ U(±1/√fan_in), fan_in = in/groups·k·k.
        void Check(Tensor w, Tensor? b, int fanIn, string what)
        {
            double bound = 1 / Math.Sqrt(fanIn);
            var m = Moments(w);
            Assert.IsTrue(m.Min >= -bound && m.Max <= bound, $"{what} weight within ±{bound}");
            Assert.IsTrue(m.Max > 0.95 * bound && m.Min < -0.95 * bound, $"{what} weight spans the range");
            Assert.AreEqual(bound / Math.Sqrt(3), m.Std, 0.05 * bound / Math.Sqrt(3), $"{what} weight std");
            if (b != null)
            {
                var mb = Moments(b);
                Assert.IsTrue(mb.Min >= -bound && mb.Max <= bound, $"{what} bias within ±{bound}");
                Assert.IsTrue(mb.Std > 0, $"{what} bias is random");
            }
        }
        var rng = new Random(4);
        using var conv = new Conv2d(64, 32, 3, random: rng);
        Check(conv.Weight, conv.Bias, 64 * 9, "Conv2d");
        using var grouped = new Conv2d(64, 64, 3, groups: 4, random: rng);
        Check(grouped.Weight, grouped.Bias, 16 * 9, "grouped Conv2d");
        using var linear = new Linear(300, 40, random: rng);
        Check(linear.Weight, linear.Bias, 300, "Linear");
        using var conv1 = new Conv1d(32, 64, 5, random: rng);
        Check(conv1.Weight, conv1.Bias, 32 * 5, "Conv1d");
        using var deconv = new ConvTranspose2d(32, 48, 4, random: rng);
        Check(deconv.Weight, deconv.Bias, 48 * 16, "ConvTranspose2d (fan-in from dimension 1)");
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameWeights()
    {
        static float[][] Build()
        {
            using var m = new Sequential(new Conv2d(3, 8, 3), new BatchNorm2d(8), new Linear(8, 4), new PReLU());
            return m.Parameters().Select(p => p.ToArray()).ToArray();
        }
        RandomSource.ManualSeed(42);
        Assert.AreEqual(42, RandomSource.Seed);
        var a = Build();
        RandomSource.ManualSeed(42);
        var b = Build();
        RandomSource.ManualSeed(43);
        var c = Build();
        Assert.AreEqual(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            CollectionAssert.AreEqual(a[i], b[i], $"parameter {i}");
        }
        CollectionAssert.AreNotEqual(a[0], c[0], "another seed gives other weights");

        using var l1 = new Linear(10, 10, random: new Random(7));
        using var l2 = new Linear(10, 10, random: new Random(7));
        CollectionAssert.AreEqual(l1.Weight.ToArray(), l2.Weight.ToArray());
        CollectionAssert.AreEqual(l1.Bias!.ToArray(), l2.Bias!.ToArray());
    }

    [TestMethod]
    public void TheSharedGeneratorIsSafeAcrossThreads()
    {
        RandomSource.ManualSeed(5);
        var shared = RandomSource.Shared;
        var counts = new int[4];
        Parallel.For(0, 4, t =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                double v = shared.NextDouble();
                if (v >= 0 && v < 1)
                {
                    counts[t]++;
                }
            }
        });
        CollectionAssert.AreEqual(new[] { 20_000, 20_000, 20_000, 20_000 }, counts);
        // A corrupted System.Random state degenerates into returning zeros; a locked one keeps drawing.
        Assert.IsTrue(Enumerable.Range(0, 100).Select(_ => shared.Next()).Distinct().Count() > 90);
    }
}
