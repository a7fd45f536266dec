using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>The algorithm the CPU backend picks for representative layers, in each direction.</summary>
[TestClass]
public sealed class ConvAlgorithmTests
{
    private const ConvAlgorithm Depthwise = ConvAlgorithm.Depthwise;
    private const ConvAlgorithm FullWindow = ConvAlgorithm.FullWindow;
    private const ConvAlgorithm Winograd = ConvAlgorithm.Winograd;
    private const ConvAlgorithm Pointwise = ConvAlgorithm.Pointwise;
    private const ConvAlgorithm Im2Col = ConvAlgorithm.Im2Col;

    /// <summary>The direct kernels need accelerated 256-bit vectors; elsewhere those layers fall back to im2col.</summary>
    private static readonly ConvAlgorithm Direct = Vector256.IsHardwareAccelerated ? ConvAlgorithm.Direct : ConvAlgorithm.Im2Col;

    /// <summary>
    /// With AVX-512 Winograd's input transforms read image rows, which makes its filter gradient pay from 32 channels on
    /// maps of 7 tiles a row or more; otherwise narrow filter gradients stay with <paramref name="otherwise"/>.
    /// </summary>
    private static ConvAlgorithm NarrowFilterGradient(ConvAlgorithm otherwise) => Avx512F.IsSupported ? Winograd : otherwise;

    private static ConvGeometry Geometry(int c, int hw, int k, int kernel, int stride = 1, int pad = 0, int groups = 1, int dilation = 1, int n = 8)
        => ConvGeometry.Create(new Shape(n, c, hw, hw), new Shape(k, c / groups, kernel, kernel), stride, stride, pad, pad, dilation, dilation, groups);

    private static void Pin(ConvGeometry g, ConvAlgorithm forward, ConvAlgorithm backwardData, ConvAlgorithm backwardFilter)
    {
        Assert.AreEqual(forward, ConvAlgorithms.Choose(g, ConvDirection.Forward), $"forward of {g}");
        Assert.AreEqual(backwardData, ConvAlgorithms.Choose(g, ConvDirection.BackwardData), $"backward data of {g}");
        Assert.AreEqual(backwardFilter, ConvAlgorithms.Choose(g, ConvDirection.BackwardFilter), $"backward filter of {g}");
    }

    [TestMethod]
    public void ResNetStemSevenBySevenStrideTwoIsIm2Col() => Pin(Geometry(3, 224, 64, 7, stride: 2, pad: 3), Im2Col, Im2Col, Im2Col);

    [TestMethod]
    public void ResNetThreeByThreeIsWinograd()
    {
        Pin(Geometry(64, 56, 64, 3, pad: 1), Winograd, Winograd, NarrowFilterGradient(Im2Col));
        Pin(Geometry(128, 28, 128, 3, pad: 1), Winograd, Winograd, Winograd);
        Pin(Geometry(256, 14, 256, 3, pad: 1), Winograd, Winograd, Winograd);
        Pin(Geometry(512, 7, 512, 3, pad: 1), Winograd, Winograd, Winograd);
    }

    [TestMethod]
    public void WinogradNeedsThirtyTwoChannelsOnEachSide()
    {
        Pin(Geometry(32, 14, 32, 3, pad: 1), Winograd, Winograd, NarrowFilterGradient(Direct));
        Pin(Geometry(32, 12, 32, 3, pad: 1), Winograd, Winograd, Direct);
        Pin(Geometry(16, 14, 64, 3, pad: 1), Im2Col, Im2Col, Im2Col);
    }

    [TestMethod]
    public void StridedThreeByThreeIsIm2Col() => Pin(Geometry(64, 56, 128, 3, stride: 2, pad: 1), Im2Col, Im2Col, Im2Col);

    [TestMethod]
    public void LeNetFirstLayerIsDirectExceptBackwardDataOfOneChannel() => Pin(Geometry(1, 28, 6, 5, pad: 2), Direct, Im2Col, Direct);

    [TestMethod]
    public void FewOutputsWithEnoughInputChannelsAreDirectInEveryDirection() => Pin(Geometry(16, 32, 32, 3, pad: 1), Direct, Direct, Direct);

    [TestMethod]
    public void DilatedThreeByThreeWithFewOutputsIsDirect() => Pin(Geometry(8, 12, 8, 3, pad: 2, dilation: 2), Direct, Direct, Direct);

    [TestMethod]
    public void BottleneckOneByOneIsPointwise() => Pin(Geometry(64, 56, 256, 1), Pointwise, Pointwise, Pointwise);

    [TestMethod]
    public void StridedOneByOneDownsampleIsIm2Col() => Pin(Geometry(256, 56, 512, 1, stride: 2), Im2Col, Im2Col, Im2Col);

    [TestMethod]
    public void MobileNetDepthwiseIsDepthwise()
    {
        Pin(Geometry(32, 112, 32, 3, pad: 1, groups: 32), Depthwise, Depthwise, Depthwise);
        Pin(Geometry(512, 14, 512, 3, stride: 2, pad: 1, groups: 512), Depthwise, Depthwise, Depthwise);
    }

    [TestMethod]
    public void GroupedConvolutionIsIm2Col() => Pin(Geometry(64, 28, 64, 3, pad: 1, groups: 2), Im2Col, Im2Col, Im2Col);

    [TestMethod]
    public void WindowOverTheWholeImageIsFullWindow() => Pin(Geometry(512, 7, 4096, 7), FullWindow, FullWindow, FullWindow);
}
