using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.ConvNet.Tests.Samples;

/// <summary>
/// The README's ML.NET pipeline example is samples/PipelineQuickstart/Program.cs, word for word; the sample is compiled
/// with the tests (the test project references it) and run here, so the example cannot rot.
/// </summary>
[TestClass]
public sealed partial class ReadmeExampleTests
{
    /// <summary>The README section whose C# code block is the sample program.</summary>
    internal const string Heading = "## ML.NET pipelines";

    public TestContext TestContext { get; set; } = null!;

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n');

    /// <summary>The first C# code block after the heading <paramref name="heading"/> of <paramref name="markdown"/>, before the next heading of that level.</summary>
    internal static string CodeBlockUnder(string markdown, string heading)
    {
        markdown = markdown.Replace("\r\n", "\n", StringComparison.Ordinal);
        int at = markdown.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, at, $"README has no heading '{heading}'");
        int next = markdown.IndexOf("\n## ", at + heading.Length + 1, StringComparison.Ordinal);
        string section = next < 0 ? markdown[at..] : markdown[at..next];
        const string Fence = "```csharp\n";
        int start = section.IndexOf(Fence, StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, start, $"README section '{heading}' has no C# code block");
        start += Fence.Length;
        int end = section.IndexOf("\n```", start - 1, StringComparison.Ordinal);
        Assert.IsGreaterThan(start - 2, end, $"README section '{heading}': the C# code block is not closed");
        return section[start..(end + 1)];
    }

    [TestMethod]
    public void ReadmePipelineExampleIsTheSampleProgram()
    {
        string root = SampleFolders.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string program = File.ReadAllText(Path.Combine(root, "samples", "PipelineQuickstart", "Program.cs"));
        string block = CodeBlockUnder(readme, Heading);
        Assert.AreEqual(Normalize(program), Normalize(block),
            $"README's '{Heading}' example must be samples/PipelineQuickstart/Program.cs verbatim; copy one into the other.");
    }

    [TestMethod]
    public void CodeBlockExtractionFindsTheBlockOfTheSection()
    {
        const string Markdown = "# T\n\n## A\n\n```csharp\nint a;\n```\n\n## B\n\ntext\n\n```csharp\nint b;\nint c;\n```\n";
        Assert.AreEqual("int b;\nint c;\n", CodeBlockUnder(Markdown, "## B"));
        Assert.AreEqual("int a;\n", CodeBlockUnder(Markdown.Replace("\n", "\r\n", StringComparison.Ordinal), "## A"));
    }

    [GeneratedRegex(@"^micro accuracy (?<micro>[0-9.]+), macro accuracy (?<macro>[0-9.]+), log-loss (?<loss>[0-9.]+)\r?$", RegexOptions.Multiline)]
    private static partial Regex MetricsLine();

    [GeneratedRegex(@"^(?<path>\S+)\s+(?<truth>\S+)\s+predicted (?<predicted>\S+)\s+with probability (?<p>[0-9.]+)\r?$", RegexOptions.Multiline)]
    private static partial Regex PredictionLine();

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void ReadmePipelineExampleRunsTrainsSavesAndPredicts()
    {
        var entry = typeof(ImageRow).Assembly.EntryPoint;
        Assert.IsNotNull(entry, "PipelineQuickstart has an entry point");
        string work = Directory.CreateTempSubdirectory("convnet-readme-").FullName;
        string previousDirectory = Directory.GetCurrentDirectory();
        var previousOut = Console.Out;
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        try
        {
            Directory.SetCurrentDirectory(work);
            Console.SetOut(output);
            entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(previousOut);
            Directory.SetCurrentDirectory(previousDirectory);
            TestContext.WriteLine(output.ToString());
        }
        string text = output.ToString();
        try
        {
            // Four epochs of smallcnn on 480 drawn images classify the 120 held-out ones without error (measured, seed 1).
            var m = MetricsLine().Match(text);
            Assert.IsTrue(m.Success, "the example prints its metrics line");
            double micro = double.Parse(m.Groups["micro"].Value, CultureInfo.InvariantCulture);
            Assert.IsGreaterThanOrEqualTo(0.9, micro, $"micro accuracy {micro}");
            StringAssert.Contains(text, "epoch 4/4");
            StringAssert.Contains(text, "Confusion table");
            Assert.IsTrue(File.Exists(Path.Combine(work, "model.zip")), "the example saved its model");
            Assert.HasCount(3, Directory.GetDirectories(Path.Combine(work, "stripes")), "three classes were drawn");

            var predictions = PredictionLine().Matches(text);
            Assert.HasCount(5, predictions, "one line per predicted image");
            int right = predictions.Count(p => p.Groups["truth"].Value == p.Groups["predicted"].Value);
            Assert.IsGreaterThanOrEqualTo(4, right, "the reloaded model predicts most of the five images right");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
