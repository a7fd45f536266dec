using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// The 1×1 expansion → k×k depthwise (→ 1×1 projection (+ input)) of a mobile block in one pass over bands of rows,
/// or image by image channels last on small maps (<see cref="InvertedResidualKernel"/>), for MobileNet-v2's inverted
/// residual and EfficientNet's MBConv.
/// </summary>
internal static class FusedMobileBlock
{
    /// <summary>
    /// Runs <paramref name="expand"/> and <paramref name="depthwise"/> (conv-BN-activation each, with the same ReLU,
    /// ReLU6 or SiLU), then the projection when <paramref name="projectConv"/> is given (adding the input when
    /// <paramref name="residual"/>), in one pass where that applies: on the CPU, with batch norm folded (inference or a
    /// frozen block, nothing observing the layers) and at least as many bands as cores. Returns null otherwise, and the
    /// caller runs the layers one by one. Without a projection the result is the depthwise output [N, hidden, OH, OW].
    /// </summary>
    public static unsafe Tensor? TryForward(Module expand, Module depthwise, Conv2d? projectConv, BatchNormBase? projectBn, int stride,
        bool residual, Tensor input)
    {
        if (input.Device != Device.Cpu
            || expand is not Sequential { Count: 3 } e || e[0] is not Conv2d expandConv || e[1] is not BatchNormBase expandBn
            || depthwise is not Sequential { Count: 3 } d || d[0] is not Conv2d dwConv || d[1] is not BatchNormBase dwBn
            || ConvBatchNormFolding.ActivationOf(e[2]) is not FusedActivation activation || ConvBatchNormFolding.ActivationOf(d[2]) != activation
            || !ConvBatchNormFolding.CanFold(expandConv, expandBn, input) || !ConvBatchNormFolding.CanFoldWithin(dwConv, dwBn, input)
            || (projectConv != null && (projectBn == null || !ConvBatchNormFolding.CanFoldWithin(projectConv, projectBn, input))))
        {
            return null;
        }
        int k = dwConv.KernelSize.H, hidden = dwConv.InChannels;
        if (!IsPointwise(expandConv) || expandConv.OutChannels != hidden || expandConv.Weight.Device != Device.Cpu
            || dwConv.KernelSize.W != k || k % 2 == 0 || dwConv.Padding != new Size2(k / 2, k / 2) || dwConv.Dilation != new Size2(1, 1)
            || dwConv.Stride != new Size2(stride, stride) || dwConv.Groups != hidden || dwConv.OutChannels != hidden || dwConv.Weight.Device != Device.Cpu
            || (projectConv != null && (!IsPointwise(projectConv) || projectConv.InChannels != hidden || projectConv.Weight.Device != Device.Cpu)))
        {
            return null;
        }
        var shape = new InvertedResidualKernel.Shape(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], hidden, k, stride,
            projectConv?.OutChannels ?? hidden);
        if (shape.Tasks < CpuParallel.Threads || shape.OH < 1 || shape.OW < 1 || (residual && (projectConv == null || shape.Out != shape.C || stride != 1)))
        {
            return null;
        }
        var (w1, b1) = expandBn.FoldedFor(expandConv);
        var (w2, b2) = dwBn.FoldedFor(dwConv);
        var (w3, b3) = projectConv == null ? (null, null) : projectBn!.FoldedFor(projectConv);
        // Small maps run channels last, with the 1×1 filters kept as right-hand operands; larger ones in bands of rows,
        // with them kept as left-hand ones (or packed per band where they are not kept).
        var columns1 = InvertedResidualKernel.UsesChannelsLast(shape) ? PackedFilters.ForGemmColumns(w1, hidden, shape.C) : null;
        var columns3 = columns1 != null && w3 != null ? PackedFilters.ForGemmColumns(w3, shape.Out, hidden) : null;
        bool channelsLast = columns1 != null && (w3 == null || columns3 != null);
        var packed1 = channelsLast ? null : PackedFilters.ForGemm(w1, 1, hidden, shape.C);
        var packed3 = channelsLast || w3 == null ? null : PackedFilters.ForGemm(w3, 1, shape.Out, hidden);
        var y = input.EmptyLike(new Shape(shape.N, shape.Out, shape.OH, shape.OW));
        fixed (float* px = input.Span)
        fixed (float* pc1 = columns1)
        fixed (float* pc3 = columns3)
        fixed (float* pp1 = packed1)
        fixed (float* pp3 = packed3)
        fixed (float* pw1 = w1.Span)
        fixed (float* pb1 = b1.Span)
        fixed (float* pw2 = w2.Span)
        fixed (float* pb2 = b2.Span)
        fixed (float* pw3 = w3 == null ? default : w3.Span)
        fixed (float* pb3 = b3 == null ? default : b3.Span)
        fixed (float* py = y.Span)
        {
            if (channelsLast)
            {
                InvertedResidualKernel.ForwardChannelsLast(px, pc1, pb1, pw2, pb2, pc3, pb3, activation, residual, py, shape);
            }
            else
            {
                InvertedResidualKernel.Forward(px, pw1, pp1, pb1, pw2, pb2, pw3, pp3, pb3, activation, residual, py, shape);
            }
        }
        return y;
    }

    private static bool IsPointwise(Conv2d conv)
        => conv.KernelSize == new Size2(1, 1) && conv.Stride == new Size2(1, 1) && conv.Padding == new Size2(0, 0) && conv.Groups == 1;
}
