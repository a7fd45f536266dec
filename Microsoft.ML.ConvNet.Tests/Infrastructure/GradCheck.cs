using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>
/// Finite-difference gradient checks. The engine computes in float32, so the loss is a fixed random
/// projection of the output summed in float64, and central differences use a step suited to float32.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks the analytic gradients of L = Σ f(inputs) · R (R fixed random) with respect to every input
    /// against central differences. Inputs must be leaves with RequiresGrad set.
    /// </summary>
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-2, double atol = 2e-2, double rtol = 2e-2, int seed = 7, int maxChecksPerInput = 200)
    {
        var rng = new Random(seed);
        float[] projection;
        using (var scope = new TensorScope())
        {
            using var _ = new NoGradScope();
            var y0 = f(inputs);
            projection = new float[y0.Size];
            Tensor.FillNormal(projection, rng, 0, 1);
        }

        foreach (var t in inputs)
        {
            t.ClearGrad();
        }
        using (var scope = new TensorScope())
        {
            var y = f(inputs);
            using var r = Tensor.FromArray(projection, y.Shape).Unscope();
            var loss = (y * r).Sum();
            loss.Backward();
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            if (!x.RequiresGrad)
            {
                continue;
            }
            Assert.IsNotNull(x.Grad, $"input {k} got no gradient");
            var analytic = x.Grad.ToArray();
            var values = x.ToArray();
            var numeric = new float[values.Length];
            var picked = Enumerable.Range(0, values.Length).OrderBy(_ => rng.Next()).Take(maxChecksPerInput).ToHashSet();
            var analyticPicked = new List<float>();
            var numericPicked = new List<float>();
            for (int i = 0; i < values.Length; i++)
            {
                if (!picked.Contains(i))
                {
                    continue;
                }
                float orig = values[i];
                values[i] = (float)(orig + eps);
                x.CopyFrom(values);
                double plus = Evaluate(f, inputs, projection);
                values[i] = (float)(orig - eps);
                x.CopyFrom(values);
                double minus = Evaluate(f, inputs, projection);
                values[i] = orig;
                x.CopyFrom(values);
                numericPicked.Add((float)((plus - minus) / (2 * eps)));
                analyticPicked.Add(analytic[i]);
            }
            TensorAssert.AreClose(numericPicked.ToArray(), analyticPicked.ToArray(), atol, rtol, $"gradient of input {k} {x.Shape} (numeric vs analytic)");
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, float[] projection)
    {
        using var scope = new TensorScope();
        using var _ = new NoGradScope();
        var y = f(inputs).ToArray();
        double s = 0;
        for (int i = 0; i < y.Length; i++)
        {
            s += (double)y[i] * projection[i];
        }
        return s;
    }

    /// <summary>A leaf tensor with RequiresGrad set, from a seeded normal distribution, owned by the caller.</summary>
    public static Tensor Leaf(Random rng, params int[] shape)
    {
        var t = Tensor.RandomNormal(new Shape(shape), rng).Unscope();
        t.RequiresGrad = true;
        return t;
    }
}
