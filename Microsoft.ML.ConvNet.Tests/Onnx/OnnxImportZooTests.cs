using System.Diagnostics;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// Every zoo architecture, exported to ONNX and imported back, gives the original's evaluation-mode output within 1e-4
/// (max abs difference), at the small input sizes of the export tests, on a random batch of 2.
/// </summary>
[TestClass]
public sealed class OnnxImportZooTests
{
    private const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Architectures => ModelZoo.Names.Select(n => new object[] { n });

    internal static int InputSide(string name) => name switch
    {
        "inception_v3" => 75,
        "googlenet" or "xception" => 64,
        "lenet5" or "smallcnn" => 28,
        _ => 32,
    };

    [TestCleanup]
    public void ReleaseLargeBuffers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [TestMethod]
    [DynamicData(nameof(Architectures))]
    public void OnnxImport_ZooRoundTrip_MatchesOriginal(string name)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        OnnxRuntimeRunner.RandomizeRunningStatistics(model);
        OnnxRuntimeRunner.DampResidualBranches(model);
        int side = InputSide(name);
        using var stream = new MemoryStream();
        model.ExportOnnx(stream, 1, 3, side, side);
        stream.Position = 0;
        var clock = Stopwatch.StartNew();
        using var imported = OnnxModel.Load(stream, name + ".onnx");
        double loadMs = clock.Elapsed.TotalMilliseconds;

        using var input = Tensor.RandomNormal(new Shape(2, 3, side, side), new Random(7));
        var expected = OnnxRuntimeRunner.Reference(model, input);
        var actual = OnnxRuntimeRunner.Reference(imported, input);

        Assert.AreEqual(expected.Length, actual.Length, $"{name}: output size");
        float diff = OnnxImportAssert.MaxAbsDifference(expected, actual);
        TestContext.WriteLine($"{name}: max abs difference {diff:E2}, {imported.ParameterCount()} parameters (original {model.ParameterCount()}), {imported.RunNodeCount} nodes run, load {loadMs:F0} ms");
        Assert.IsTrue(diff <= Tolerance, $"{name}: the imported model differs from the original by {diff:E3} (max abs), more than {Tolerance:E0}.");
    }
}

/// <summary>Comparison helpers for the import tests.</summary>
internal static class OnnxImportAssert
{
    public static float MaxAbsDifference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        float max = 0f;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = Math.Abs(expected[i] - actual[i]);
            if (float.IsNaN(d))
            {
                return float.NaN;
            }
            max = Math.Max(max, d);
        }
        return max;
    }
}
