using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The Winograd F(2×2, 3×3) convolutions against the seven-loop oracle.</summary>
[TestClass]
public sealed class WinogradTests
{
    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int padH, int padW)
        => ConvGeometry.Create(new Shape(n, c, h, w), new Shape(k, c, 3, 3), 1, 1, padH, padW, 1, 1, 1);

    /// <summary>Forward, backward-data and backward-filter through the backend, which must take the Winograd path.</summary>
    private static void Check(ConvGeometry g, int seed, bool withBias = true)
    {
        Assert.IsTrue(Winograd.Applies(g), $"{g} should take the Winograd path");
        var rng = new Random(seed);
        var b = CpuBackend.Instance;
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.C, 3, 3), rng);
        var bias = withBias ? Tensor.RandomNormal(new Shape(g.K), rng) : null;
        var dy = Tensor.RandomNormal(new Shape(g.N, g.K, g.OH, g.OW), rng);
        // The transforms add a few roundings per product over the im2col path: tolerances scale with the depth of
        // each sum, as for the other convolutions.
        double rtol = 1e-4;

        var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
        b.Conv2dForward(x, w, bias, y, g);
        TensorAssert.AreClose(NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), bias?.ToArray(), g), y.ToArray(),
            2e-5 * (g.C * 9 + 1), rtol, $"forward {g}");

        var dx = Tensor.Full(x.Shape, float.NaN);
        b.Conv2dBackwardData(dy, w, dx, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardData(dy.ToArray(), w.ToArray(), g), dx.ToArray(),
            2e-5 * (g.K * 9 + 1), rtol, $"backward data {g}");

        var dw = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, dw, g);
        TensorAssert.AreClose(NaiveOps.Conv2dBackwardFilter(x.ToArray(), dy.ToArray(), g), dw.ToArray(),
            2e-5 * (g.N * g.OH * g.OW + 1), rtol, $"backward filter {g}");

        // The filter gradient is summed in a fixed order: a second run gives the same bits.
        var again = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, again, g);
        CollectionAssert.AreEqual(dw.ToArray(), again.ToArray(), "the filter gradient changed between two runs");
    }

    [TestMethod]
    public void EvenMapsWithSamePadding() => Check(Geometry(3, 32, 8, 8, 40, 1, 1), 1);

    [TestMethod]
    public void OddMapsLeavePartTilesAtTheEdges() => Check(Geometry(2, 33, 7, 9, 32, 1, 1), 2);

    [TestMethod]
    public void NoPaddingAndDoublePadding()
    {
        Check(Geometry(2, 32, 9, 8, 34, 0, 0), 3);
        Check(Geometry(2, 36, 5, 6, 32, 2, 2), 4, withBias: false);
    }

    [TestMethod]
    public void DifferentPaddingPerAxis() => Check(Geometry(3, 32, 6, 7, 32, 0, 2), 5);

    [TestMethod]
    public void TinyMapsOfManyImagesSpanSeveralBlocks()
    {
        // 4×4 and 3×3 maps: tiles of many images per block, blocks that end inside an image, a short last block.
        Check(Geometry(37, 64, 4, 4, 48, 1, 1), 6);
        Check(Geometry(21, 256, 3, 3, 256, 1, 1), 7);
    }

    [TestMethod]
    public void SingleImage() => Check(Geometry(1, 32, 14, 14, 32, 1, 1), 8);

    [TestMethod]
    public void OneByOneOutput() => Check(Geometry(4, 32, 3, 3, 32, 0, 0), 9);

    [TestMethod]
    public void ShallowOrGroupedOrStridedConvolutionsKeepTheGemmPath()
    {
        Assert.IsFalse(Winograd.Applies(Geometry(2, 3, 8, 8, 64, 1, 1)), "3 input channels");
        Assert.IsFalse(Winograd.Applies(Geometry(2, 64, 8, 8, 16, 1, 1)), "16 output channels");
        Assert.IsFalse(Winograd.Applies(ConvGeometry.Create(new Shape(2, 32, 8, 8), new Shape(32, 32, 3, 3), 2, 2, 1, 1, 1, 1, 1)), "stride 2");
        Assert.IsFalse(Winograd.Applies(ConvGeometry.Create(new Shape(2, 32, 8, 8), new Shape(32, 16, 3, 3), 1, 1, 1, 1, 1, 1, 2)), "groups");
        Assert.IsFalse(Winograd.Applies(ConvGeometry.Create(new Shape(2, 32, 8, 8), new Shape(32, 32, 3, 3), 1, 1, 2, 2, 2, 2, 1)), "dilation");
        Assert.IsFalse(Winograd.Applies(ConvGeometry.Create(new Shape(2, 32, 8, 8), new Shape(32, 32, 5, 5), 1, 1, 2, 2, 1, 1, 1)), "5×5");
    }
}
