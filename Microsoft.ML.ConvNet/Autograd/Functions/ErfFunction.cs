using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>
/// The error function, elementwise: y = erf(x), any shape. Backward: dx = dy · 2/√π · exp(−x²). Computed on the host
/// (values are copied from and back to the tensor's device): it appears only in imported ONNX graphs, where GELU was
/// written as 0.5·x·(1 + Erf(x/√2)).
/// </summary>
internal sealed class ErfFunction : Function
{
    public override string Name => "Erf";

    public static Tensor Forward(Tensor x)
    {
        var values = x.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)Erf(values[i]);
        }
        var y = Tensor.FromArray(values, x.Shape, x.Device);
        return Record(new ErfFunction(), y, x);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        var x = Inputs[0].ToArray();
        var g = dy.ToArray();
        double scale = 2.0 / Math.Sqrt(Math.PI);
        for (int i = 0; i < x.Length; i++)
        {
            g[i] = (float)(g[i] * scale * Math.Exp(-(double)x[i] * x[i]));
        }
        return [Tensor.FromArray(g, dy.Shape, dy.Device)];
    }

    /// <summary>ONNX Erf.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output) => graph.AddNode("Erf", inputs);

    /// <summary>erf(x) to about 1e-7 (Numerical Recipes' erfc Chebyshev fit).</summary>
    internal static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
            + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
