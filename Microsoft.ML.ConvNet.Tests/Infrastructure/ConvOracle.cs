using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>Checks a CPU convolution path in all three directions against the seven-loop oracle (<see cref="NaiveOps"/>).</summary>
internal static class ConvOracle
{
    /// <summary>
    /// Forward (with or without bias), backward data and backward filter of random tensors through the CPU backend,
    /// against the oracle; tolerances grow with the depth of each sum. The filter gradient must also come out
    /// bit-identical from a second run (its sums have a fixed order).
    /// </summary>
    public static void CheckAllDirections(ConvGeometry g, int seed, bool withBias = true)
    {
        var rng = new Random(seed);
        var b = CpuBackend.Instance;
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.CPerGroup, g.R, g.S), rng);
        var bias = withBias ? Tensor.RandomNormal(new Shape(g.K), rng) : null;
        var dy = Tensor.RandomNormal(new Shape(g.N, g.K, g.OH, g.OW), rng);
        double rtol = 1e-4;
        int rs = g.R * g.S;

        var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
        b.Conv2dForward(x, w, bias, y, g);
        TensorAssert.AreClose(NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), bias?.ToArray(), g), y.ToArray(),
            2e-5 * (g.CPerGroup * rs + 1), rtol, $"forward {g}");

        var dx = Tensor.Full(x.Shape, float.NaN);
        b.Conv2dBackwardData(dy, w, dx, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardData(dy.ToArray(), w.ToArray(), g), dx.ToArray(),
            2e-5 * (g.KPerGroup * rs + 1), rtol, $"backward data {g}");

        var dw = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, dw, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardFilter(x.ToArray(), dy.ToArray(), g), dw.ToArray(),
            2e-5 * (g.N * g.OH * g.OW + 1), rtol, $"backward filter {g}");

        var again = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, again, g);
        CollectionAssert.AreEqual(dw.ToArray(), again.ToArray(), "the filter gradient changed between two runs");
    }
}
