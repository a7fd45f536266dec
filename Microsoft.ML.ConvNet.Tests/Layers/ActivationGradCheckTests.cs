using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>Central-difference gradient checks of every activation, softmax, PReLU and dropout.</summary>
[TestClass]
public sealed class ActivationGradCheckTests
{
    private static readonly Dictionary<string, (Func<Tensor, Tensor> F, float[] Kinks)> Activations = new()
    {
        ["Relu"] = (Functional.Relu, [0f]),
        ["Relu6"] = (x => Functional.Relu6(x * 4f), [0f, 1.5f]),
        ["LeakyRelu"] = (x => Functional.LeakyRelu(x, 0.1f), [0f]),
        ["Elu"] = (x => Functional.Elu(x, 0.7f), [0f]),
        ["Selu"] = (Functional.Selu, [0f]),
        ["Gelu"] = (Functional.Gelu, []),
        ["Sigmoid"] = (Functional.Sigmoid, []),
        ["Tanh"] = (Functional.Tanh, []),
        ["Silu"] = (Functional.Silu, []),
        ["Hardswish"] = (x => Functional.Hardswish(x * 3f), [-1f, 1f]),
        ["Hardsigmoid"] = (x => Functional.Hardsigmoid(x * 3f), [-1f, 1f]),
        ["Softmax"] = (x => Functional.Softmax(x, 1), []),
        ["LogSoftmax"] = (x => Functional.LogSoftmax(x, 1), []),
        ["LogSoftmaxLastAxis"] = (x => Functional.LogSoftmax(x, -1), []),
    };

    public static IEnumerable<object[]> Names => Activations.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void ActivationGradientMatchesFiniteDifferences(string name)
    {
        var (f, kinks) = Activations[name];
        using var x = AwayFrom(kinks, new Random(name.Length), 2, 3, 4, 5);
        GradCheck.Check(t => f(t[0]), [x]);
    }

    [TestMethod]
    public void PReluGradientsForInputAndSlopes()
    {
        var rng = new Random(11);
        using var x = AwayFrom([0f], rng, 2, 3, 4, 4);
        using var perChannel = GradCheck.Leaf(rng, 3);
        using var shared = GradCheck.Leaf(rng, 1);
        GradCheck.Check(t => Functional.PRelu(t[0], t[1]), [x, perChannel]);
        GradCheck.Check(t => Functional.PRelu(t[0], t[1]), [x, shared]);
    }

    [TestMethod]
    public void DropoutGradientUsesTheSameMask()
    {
        using var x = GradCheck.Leaf(new Random(12), 4, 50);
        // A fresh generator with the same seed per call gives the same mask for every evaluation.
        GradCheck.Check(t => Functional.Dropout(t[0], 0.3f, training: true, new Random(5)), [x]);
    }

    [TestMethod]
    public void DropoutIsSeededScaledAndOffInEvaluation()
    {
        using var scope = new TensorScope();
        var x = Tensor.Ones(new Shape(10_000));
        var a = Functional.Dropout(x, 0.25f, training: true, new Random(3)).ToArray();
        var b = Functional.Dropout(x, 0.25f, training: true, new Random(3)).ToArray();
        CollectionAssert.AreEqual(a, b, "same seed, same mask");
        Assert.IsTrue(a.All(v => v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6), "kept values are scaled by 1/(1-p)");
        double dropped = a.Count(v => v == 0f) / 10_000.0;
        Assert.AreEqual(0.25, dropped, 0.02);
        Assert.AreSame(x, Functional.Dropout(x, 0.25f, training: false, new Random(3)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.Dropout(x, 1f, true, new Random(3)));
    }

    /// <summary>A leaf of normal values kept at least 0.1 away from the points where the function is not smooth.</summary>
    private static Tensor AwayFrom(float[] kinks, Random rng, params int[] shape)
    {
        var values = new float[new Shape(shape).Size];
        Tensor.FillNormal(values, rng, 0f, 1f);
        for (int i = 0; i < values.Length; i++)
        {
            foreach (float k in kinks)
            {
                if (Math.Abs(values[i] - k) < 0.1f)
                {
                    values[i] = k + (values[i] >= k ? 0.1f : -0.1f);
                }
            }
        }
        var t = Tensor.FromArray(values, new Shape(shape)).Unscope();
        t.RequiresGrad = true;
        return t;
    }
}
