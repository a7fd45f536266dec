using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>Runs exported models with ONNX Runtime and compares them with our forward pass.</summary>
internal static class OnnxRuntimeRunner
{
    /// <summary>Runs <paramref name="model"/> on one float input; returns every output by name (the caller disposes them).</summary>
    public static Dictionary<string, OrtValue> Run(InferenceSession session, string inputName, Tensor input)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input.ToArray(), input.Shape.ToArray().Select(d => (long)d).ToArray());
        using var options = new RunOptions();
        var names = session.OutputNames.ToArray();
        var outputs = session.Run(options, [inputName], [value], names);
        return names.Zip(outputs).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>Our evaluation-mode output for <paramref name="input"/>.</summary>
    public static float[] Reference(Module model, Tensor input)
    {
        model.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        return model.Forward(input).ToArray();
    }

    /// <summary>
    /// Exports <paramref name="model"/> with an example batch of 1, runs the file with ONNX Runtime on a random batch of 2
    /// (so the batch dimension must be dynamic) and returns the largest absolute difference from our output.
    /// </summary>
    public static float MaxAbsDifference(Module model, params int[] sampleShape)
    {
        using var stream = new MemoryStream();
        model.ExportOnnx(stream, [1, .. sampleShape]);
        using var input = Tensor.RandomNormal(new Shape([2, .. sampleShape]), new Random(7));
        var expected = Reference(model, input);
        using var session = new InferenceSession(stream.ToArray());
        var outputs = Run(session, OnnxExport.InputName, input);
        try
        {
            var actual = outputs[OnnxExport.OutputName];
            long[] shape = actual.GetTensorTypeAndShape().Shape;
            Assert.AreEqual(2L, shape[0], "the batch dimension of the ONNX output");
            var values = actual.GetTensorDataAsSpan<float>();
            Assert.AreEqual(expected.Length, values.Length, "number of output values");
            float max = 0f;
            for (int i = 0; i < expected.Length && !float.IsNaN(max); i++)
            {
                float d = Math.Abs(values[i] - expected[i]);
                max = float.IsNaN(d) ? d : Math.Max(max, d);
            }
            return max;
        }
        finally
        {
            foreach (var o in outputs.Values)
            {
                o.Dispose();
            }
        }
    }

    /// <summary>Gives every batch-norm buffer non-trivial running statistics (means around 0, variances in [0.5, 1.5]).</summary>
    public static void RandomizeRunningStatistics(Module model, int seed = 3)
    {
        var random = new Random(seed);
        foreach (var (name, t) in model.NamedBuffers())
        {
            bool variance = name.EndsWith("running_var", StringComparison.Ordinal);
            if (variance || name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                var v = new float[t.Size];
                for (int i = 0; i < v.Length; i++)
                {
                    v[i] = variance ? 0.5f + (float)random.NextDouble() : 0.2f * ((float)random.NextDouble() - 0.5f);
                }
                t.CopyFrom(v);
            }
        }
    }
}
