using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Onnx;
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

    /// <summary>
    /// ONNX MaxPool (with dilations) or AveragePool (count_include_pad); ceil_mode is set when the output is larger
    /// than the floor rule gives.
    /// </summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        var g = geometry;
        bool ceil = g.OH != PoolGeometry.OutputSize(g.H, g.KernelH, g.StrideH, g.PadH, g.DilationH, ceilMode: false)
            || g.OW != PoolGeometry.OutputSize(g.W, g.KernelW, g.StrideW, g.PadW, g.DilationW, ceilMode: false);
        OnnxAttribute[] common =
        [
            OnnxAttribute.Ints("kernel_shape", g.KernelH, g.KernelW),
            OnnxAttribute.Ints("strides", g.StrideH, g.StrideW),
            OnnxAttribute.Ints("pads", g.PadH, g.PadW, g.PadH, g.PadW),
            OnnxAttribute.Int("ceil_mode", ceil ? 1 : 0),
        ];
        return kind == PoolKind.Max
            ? graph.AddNode("MaxPool", inputs, [.. common, OnnxAttribute.Ints("dilations", g.DilationH, g.DilationW)])
            : graph.AddNode("AveragePool", inputs, [.. common, OnnxAttribute.Int("count_include_pad", kind == PoolKind.AvgIncludePad ? 1 : 0)]);
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

    /// <summary>
    /// ONNX GlobalAveragePool for a 1×1 output; otherwise the separable form y = Pₕ·x·Pᵥᵀ with averaging matrices
    /// Pₕ [OH, H] and Pᵥ [OW, W] (two MatMuls, exact for overlapping and uneven windows alike).
    /// </summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        int h = Inputs[0].Shape[2], w = Inputs[0].Shape[3], oh = output.Shape[2], ow = output.Shape[3];
        if (oh == 1 && ow == 1)
        {
            return graph.AddNode("GlobalAveragePool", inputs);
        }
        var columns = graph.AddConstant("pool_columns", AveragingMatrix(w, ow, transposed: true), w, ow);
        var rows = graph.AddConstant("pool_rows", AveragingMatrix(h, oh, transposed: false), oh, h);
        return graph.AddNode("MatMul", [rows, graph.AddNode("MatMul", [inputs[0], columns])]);
    }

    /// <summary>[outputs, inputs] (or its transpose) with 1/window at the inputs each output averages.</summary>
    private static float[] AveragingMatrix(int inputs, int outputs, bool transposed)
    {
        var m = new float[inputs * outputs];
        for (int o = 0; o < outputs; o++)
        {
            int start = o * inputs / outputs, end = ((o + 1) * inputs + outputs - 1) / outputs;
            for (int i = start; i < end; i++)
            {
                m[transposed ? i * outputs + o : o * inputs + i] = 1f / (end - start);
            }
        }
        return m;
    }
}
