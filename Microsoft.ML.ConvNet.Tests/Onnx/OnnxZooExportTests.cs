using Microsoft.ML.ConvNet.Models;

namespace Microsoft.ML.ConvNet.Tests.Onnx;

/// <summary>
/// Every zoo architecture exported to ONNX gives ONNX Runtime's logits equal to ours within 1e-4 (max abs difference),
/// with randomised batch-norm running statistics, an example batch of 1 in the export and a batch of 2 in the run.
/// </summary>
[TestClass]
public sealed class OnnxZooExportTests
{
    private const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Architectures => ModelZoo.Names.Select(n => new object[] { n });

    /// <summary>
    /// The smallest convenient input side: LeNet-5 and the small CNN are built for 28 px, the small-input stems take
    /// 32 px, GoogLeNet and Xception need 64 px and Inception v3 75 px.
    /// </summary>
    private static int InputSide(string name) => name switch
    {
        "inception_v3" => 75,
        "googlenet" or "xception" => 64,
        "lenet5" or "smallcnn" => 28,
        _ => 32,
    };

    /// <summary>
    /// Returns the hundreds of megabytes a VGG export leaves in large-object garbage (model bytes, ONNX Runtime's copy)
    /// before the next architecture, so that the run's memory stays at one model's worth.
    /// </summary>
    [TestCleanup]
    public void ReleaseLargeBuffers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [TestMethod]
    [DynamicData(nameof(Architectures))]
    public void ZooArchitecture_OnnxRuntimeLogits_MatchOurs(string name)
    {
        using var model = ModelZoo.Create(name, new ModelOptions(NumClasses: 10, InputChannels: 3, SmallInput: true));
        OnnxRuntimeRunner.RandomizeRunningStatistics(model);
        OnnxRuntimeRunner.DampResidualBranches(model);
        int side = InputSide(name);

        var (diff, scale) = OnnxRuntimeRunner.MaxAbsDifference(model, 3, side, side);

        string line = $"{name}: max abs difference {diff:E2} ({side}x{side} input, max |logit| {scale:G3})";
        TestContext.WriteLine(line);
        Assert.IsTrue(diff <= Tolerance, $"{name}: ONNX Runtime differs from our logits by {diff:E3} (max abs), more than {Tolerance:E0}.");
    }
}
