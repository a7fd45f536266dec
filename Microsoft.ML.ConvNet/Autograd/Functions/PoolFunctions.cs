using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>
/// Max or average pooling: x [N, C, H, W] → y [N, C, OH, OW] with the sizes of <see cref="PoolGeometry"/>.
/// Backward: max pooling routes each dy to the first maximum of its window; average pooling spreads dy / divisor
/// over the window.
/// </summary>
internal sealed class Pool2dFunction(PoolKind kind, PoolGeometry geometry) : Function
{
    private Tensor? _y;

    public override string Name => kind == PoolKind.Max ? "MaxPool2d" : "AvgPool2d";

    public static Tensor Forward(PoolKind kind, Tensor x, in PoolGeometry g)
    {
        var y = x.EmptyLike(new Shape(g.N, g.C, g.OH, g.OW));
        x.Backend.Pool2dForward(kind, x, y, g);
        return Record(new Pool2dFunction(kind, g) { _y = y }, y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0];
        var dx = x.EmptyLike();
        x.Backend.Pool2dBackward(kind, x, _y!, dy, dx, geometry);
        return [dx];
    }
}

/// <summary>
/// Adaptive average pooling: x [N, C, H, W] → y [N, C, OH, OW], output i averaging input
/// [floor(i·H/OH), ceil((i+1)·H/OH)) per axis. Backward spreads dy / window area over each window.
/// </summary>
internal sealed class AdaptiveAvgPool2dFunction : Function
{
    public override string Name => "AdaptiveAvgPool2d";

    public static Tensor Forward(Tensor x, int outputH, int outputW)
    {
        var y = x.EmptyLike(new Shape(x.Shape[0], x.Shape[1], outputH, outputW));
        x.Backend.AdaptiveAvgPool2dForward(x, y);
        return Record(new AdaptiveAvgPool2dFunction(), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var dx = Inputs[0].EmptyLike();
        dy.Backend.AdaptiveAvgPool2dBackward(dy, dx);
        return [dx];
    }
}
