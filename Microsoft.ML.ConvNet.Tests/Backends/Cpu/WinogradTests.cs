using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The Winograd convolutions, F(4×4, 3×3) (the default) and F(2×2, 3×3), against the seven-loop oracle.</summary>
[TestClass]
public sealed class WinogradTests
{
    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int padH, int padW)
        => ConvGeometry.Create(new Shape(n, c, h, w), new Shape(k, c, 3, 3), 1, 1, padH, padW, 1, 1, 1);

    /// <summary>
    /// Forward, backward-data and backward-filter through the backend, which must take the Winograd path (for the filter
    /// gradient too, which otherwise waits for wider layers).
    /// </summary>
    private static void Check(ConvGeometry g, int seed, bool withBias = true)
    {
        Winograd.FilterGradientFromMinChannels = true;
        try
        {
            Assert.IsTrue(Winograd.AppliesToFilterGradient(g), $"{g} should take the Winograd path");
            ConvOracle.CheckAllDirections(g, seed, withBias);
        }
        finally
        {
            Winograd.FilterGradientFromMinChannels = false;
        }
    }

    /// <summary><see cref="Check"/> of every geometry (same padding on both axes) with F(4×4, 3×3), then F(2×2, 3×3).</summary>
    private static void CheckBothTileSizes((int N, int C, int H, int W, int K, int Pad)[] geometries, int seed)
    {
        foreach (var tiles in new[] { WinogradTiles.Large, WinogradTiles.Small })
        {
            Winograd.Tiles = tiles;
            try
            {
                foreach (var (n, c, h, w, k, pad) in geometries)
                {
                    Check(Geometry(n, c, h, w, k, pad, pad), seed++);
                }
            }
            finally
            {
                Winograd.Tiles = WinogradTiles.Measured;
            }
        }
    }

    [TestMethod]
    public void EvenMapsWithSamePadding() => Check(Geometry(3, 32, 8, 8, 40, 1, 1), 1);

    [TestMethod]
    public void OddMapsLeavePartTilesAtTheEdges() => Check(Geometry(2, 33, 7, 9, 32, 1, 1), 2);

    [TestMethod]
    public void NoPaddingAndDoublePadding()
    {
        Check(Geometry(3, 32, 9, 8, 34, 0, 0), 3);
        Check(Geometry(2, 36, 5, 6, 32, 2, 2), 4, withBias: false);
    }

    [TestMethod]
    public void DifferentPaddingPerAxis() => Check(Geometry(4, 32, 6, 7, 32, 0, 2), 5);

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
    public void OneByOneOutput() => Check(Geometry(32, 32, 3, 3, 32, 0, 0), 9);

    [TestMethod]
    public void FewTilesKeepTheGemmPath()
    {
        Assert.IsFalse(Winograd.Applies(Geometry(1, 512, 7, 7, 512, 1, 1)), "16 tiles of a 7×7 map at batch 1");
        Assert.IsTrue(Winograd.Applies(Geometry(2, 512, 7, 7, 512, 1, 1)), "32 tiles at batch 2");
    }

    [TestMethod]
    public void BothTileSizesMatchTheOracleAtEveryEdge()
    {
        // Output sides 1 … 13 cover every remainder of 4×4 and 2×2 tiles; the last geometry is a ResNet stage's.
        (int N, int C, int H, int W, int K, int Pad)[] geometries =
        [
            (32, 32, 3, 3, 32, 0), (3, 32, 6, 10, 40, 1), (3, 40, 7, 5, 32, 1), (1, 48, 13, 11, 32, 1), (2, 32, 12, 9, 33, 2), (2, 64, 14, 14, 64, 1),
        ];
        CheckBothTileSizes(geometries, 20);
    }

    [TestMethod]
    public void WideRowsAreTransformedSixteenTilesAtATime()
    {
        // Rows of 9 to 37 tiles: whole runs of 16 and a masked last run, the first and last tiles in the padding, blocks
        // that start and end inside a row; rows of the next image right after (no run may cross them).
        (int N, int C, int H, int W, int K, int Pad)[] geometries =
        [
            (2, 32, 6, 70, 32, 0), (2, 32, 9, 74, 33, 1), (1, 40, 5, 150, 32, 2), (3, 32, 4, 36, 32, 0), (2, 32, 7, 40, 32, 1),
        ];
        CheckBothTileSizes(geometries, 40);
    }

    [TestMethod]
    public void PatchesGatheredOneByOneAsWithoutAvx512MatchTheOracle()
    {
        Winograd.GatherPatches = true;
        try
        {
            CheckBothTileSizes([(2, 33, 7, 9, 32, 1), (3, 32, 9, 8, 34, 0), (2, 32, 5, 40, 32, 2)], 60);
        }
        finally
        {
            Winograd.GatherPatches = false;
        }
    }

    [TestMethod]
    public void LargeTilesStayWithinATenThousandthOfTheOutputsScale()
    {
        // Relative error against the oracle on a ResNet-18 stage (64 channels, 28×28), F(4×4, 3×3) against F(2×2, 3×3).
        var g = Geometry(2, 64, 28, 28, 64, 1, 1);
        var rng = new Random(31);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.C, 3, 3), rng);
        var expected = NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), null, g);
        double scale = Math.Sqrt(expected.Average(v => (double)v * v));
        double Error(WinogradTiles tiles)
        {
            Winograd.Tiles = tiles;
            try
            {
                var y = Tensor.Empty(new Shape(g.N, g.K, g.OH, g.OW));
                CpuBackend.Instance.Conv2dForward(x, w, null, y, g);
                return y.ToArray().Zip(expected, (a, b) => Math.Abs(a - b)).Max() / scale;
            }
            finally
            {
                Winograd.Tiles = WinogradTiles.Measured;
            }
        }
        double small = Error(WinogradTiles.Small), large = Error(WinogradTiles.Large);
        Console.WriteLine($"largest error ÷ RMS output: F(2×2, 3×3) {small:E2}, F(4×4, 3×3) {large:E2}");
        // Measured: 1.8e-6 and 2.7e-5; the larger transforms' coefficients (up to 8 and 5) cost about an order of magnitude.
        Assert.IsLessThan(1e-4, large, "F(4×4, 3×3) in single precision");
        Assert.IsLessThan(1e-5, small, "F(2×2, 3×3) in single precision");
    }

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
