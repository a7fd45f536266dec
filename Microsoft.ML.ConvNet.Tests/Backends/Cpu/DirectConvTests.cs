using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The direct convolutions for stride-1 layers with few outputs against the seven-loop oracle.</summary>
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
        ConvOracle.CheckAllDirections(g, seed, withBias);
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
