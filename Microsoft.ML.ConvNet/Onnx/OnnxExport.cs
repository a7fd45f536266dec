using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// Exports any <see cref="Module"/> to an ONNX model (IR version 8, opset 17) by tracing its forward pass in
/// evaluation mode: <c>model.ExportOnnx("model.onnx", 1, 3, 224, 224)</c>. The graph input is <c>input</c> and the
/// output <c>output</c>, both float32 with a symbolic batch dimension "N"; parameters and buffers are stored as
/// initializers under their state-dictionary names. Modules on a GPU export too (their values are read to the host).
/// </summary>
public static class OnnxExport
{
    /// <summary>The graph input's name.</summary>
    public const string InputName = "input";

    /// <summary>The graph output's name.</summary>
    public const string OutputName = "output";

    /// <summary>
    /// Writes <paramref name="module"/> as an ONNX model to <paramref name="path"/> atomically (a temporary file in the
    /// same folder, then a rename: a failure leaves any existing file untouched). <paramref name="inputShape"/> is an
    /// example input shape, e.g. 1, 3, 224, 224; its first dimension (the batch) is written as dynamic.
    /// </summary>
    public static void ExportOnnx(this Module module, string path, params int[] inputShape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var graph = Build(module, inputShape);
        AtomicFile.Write(path, graph.WriteTo);
    }

    /// <summary>Writes <paramref name="module"/> as an ONNX model to <paramref name="stream"/> (see the path overload).</summary>
    public static void ExportOnnx(this Module module, Stream stream, params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build(module, inputShape).WriteTo(stream);
    }

    private static OnnxGraph Build(Module module, int[] inputShape)
    {
        var graph = OnnxGraph.Trace(module, InputName, inputShape);
        var dims = graph.TracedOutputShape.ToArray().Select(d => (long)d).ToArray();
        if (dims.Length > 0)
        {
            dims[0] = -1;
        }
        graph.AddOutput(graph.TracedOutput, OutputName, OnnxElementType.Float, dims);
        return graph;
    }
}
