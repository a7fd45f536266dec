using System.Text.Json;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Losses;

[TestClass]
public sealed class SoftTargetCrossEntropyTests
{
    /// <summary>Loss and gradient equal PyTorch's cross_entropy with probability targets (fixtures), atol 1e-5.</summary>
    [TestMethod]
    public void MatchesPyTorch()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Folder, "schedules.json")));
        var cases = doc.RootElement.GetProperty("softCrossEntropy").EnumerateArray().ToList();
        Assert.HasCount(4, cases);
        foreach (var e in cases)
        {
            using var scope = new TensorScope();
            var shape = new Shape(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
            var logits = Tensor.FromArray(e.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray(), shape);
            logits.RequiresGrad = true;
            var targets = Tensor.FromArray(e.GetProperty("targets").EnumerateArray().Select(v => v.GetSingle()).ToArray(), shape);
            var reduction = e.GetProperty("reduction").GetString() == "sum" ? Reduction.Sum : Reduction.Mean;
            var loss = Loss.SoftTargetCrossEntropy(logits, targets, reduction);
            string name = e.GetProperty("name").GetString()!;
            Assert.AreEqual(e.GetProperty("loss").GetDouble(), loss.ToScalar(), 1e-5, name);
            loss.Backward();
            TensorAssert.AreClose(e.GetProperty("grad").EnumerateArray().Select(v => v.GetSingle()).ToArray(), logits.Grad!.ToArray(), 1e-5, 1e-4, name);
        }
    }

    [TestMethod]
    public void OneHotTargetsGiveTheCrossEntropy()
    {
        using var scope = new TensorScope();
        var rng = new Random(2);
        var logits = GradCheck.Leaf(rng, 5, 4);
        int[] labels = [0, 3, 2, 2, 1];
        var oneHot = new float[20];
        for (int i = 0; i < 5; i++)
        {
            oneHot[i * 4 + labels[i]] = 1;
        }
        var soft = Loss.SoftTargetCrossEntropy(logits, Tensor.FromArray(oneHot, new Shape(5, 4)), Reduction.None).ToArray();
        var hard = Loss.CrossEntropy(logits, labels, reduction: Reduction.None).ToArray();
        TensorAssert.AreClose(hard, soft, 1e-6, 1e-6);
    }

    [TestMethod]
    public void GradientMatchesCentralDifferences()
    {
        var rng = new Random(3);
        var logits = GradCheck.Leaf(rng, 3, 5);
        var t = Enumerable.Range(0, 15).Select(_ => (float)rng.NextDouble()).ToArray();
        using var targets = Tensor.FromArray(t, new Shape(3, 5)).Unscope();
        GradCheck.Check(x => Loss.SoftTargetCrossEntropy(x[0], targets, Reduction.None), [logits]);
        GradCheck.Check(x => Loss.SoftTargetCrossEntropy(x[0], targets), [logits]);
    }

    [TestMethod]
    public void ShapesMustAgree()
    {
        using var scope = new TensorScope();
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => Loss.SoftTargetCrossEntropy(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(2, 4))));
        StringAssert.Contains(ex.Message, "SoftTargetCrossEntropy");
    }
}
