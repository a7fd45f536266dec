namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>How the CPU backend computes a convolution, in the order <see cref="ConvAlgorithms.Choose"/> tries them.</summary>
internal enum ConvAlgorithm
{
    /// <summary>groups = C = K, one filter per channel: <see cref="DepthwiseConv"/>'s plane kernels.</summary>
    Depthwise,

    /// <summary>One ungrouped window covering the whole unpadded image (1×1 output): the batch is one fully connected GEMM.</summary>
    FullWindow,

    /// <summary>3×3 stride-1 ungrouped convolutions with enough channels on each side: <see cref="Winograd"/>.</summary>
    Winograd,

    /// <summary>Stride-1 ungrouped convolutions with few outputs: <see cref="DirectConv"/>.</summary>
    Direct,

    /// <summary>1×1 filter, stride 1, no padding: the image itself is the GEMM operand (on small maps, several images' side by side).</summary>
    Pointwise,

    /// <summary>GEMM over the im2col view of each image and group (several images per GEMM on small output maps).</summary>
    Im2Col,
}

/// <summary>The rules that pick a <see cref="ConvAlgorithm"/> for a geometry and a direction, written once for all three directions.</summary>
internal static class ConvAlgorithms
{
    /// <summary>
    /// The algorithm <see cref="CpuBackend"/> uses for <paramref name="g"/> in <paramref name="direction"/>: the first
    /// of depthwise, full window, Winograd, direct, pointwise that applies, otherwise im2col. Winograd and the direct
    /// kernels can be switched off (<see cref="CpuBackend.UseWinograd"/>, <see cref="CpuBackend.UseDirectConv"/>);
    /// the filter gradient takes Winograd only with enough channels or tiles read by rows (<see cref="Winograd.AppliesToFilterGradient"/>), and
    /// backward data the direct kernel only with enough input channels (<see cref="DirectConv.AppliesToBackwardData"/>).
    /// </summary>
    public static ConvAlgorithm Choose(in ConvGeometry g, ConvDirection direction)
    {
        if (IsDepthwise(g))
        {
            return ConvAlgorithm.Depthwise;
        }
        if (IsFullWindow(g))
        {
            return ConvAlgorithm.FullWindow;
        }
        if (CpuBackend.UseWinograd && (direction == ConvDirection.BackwardFilter ? Winograd.AppliesToFilterGradient(g) : Winograd.Applies(g)))
        {
            return ConvAlgorithm.Winograd;
        }
        if (CpuBackend.UseDirectConv && (direction == ConvDirection.BackwardData ? DirectConv.AppliesToBackwardData(g) : DirectConv.Applies(g)))
        {
            return ConvAlgorithm.Direct;
        }
        return IsPointwise(g) ? ConvAlgorithm.Pointwise : ConvAlgorithm.Im2Col;
    }

    /// <summary>groups = C = K: one filter per channel.</summary>
    private static bool IsDepthwise(in ConvGeometry g) => g.Groups > 1 && g.Groups == g.C && g.K == g.C;

    /// <summary>
    /// One ungrouped window covering the whole unpadded image (1×1 output): the image itself is the column of the
    /// im2col matrix, and the batch is one fully connected product.
    /// </summary>
    private static bool IsFullWindow(in ConvGeometry g)
        => g.Groups == 1 && g.OH == 1 && g.OW == 1 && g.PadH == 0 && g.PadW == 0 && g.R == g.H && g.S == g.W
            && g.DilationH == 1 && g.DilationW == 1;

    /// <summary>1×1 filter, stride 1, no padding: the image itself is the im2col matrix.</summary>
    private static bool IsPointwise(in ConvGeometry g) => g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0;
}
