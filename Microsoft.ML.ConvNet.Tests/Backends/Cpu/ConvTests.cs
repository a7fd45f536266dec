using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

[TestClass]
public sealed class ConvTests
{
    /// <summary>Geometry from the usual arguments (per-axis stride, padding, dilation).</summary>
    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int r, int s,
        (int H, int W) stride, (int H, int W) pad, (int H, int W) dilation, int groups = 1)
        => ConvGeometry.Create(new Shape(n, c, h, w), new Shape(k, c / groups, r, s), stride.H, stride.W, pad.H, pad.W, dilation.H, dilation.W, groups);

    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int r, int s, int stride = 1, int pad = 0, int dilation = 1, int groups = 1)
        => Geometry(n, c, h, w, k, r, s, (stride, stride), (pad, pad), (dilation, dilation), groups);

    /// <summary>Forward, backward-data and backward-filter of the CPU backend against the seven-loop oracle.</summary>
    private static void CheckAll(ConvGeometry g, int seed, bool withBias = true)
    {
        var rng = new Random(seed);
        var b = CpuBackend.Instance;
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.CPerGroup, g.R, g.S), rng);
        var bias = withBias ? Tensor.RandomNormal(new Shape(g.K), rng) : null;
        var dy = Tensor.RandomNormal(new Shape(g.N, g.K, g.OH, g.OW), rng);
        int depth = g.CPerGroup * g.R * g.S;
        double atol = 1e-5 * (depth + 1), rtol = 1e-4;

        // Outputs start as NaN: the primitives must write every element.
        var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
        b.Conv2dForward(x, w, bias, y, g);
        var expectedY = NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), bias?.ToArray(), g);
        TensorAssert.AreClose(expectedY, y.ToArray(), atol, rtol, $"forward {g}");

        var dx = Tensor.Full(x.Shape, float.NaN);
        b.Conv2dBackwardData(dy, w, dx, g);
        var expectedDx = NaiveOps.Conv2dBackwardData(dy.ToArray(), w.ToArray(), g);
        TensorAssert.AreClose(expectedDx, dx.ToArray(), 1e-5 * (g.KPerGroup * g.R * g.S + 1), rtol, $"backward data {g}");

        var dw = Tensor.Full(w.Shape, float.NaN);
        b.Conv2dBackwardFilter(x, dy, dw, g);
        var expectedDw = NaiveOps.Conv2dBackwardFilter(x.ToArray(), dy.ToArray(), g);
        TensorAssert.AreClose(expectedDw, dw.ToArray(), 1e-5 * (g.N * g.OH * g.OW + 1), rtol, $"backward filter {g}");
    }

    [TestMethod]
    public void FullWindowIsOneProductOverTheBatch()
    {
        // A filter covering the whole unpadded image (LeNet's C5): one GEMM over the batch, odd sizes, batch 1,
        // a stride that has no effect, and no bias.
        CheckAll(Geometry(13, 16, 5, 5, 120, 5, 5), 21);
        CheckAll(Geometry(1, 3, 4, 7, 5, 4, 7, stride: 2), 22);
        CheckAll(Geometry(7, 2, 3, 3, 9, 3, 3), 23, withBias: false);
    }

    [TestMethod]
    public void FullWindowNeighboursKeepTheGeneralPath()
    {
        // One output pixel reached with padding, or with grouping, is not a plain product of the image.
        CheckAll(Geometry(3, 2, 3, 3, 4, 5, 5, pad: 1), 24);
        CheckAll(Geometry(2, 4, 3, 3, 6, 3, 3, groups: 2), 25);
    }

    [TestMethod]
    public void OddSizesWithPadding() => CheckAll(Geometry(2, 3, 7, 9, 4, 3, 3, pad: 1), 1);

    [TestMethod]
    public void BatchOneStrideTwo() => CheckAll(Geometry(1, 4, 8, 9, 6, 3, 3, stride: 2, pad: 1), 2);

    [TestMethod]
    public void StrideTwoRowsGatheredInChunks()
    {
        // Rows of 12, 35 and 112 outputs: chunks of 16 and of 8 picked from vectors, cut by the padding and the panels.
        CheckAll(Geometry(2, 3, 24, 24, 8, 3, 3, stride: 2, pad: 1), 31);
        CheckAll(Geometry(1, 3, 70, 70, 16, 7, 7, stride: 2, pad: 3), 32);
        CheckAll(Geometry(1, 3, 224, 223, 8, 3, 3, stride: 2, pad: 1), 33, withBias: false);
    }

    [TestMethod]
    public void PerAxisStridePaddingDilation() => CheckAll(Geometry(2, 5, 11, 10, 3, 3, 2, (2, 1), (0, 1), (2, 1)), 3);

    [TestMethod]
    public void DilationTwoWithPadding() => CheckAll(Geometry(3, 2, 9, 8, 5, 3, 3, stride: 1, pad: 2, dilation: 2), 4);

    [TestMethod]
    public void PaddingLargerThanHalfKernel() => CheckAll(Geometry(2, 2, 4, 5, 3, 2, 3, stride: 3, pad: 3), 5);

    [TestMethod]
    public void Groups() => CheckAll(Geometry(3, 4, 6, 7, 6, 3, 3, pad: 1, groups: 2), 6);

    [TestMethod]
    public void GroupsWithStrideAndNoBias() => CheckAll(Geometry(2, 6, 9, 9, 9, 3, 3, stride: 2, pad: 1, groups: 3), 7, withBias: false);

    [TestMethod]
    public void Depthwise() => CheckAll(Geometry(2, 8, 9, 11, 8, 3, 3, pad: 1, groups: 8), 8);

    [TestMethod]
    public void DepthwiseStrideTwo() => CheckAll(Geometry(3, 5, 10, 9, 5, 3, 3, stride: 2, pad: 1, groups: 5), 9);

    [TestMethod]
    public void DepthwiseDilatedWideRows() => CheckAll(Geometry(1, 3, 6, 40, 3, 3, 5, (1, 1), (2, 3), (2, 2), 3), 10);

    [TestMethod]
    public void DepthwisePerAxisStrides()
    {
        CheckAll(Geometry(2, 4, 11, 13, 4, 3, 3, (2, 1), (1, 1), (1, 1), 4), 29);
        CheckAll(Geometry(1, 3, 9, 17, 3, 5, 5, (1, 3), (2, 2), (1, 1), 3), 30);
        CheckAll(Geometry(2, 2, 7, 8, 2, 3, 3, (2, 2), (0, 0), (1, 1), 2), 31);
    }

    [TestMethod]
    public void DepthwiseChannelMultiplier() => CheckAll(Geometry(2, 3, 7, 7, 6, 3, 3, pad: 1, groups: 3), 11);

    [TestMethod]
    public void Pointwise() => CheckAll(Geometry(2, 16, 5, 7, 9, 1, 1), 12);

    [TestMethod]
    public void PointwiseStrideTwoAndGrouped()
    {
        CheckAll(Geometry(2, 8, 7, 7, 12, 1, 1, stride: 2), 13);
        CheckAll(Geometry(2, 8, 5, 5, 12, 1, 1, groups: 4), 14);
    }

    [TestMethod]
    public void DeepFilterSpansSeveralGemmBlocks() => CheckAll(Geometry(3, 40, 12, 12, 70, 3, 3, pad: 1), 15);

    [TestMethod]
    public void SingleImageLargeEnoughForParallelGemm() => CheckAll(Geometry(1, 32, 16, 16, 64, 3, 3, pad: 1), 16);

    [TestMethod]
    public void LargeImagesAreProcessedInSlicesOfOutputPositions()
    {
        CheckAll(Geometry(1, 16, 32, 33, 8, 3, 3, pad: 1), 18);
        CheckAll(Geometry(2, 32, 64, 40, 4, 3, 3, stride: 2, pad: 1), 19);
    }

    [TestMethod]
    public void SmallMapsOfManyImagesShareOneGemm()
    {
        // Small output maps: several images per GEMM, with image boundaries inside the micro-kernel's tiles, more
        // than one block of images, a filter deeper than one packed block, groups, stride 2 and dilation.
        CheckAll(Geometry(37, 30, 5, 3, 20, 3, 3, pad: 1), 26);
        CheckAll(Geometry(9, 6, 7, 6, 10, 3, 3, stride: 2, pad: 1, groups: 2), 27, withBias: false);
        CheckAll(Geometry(5, 3, 9, 7, 4, 3, 3, (1, 2), (2, 1), (2, 1)), 28);
    }

    [TestMethod]
    public void EmptyBatchWritesAZeroFilterGradient() => CheckAll(Geometry(0, 3, 5, 5, 4, 3, 3, pad: 1), 20);

    [TestMethod]
    public void SingleChannelSinglePixelOutput() => CheckAll(Geometry(2, 1, 3, 3, 1, 3, 3), 17);

    [TestMethod]
    public void WrongSizesAreRejected()
    {
        var g = Geometry(2, 3, 5, 5, 4, 3, 3);
        using var x = Tensor.Zeros(new Shape(2, 3, 5, 5));
        using var w = Tensor.Zeros(new Shape(4, 3, 3, 3));
        using var y = Tensor.Zeros(new Shape(2, 4, 3, 4));
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => CpuBackend.Instance.Conv2dForward(x, w, null, y, g));
        StringAssert.Contains(ex.Message, "Conv2dForward");
        StringAssert.Contains(ex.Message, "[2, 4, 3, 3]");
    }
}
