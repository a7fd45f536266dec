using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>Softmax or log-softmax along one axis; backward uses the saved output.</summary>
internal sealed class SoftmaxFunction(int axisIndex, int outer, int axis, int inner, bool log) : Function
{
    private Tensor? _y;

    public override string Name => log ? "LogSoftmax" : "Softmax";

    public static Tensor Forward(Tensor x, int axisIndex, bool log)
    {
        axisIndex = x.Shape.NormalizeAxis(axisIndex);
        int outer = x.Shape.SizeOf(0, axisIndex), axis = x.Shape[axisIndex], inner = x.Shape.SizeOf(axisIndex + 1, x.Rank);
        var y = x.EmptyLike();
        x.Backend.Softmax(x, y, outer, axis, inner, log);
        return Record(new SoftmaxFunction(axisIndex, outer, axis, inner, log) { _y = y }, y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var dx = dy.EmptyLike();
        dy.Backend.SoftmaxBackward(_y!, dy, dx, outer, axis, inner, log);
        return [dx];
    }

    /// <summary>ONNX Softmax or LogSoftmax on the same axis.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode(Name, inputs, OnnxAttribute.Int("axis", axisIndex));
}
