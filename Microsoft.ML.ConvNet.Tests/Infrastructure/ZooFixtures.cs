using System.Globalization;
using System.Text.Json;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>
/// The zoo fixtures written by build/reference/make_zoo_fixtures_*.py through zoo_weights.write_keys/write_logits:
/// <c>&lt;name&gt;.keys.txt</c> (torchvision's state-dict entries, "key d0,d1,..." sorted) and
/// <c>&lt;name&gt;.logits.json</c> (eval-mode logits of the deterministic weights on the deterministic input).
/// </summary>
public static class ZooFixtures
{
    /// <summary>The folder holding the zoo fixtures.</summary>
    public static string Folder => Path.Combine(Fixtures.Folder, "zoo");

    /// <summary>torchvision's state-dict entries of <paramref name="name"/>, "key d0,d1,...", sorted by key.</summary>
    public static string[] ReadKeys(string name)
        => [.. File.ReadAllLines(Path.Combine(Folder, name + ".keys.txt")).Where(l => l.Length > 0).Order(StringComparer.Ordinal)];

    /// <summary>Our state-dict entries in the fixture format, sorted by key.</summary>
    public static string[] Keys(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return [.. model.StateDict()
            .Select(p => p.Key + " " + string.Join(",", p.Value.Shape.ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture))))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Asserts that the model's state-dict names and shapes equal <paramref name="expected"/>, listing the first differences.</summary>
    public static void AssertKeys(IEnumerable<string> expected, Module model, string what)
    {
        var want = expected.Order(StringComparer.Ordinal).ToArray();
        var actual = Keys(model);
        CollectionAssert.AreEqual(want, actual, $"{what}: state-dictionary names and shapes differ from torchvision's. " +
            $"Missing: [{string.Join("; ", want.Except(actual).Take(5))}] unexpected: [{string.Join("; ", actual.Except(want).Take(5))}]");
    }

    /// <summary>The reference logits of <paramref name="name"/>: input shape, logits shape and values.</summary>
    public static (int[] Input, Shape Shape, float[] Data) ReadLogits(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, name + ".logits.json")));
        var root = doc.RootElement;
        int[] input = [.. root.GetProperty("input").EnumerateArray().Select(e => e.GetInt32())];
        int[] shape = [.. root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
        float[] data = [.. root.GetProperty("data").EnumerateArray().Select(e => e.GetSingle())];
        return (input, new Shape(shape), data);
    }

    /// <summary>
    /// Fills <paramref name="model"/> with the deterministic weights, runs it in evaluation mode on the fixture's input
    /// and asserts the logits agree within <paramref name="atol"/>; a negative value is relative to the largest logit.
    /// </summary>
    public static void AssertLogits(string name, Module model, double atol)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (input, shape, expected) = ReadLogits(name);
        double bound = atol >= 0 ? atol : -atol * expected.Max(MathF.Abs);
        DeterministicWeights.Fill(model);
        model.Eval();
        using var scope = new TensorScope();
        using var noGrad = new NoGradScope();
        var logits = model.Forward(DeterministicWeights.Input(input));
        TensorAssert.AreClose(expected, shape, logits, bound, 0, name + " logits");
    }
}
