using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using ImageClassification_ModelBuilder;

namespace Microsoft.ML.ConvNet.Tests.Samples;

/// <summary>
/// The Model Builder-style pair: the training half trains MLModel.zip with the ConvNet trainer, and the consumption app,
/// built without this library, loads it in a separate process and predicts what the trained model predicts in-process.
/// </summary>
[TestClass]
public sealed class ModelBuilderSampleTests
{
    private const string ConsumeName = "ImageClassification.ModelBuilder.Consume";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ConsumptionAppDoesNotReferenceTheLibrary()
    {
        string project = File.ReadAllText(Path.Combine(SampleFolders.RepositoryRoot(), "samples", ConsumeName, ConsumeName + ".csproj"));
        StringAssert.DoesNotMatch(project, new System.Text.RegularExpressions.Regex("ProjectReference|Include=\"[^\"]*ConvNet"));
        string dll = ConsumeAssembly();
        Assert.IsFalse(File.Exists(Path.Combine(Path.GetDirectoryName(dll)!, "Microsoft.ML.ConvNet.dll")), "the consumption app's output has no Microsoft.ML.ConvNet.dll");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void ConsumptionAppInAnotherProcessPredictsAsTheTrainedModel()
    {
        string work = Directory.CreateTempSubdirectory("convnet-modelbuilder-").FullName;
        try
        {
            string images = SampleImages.DrawStripes(Path.Combine(work, "images"), perClass: 60);
            string zip = Path.Combine(work, "MLModel.zip");
            using var log = new StringWriter(CultureInfo.InvariantCulture);
            var model = MLModel.Train(zip, images, epochs: 3, log: log);
            TestContext.WriteLine(log.ToString());
            Assert.IsTrue(File.Exists(zip), "MLModel.zip was saved");

            string[] files = [.. Directory.GetDirectories(images).Order().Select(folder => Directory.GetFiles(folder).Order().Last())];
            var engine = new MLContext().Model.CreatePredictionEngine<MLModel.ModelInput, MLModel.ModelOutput>(model);
            var expected = files.Select(file => engine.Predict(new MLModel.ModelInput { ImageSource = file })).ToArray();
            (model as IDisposable)?.Dispose();

            var (exitCode, stdout, stderr) = Run(ConsumeAssembly(), [zip, .. files]);
            TestContext.WriteLine(stdout);
            Assert.AreEqual(0, exitCode, "the consumption app failed:\n" + stderr + stdout);

            string[] lines = stdout.Split('\n', StringSplitOptions.TrimEntries);
            string[] labels = [.. lines.Where(l => l.StartsWith("PredictedLabel: ", StringComparison.Ordinal)).Select(l => l["PredictedLabel: ".Length..])];
            float[][] scores = [.. lines.Where(l => l.StartsWith("Score: ", StringComparison.Ordinal))
                .Select(l => l["Score: ".Length..].Split(' ').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray())];
            Assert.HasCount(files.Length, labels, "one predicted label per image");
            Assert.HasCount(files.Length, scores, "one score line per image");
            for (int i = 0; i < files.Length; i++)
            {
                Assert.AreEqual(expected[i].PredictedLabel, labels[i], $"predicted label of {files[i]}");
                Assert.HasCount(expected[i].Score.Length, scores[i], $"scores of {files[i]}");
                for (int c = 0; c < scores[i].Length; c++)
                {
                    Assert.AreEqual(expected[i].Score[c], scores[i][c], 1e-5f, $"score {c} of {files[i]}");
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The consumption app's build output; the test project's reference builds it, and a missing one is built here.</summary>
    private string ConsumeAssembly()
    {
        string configuration = typeof(ModelBuilderSampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "Configuration")?.Value ?? "Release";
        string project = Path.Combine(SampleFolders.RepositoryRoot(), "samples", ConsumeName);
        string dll = Path.Combine(project, "bin", configuration, "net10.0", ConsumeName + ".dll");
        if (!File.Exists(dll))
        {
            var (exitCode, stdout, stderr) = Run(null, ["build", "-c", configuration, project]);
            Assert.AreEqual(0, exitCode, $"building {project} failed:\n{stderr}{stdout}");
        }
        Assert.IsTrue(File.Exists(dll), dll + " exists");
        return dll;
    }

    /// <summary>Runs <c>dotnet [assembly] arguments</c> and returns its exit code and output.</summary>
    private (int ExitCode, string Stdout, string Stderr) Run(string? assembly, string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (assembly != null)
        {
            start.ArgumentList.Add(assembly);
        }
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.CancellationToken);
        process.WaitForExitAsync(TestContext.CancellationToken).GetAwaiter().GetResult();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
