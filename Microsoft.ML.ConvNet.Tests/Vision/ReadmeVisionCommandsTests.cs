using SkiaSharp;
using static Microsoft.ML.ConvNet.Tests.Cli.CliHarness;

namespace Microsoft.ML.ConvNet.Tests.Vision;

/// <summary>Runs the <c>convnet</c> commands of README.md's "Classic filters" and "Training reports" sections, and checks the pictures they show exist.</summary>
[TestClass]
public sealed class ReadmeVisionCommandsTests
{
    private const string Prefix = "dotnet run -c Release --project samples/ConvNet.Cli -- ";

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "README.md")) && File.Exists(Path.Combine(d.FullName, "ConvNetML.sln")))
            {
                return d.FullName;
            }
        }
        Assert.Fail("README.md not found above the test binaries");
        return null!;
    }

    /// <summary>The lines of the section under <paramref name="heading"/>, up to the next level-2 heading.</summary>
    private static string[] Section(string heading)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        int start = Array.FindIndex(lines, l => l.Trim() == heading);
        Assert.IsGreaterThanOrEqualTo(0, start, $"README.md has a '{heading}' section");
        int end = Array.FindIndex(lines, start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
        return lines[start..(end < 0 ? lines.Length : end)];
    }

    private static List<string[]> Commands(string[] section)
    {
        int open = Array.FindIndex(section, l => l.Trim() == "```bash");
        int close = Array.FindIndex(section, open + 1, l => l.Trim() == "```");
        Assert.IsGreaterThanOrEqualTo(0, open, "the section has a bash block");
        return [.. section[(open + 1)..close].Where(l => l.Trim().Length > 0).Select(l =>
        {
            Assert.StartsWith(Prefix, l.Trim());
            return l.Trim()[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        })];
    }

    [TestMethod]
    public void ClassicFiltersAndTrainingReportsCommandsRunAndTheirPicturesExist()
    {
        string root = RepositoryRoot();
        var filters = Section("## Classic filters");
        var reports = Section("## Training reports");
        var commands = Commands(filters).Concat(Commands(reports)).ToList();
        Assert.IsTrue(commands.Any(c => c[0] == "filter") && commands.Any(c => c.Contains("--report")), "both sections show a command");
        string tmp = TempFolder("readme-vision");
        string cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = tmp;
            foreach (var original in commands)
            {
                // Repository files by absolute path; outputs (artifacts/) land in the temporary folder; training is cut short.
                var args = original.Select(a => a.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(root, a) : a).ToArray();
                for (int i = 0; i + 1 < args.Length; i++)
                {
                    args[i + 1] = args[i] switch { "--train-limit" => "600", "--test-limit" => "100", "--epochs" => "1", _ => args[i + 1] };
                }
                var (code, _, stderr) = Run(args);
                string shown = string.Join(' ', original);
                Assert.AreEqual(0, code, $"convnet {shown}\nstderr: {stderr}");
                Assert.AreEqual(string.Empty, stderr, shown);
                if (args[0] == "filter" && !args.Contains("--list"))
                {
                    Assert.IsTrue(File.Exists(Path.Combine(tmp, args[^1])), $"{shown} wrote {args[^1]}");
                }
                if (Array.IndexOf(args, "--report") is int r and >= 0)
                {
                    Assert.IsTrue(File.Exists(Path.Combine(tmp, args[r + 1], "index.html")), $"{shown} wrote the report");
                }
            }
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Directory.Delete(tmp, recursive: true);
        }

        // Every picture the two sections show is committed and decodes.
        var pictures = filters.Concat(reports).SelectMany(l => l.Split("](").Skip(1).Select(p => p[..p.IndexOf(')')]))
            .Where(p => p.EndsWith(".png", StringComparison.Ordinal)).ToList();
        Assert.IsGreaterThanOrEqualTo(12, pictures.Count, "the sections show the pictures");
        foreach (string picture in pictures)
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(root, picture));
            Assert.IsNotNull(bitmap, $"{picture} exists and decodes");
        }
    }
}
