using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>
/// Picks one column per row: x [N, C], index [N] → y [N] with y[n] = x[n, index[n]]. Backward scatters
/// dy [N] into a zero dx [N, C] at the same positions. Indices are checked by the caller.
/// </summary>
internal sealed class GatherColumnsFunction(int[] index) : Function
{
    public override string Name => "GatherColumns";

    /// <summary>x [N, C], index [N] (each in [0, C)) → y [N].</summary>
    public static Tensor Forward(Tensor x, int[] index)
    {
        if (x.Rank != 2 || index.Length != x.Shape[0])
        {
            throw new ShapeMismatchException("GatherColumns", x.Shape, new Shape(index.Length), "expected x [N, C] and one index per row");
        }
        var y = x.EmptyLike(new Shape(x.Shape[0]));
        x.Backend.GatherColumns(x, index, y);
        return Record(new GatherColumnsFunction(index), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var dx = Inputs[0].EmptyLike();
        dx.Backend.ScatterColumns(dy, index, dx);
        return [dx];
    }
}
