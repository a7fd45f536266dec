using System.CommandLine;
using Microsoft.ML.ConvNet.Cli.Commands;

namespace Microsoft.ML.ConvNet.Cli;

/// <summary>
/// The <c>convnet</c> command line: one subcommand per file in Commands/. Exit codes: 0 success, 1 failure while
/// running (a file or folder that is missing or unreadable, data that cannot be used, an unavailable device), 2 usage
/// error (unknown or missing option, unknown architecture, malformed value).
/// </summary>
internal static class ConvNetCli
{
    /// <summary>Exit code of a failure while running.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a usage error.</summary>
    public const int UsageError = 2;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("ConvNetML: convolutional networks for .NET.");
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(FilterCommand.Create());
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
        catch (Exception e) when (IsFailure(e))
        {
            string command = parse.CommandResult.Command.Name;
            error.WriteLine($"convnet {command}: {Describe(e)}");
            return Failure;
        }
    }

    /// <summary>The failures reported as such (exit code 1) rather than as crashes: problems of files, data, codecs and devices.</summary>
    private static bool IsFailure(Exception e) => e is CliFailureException or IOException or InvalidDataException or UnauthorizedAccessException
        or NotSupportedException or DllNotFoundException or ArgumentException or InvalidOperationException or OperationCanceledException
        or Backends.Cuda.Interop.CudaException;

    private static string Describe(Exception e) => e is CliFailureException or IOException or InvalidDataException or UnauthorizedAccessException
        or DllNotFoundException ? e.Message : $"{e.Message} ({e.GetType().Name})";
}

/// <summary>A failure while running (a missing file, unusable data), reported on stderr with exit code 1.</summary>
internal sealed class CliFailureException(string message) : Exception(message);

/// <summary>A malformed or inconsistent command line, reported on stderr with exit code 2.</summary>
internal sealed class UsageException(string command, string message) : Exception(message)
{
    /// <summary>The subcommand that rejected its arguments.</summary>
    public string Command { get; } = command;
}
