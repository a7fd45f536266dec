using System.CommandLine;
using Microsoft.ML.ConvNet.Cli.Commands;

namespace Microsoft.ML.ConvNet.Cli;

/// <summary>
/// The <c>convnet</c> command line: one subcommand per file in Commands/. Exit codes: 0 success, 1 failure while
/// running, 2 usage error (unknown option or architecture, malformed value).
/// </summary>
internal static class ConvNetCli
{
    /// <summary>Exit code of a usage error.</summary>
    public const int UsageError = 2;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("ConvNetML: convolutional networks for .NET.");
        root.Subcommands.Add(SummaryCommand.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>, writing results to <paramref name="output"/> and messages to <paramref name="error"/>.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var parse = CreateRootCommand().Parse(args);
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parse.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            foreach (var e in parse.Errors)
            {
                error.WriteLine($"convnet: {e.Message}");
            }
            error.WriteLine("Run 'convnet --help' for usage.");
            return UsageError;
        }
        try
        {
            return parse.Invoke(config);
        }
        catch (UsageException e)
        {
            error.WriteLine($"convnet {e.Command}: {e.Message}");
            return UsageError;
        }
    }
}

/// <summary>A malformed or inconsistent command line, reported on stderr with exit code 2.</summary>
internal sealed class UsageException(string command, string message) : Exception(message)
{
    /// <summary>The subcommand that rejected its arguments.</summary>
    public string Command { get; } = command;
}
