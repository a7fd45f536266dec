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
    /// (so the batch dimension must be dynamic); returns the largest absolute difference from our output, and the
    /// largest absolute value of our output for scale.
    /// </summary>
    public static (float Difference, float Scale) MaxAbsDifference(Module model, params int[] sampleShape)
    {
        // Sized for the initializers up front: growing a stream to hundreds of megabytes (VGG) copies it many times.
        long stateValues = model.ParameterCount() + model.NamedBuffers().Sum(b => (long)b.Value.Size);
        using var stream = new MemoryStream((int)Math.Min(4 * stateValues + (1 << 20), Array.MaxLength));
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
            return (max, expected.Max(Math.Abs));
        }
        finally
        {
            foreach (var o in outputs.Values)
            {
                o.Dispose();
            }
        }
    }

    /// <summary>
    /// Scales the last batch-norm weight of each ResNet block (<c>layerI.J.bnK.weight</c> with the largest K) to 0.2 so
    /// that the residual sums of the deepest networks keep their logits of order one: with random running statistics,
    /// ResNet-101/152 otherwise reach logits of 10⁵ and more, where float32 rounding alone exceeds 1e-4.
    /// </summary>
    public static void DampResidualBranches(Module model)
    {
        var last = new Dictionary<string, (int K, Tensor Weight)>();
        foreach (var (name, t) in model.NamedParameters())
        {
            var m = System.Text.RegularExpressions.Regex.Match(name, @"^(layer\d+\.\d+)\.bn(\d)\.weight$");
            int k = m.Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            if (m.Success && (!last.TryGetValue(m.Groups[1].Value, out var seen) || seen.K < k))
            {
                last[m.Groups[1].Value] = (k, t);
            }
        }
        foreach (var (_, weight) in last.Values)
        {
            weight.CopyFrom(Enumerable.Repeat(0.2f, weight.Size).ToArray());
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
