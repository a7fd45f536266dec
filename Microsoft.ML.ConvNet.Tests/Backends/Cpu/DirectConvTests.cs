using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The direct convolutions for shallow filters against the seven-loop oracle.</summary>
[TestClass]
public sealed class DirectConvTests
{
    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int r, int s, int padH, int padW, int dilation = 1)
        => ConvGeometry.Create(new Shape(n, c, h, w), new Shape(k, c, r, s), 1, 1, padH, padW, dilation, dilation, 1);

    /// <summary>Forward, backward-data and backward-filter through the backend, which must take the direct path.</summary>
    private static void Check(ConvGeometry g, int seed, bool withBias = true)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            Assert.Inconclusive("256-bit vectors are not accelerated here: the direct path is not taken.");
        }
        Assert.IsTrue(DirectConv.Applies(g), $"{g} should take the direct path");
        var rng = new Random(seed);
        var b = CpuBackend.Instance;
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.C, g.R, g.S), rng);
        var bias = withBias ? Tensor.RandomNormal(new Shape(g.K), rng) : null;
        var dy = Tensor.RandomNormal(new Shape(g.N, g.K, g.OH, g.OW), rng);
        double rtol = 1e-4;
        int rs = g.R * g.S;

        var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
        b.Conv2dForward(x, w, bias, y, g);
        TensorAssert.AreClose(NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), bias?.ToArray(), g), y.ToArray(),
            2e-5 * (g.C * rs + 1), rtol, $"forward {g}");

        var dx = Tensor.Full(x.Shape, float.NaN);
        b.Conv2dBackwardData(dy, w, dx, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardData(dy.ToArray(), w.ToArray(), g), dx.ToArray(),
            2e-5 * (g.K * rs + 1), rtol, $"backward data {g}");

        var dw = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, dw, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardFilter(x.ToArray(), dy.ToArray(), g), dw.ToArray(),
            2e-5 * (g.N * g.OH * g.OW + 1), rtol, $"backward filter {g}");

        // Each filter element is summed by one thread in a fixed order: a second run gives the same bits.
        var again = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, again, g);
        CollectionAssert.AreEqual(dw.ToArray(), again.ToArray(), "the filter gradient changed between two runs");
    }

    [TestMethod]
    public void LeNetFirstLayerWithPadding() => Check(Geometry(5, 1, 28, 28, 6, 5, 5, 2, 2), 1);

    [TestMethod]
    public void LeNetSecondLayerWithoutPadding() => Check(Geometry(4, 6, 14, 14, 16, 5, 5, 0, 0), 2);

    [TestMethod]
    public void OutputChannelsNotAMultipleOfTheBlocks() => Check(Geometry(3, 10, 9, 11, 7, 3, 3, 1, 1), 3, withBias: false);

    [TestMethod]
    public void DifferentPaddingPerAxisAndRectangularFilters() => Check(Geometry(2, 9, 8, 13, 5, 3, 5, 0, 2), 4);

    [TestMethod]
    public void DilatedFilters() => Check(Geometry(2, 8, 12, 10, 8, 3, 3, 2, 2, dilation: 2), 5);

    [TestMethod]
    public void OneByOneOutputAndTinyMaps()
    {
        // A 5×5 filter over a padded 3×3 map (the unpadded whole-image window is a plain GEMM elsewhere), and a 2×1
        // filter over a 2×2 map.
        Check(Geometry(3, 2, 3, 3, 4, 5, 5, 1, 1), 6);
        Check(Geometry(2, 1, 2, 2, 3, 2, 1, 0, 0), 7);
    }

    [TestMethod]
    public void DeepFiltersWithFewOutputs() => Check(Geometry(3, 40, 10, 10, 16, 3, 3, 1, 1), 9);

    [TestMethod]
    public void ManyImagesSpanSeveralChunks() => Check(Geometry(12, 8, 64, 64, 16, 3, 3, 1, 1), 8);

    [TestMethod]
    public void WideOrStridedOrPointwiseConvolutionsKeepTheOtherPaths()
    {
        Assert.IsFalse(DirectConv.Applies(Geometry(2, 3, 8, 8, 64, 3, 3, 1, 1)), "64 outputs");
        Assert.IsFalse(DirectConv.Applies(Geometry(2, 16, 8, 8, 16, 1, 1, 0, 0)), "1×1");
        Assert.IsFalse(DirectConv.Applies(ConvGeometry.Create(new Shape(2, 3, 8, 8), new Shape(8, 3, 3, 3), 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        Assert.IsFalse(DirectConv.Applies(ConvGeometry.Create(new Shape(2, 4, 8, 8), new Shape(8, 2, 3, 3), 1, 1, 1, 1, 1, 1, 2)), "groups");
        Assert.IsFalse(DirectConv.Applies(Geometry(2, 3, 8, 8, 8, 3, 3, 3, 3)), "padding wider than the filter");
    }

    [TestMethod]
    public void BackwardDataOfFewInputChannelsKeepsTheGemmPath()
    {
        Assert.IsFalse(DirectConv.AppliesToBackwardData(Geometry(2, 1, 28, 28, 6, 5, 5, 2, 2)), "1 input channel");
        Assert.IsFalse(DirectConv.AppliesToBackwardData(Geometry(2, 6, 14, 14, 16, 5, 5, 0, 0)), "6 input channels");
        Assert.IsTrue(DirectConv.AppliesToBackwardData(Geometry(2, 8, 14, 14, 16, 3, 3, 1, 1)), "8 input channels");
    }
}
