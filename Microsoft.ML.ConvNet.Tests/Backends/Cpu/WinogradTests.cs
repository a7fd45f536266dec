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
        ConvOracle.CheckAllDirections(g, seed, withBias);
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
