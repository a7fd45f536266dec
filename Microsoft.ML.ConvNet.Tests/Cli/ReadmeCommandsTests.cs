using Microsoft.ML.ConvNet.Data;
using static Microsoft.ML.ConvNet.Tests.Cli.CliHarness;

namespace Microsoft.ML.ConvNet.Tests.Cli;

/// <summary>Runs every command of README.md's <c>convnet</c> section in-process, so that the documentation cannot rot.</summary>
[TestClass]
public sealed class ReadmeCommandsTests
{
    private const string Prefix = "dotnet run -c Release --project samples/ConvNet.Cli -- ";

    /// <summary>The command lines of the first bash block after the section heading, without the prefix and comments.</summary>
    private static List<string[]> ReadmeCommands()
    {
        string? readme = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null && readme == null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(d.FullName, "ConvNetML.sln")))
            {
                readme = candidate;
            }
        }
        Assert.IsNotNull(readme, "README.md not found above the test binaries");
        var lines = File.ReadAllLines(readme);
        int heading = Array.FindIndex(lines, l => l.Trim() == "## The `convnet` command");
        Assert.IsGreaterThanOrEqualTo(0, heading, "README.md has no '## The `convnet` command' section");
        int open = Array.FindIndex(lines, heading, l => l.Trim() == "```bash");
        int close = Array.FindIndex(lines, open + 1, l => l.Trim() == "```");
        var commands = new List<string[]>();
        foreach (string raw in lines[(open + 1)..close])
        {
            string line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            Assert.StartsWith(Prefix, line, "every command in the block runs the CLI project");
            int comment = line.IndexOf(" #", StringComparison.Ordinal);
            string args = comment >= 0 ? line[Prefix.Length..comment] : line[Prefix.Length..];
            Assert.DoesNotContain("\"", args, "the test splits at spaces; quotes are not supported");
            commands.Add(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        return commands;
    }

    private static string? ValueOf(string[] args, string option)
    {
        int at = Array.IndexOf(args, option);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>The positional arguments of <c>predict</c>: what is neither an option nor an option's value.</summary>
    private static IEnumerable<string> PredictFiles(string[] args)
    {
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--model" || args[i] == "-m")
            {
                i++;
            }
            else if (!args[i].StartsWith('-'))
            {
                yield return args[i];
            }
        }
    }

    /// <summary>A test image of the Fashion-MNIST class named like <paramref name="className"/> (or the first image).</summary>
    private static int ImageOfClass(string className)
    {
        int label = FashionMnist.ClassNames.ToList().FindIndex(n => n.Replace('/', '_') == className);
        return label < 0 ? 0 : Array.IndexOf(FashionTest.Labels, label);
    }

    [TestMethod]
    public void EveryCommandOfTheReadmeSectionRuns()
    {
        var commands = ReadmeCommands();
        foreach (string name in new[] { "train", "evaluate", "predict", "summary" })
        {
            Assert.IsTrue(commands.Any(c => c[0] == name), $"the README shows '{name}'");
        }
        string tmp = TempFolder("readme");
        string cwd = Environment.CurrentDirectory;
        try
        {
            // Relative paths in the README (artifacts/, photos/) land in the temporary folder.
            Environment.CurrentDirectory = tmp;
            foreach (var original in commands)
            {
                var args = original.ToList();
                string? dataset = ValueOf(original, "--dataset");
                bool fashion = dataset == "fashion-mnist";
                // Small subsets keep the run to seconds.
                if (fashion && original[0] == "train" && !args.Contains("--train-limit"))
                {
                    args.AddRange(["--train-limit", "1000"]);
                }
                if (fashion && !args.Contains("--test-limit"))
                {
                    args.AddRange(["--test-limit", "200"]);
                }
                // The README's own images: a folder of three classes, and the files given to predict.
                if (dataset != null && !fashion && original[0] == "train")
                {
                    WriteFolder(dataset, [1, 7, 8], 20);
                }
                if (original[0] == "predict")
                {
                    foreach (string file in PredictFiles(original).Where(f => !File.Exists(f)))
                    {
                        WriteImage(ImageOfClass(Path.GetFileName(Path.GetDirectoryName(file)) ?? ""), file);
                    }
                }
                var (code, stdout, stderr) = Run([.. args]);
                string shown = string.Join(' ', args);
                Assert.AreEqual(0, code, $"convnet {shown}\nstderr: {stderr}");
                Assert.AreEqual(string.Empty, stderr, shown);
                if (args.Contains("--json"))
                {
                    LastLineJson(stdout);
                }
                if (ValueOf(original, "--output") is { } output)
                {
                    Assert.IsTrue(File.Exists(Path.Combine(tmp, output)), $"{shown} wrote {output}");
                }
            }
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Directory.Delete(tmp, recursive: true);
        }
    }
}
