using System.CommandLine;
using Microsoft.ML.ConvNet.Cli.Commands;
using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Cli;

/// <summary>
/// The <c>convnet</c> command line: one subcommand per file in Commands/. Exit codes (<see cref="ExitCodes"/>): 0 success,
/// 1 failure while running, 2 usage error, 3 a missing or inaccessible file or folder (input or output), 4 an invalid
/// input file (corrupt, truncated, not a regular file, too large; for <c>predict</c>, after every good file was
/// scored), 70 an internal error.
/// </summary>
internal static class ConvNetCli
{
    /// <summary>Exit code of a failure while running that is none of the more specific ones (an unavailable device, unusable data).</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a usage error.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a file or folder that does not exist or cannot be read or written (an input, or <c>--output</c>).</summary>
    public const int MissingFile = 3;

    /// <summary>Exit code of an input file that cannot be used: a corrupt, truncated or malformed model, image or data file, or not a regular file.</summary>
    public const int InvalidFile = 4;

    /// <summary>Exit code of an unexpected error (a defect): the message and the exception type are printed, no stack trace.</summary>
    public const int InternalError = 70;

    /// <summary>The exit codes as the help text and the README list them.</summary>
    public const string ExitCodes = """
        Exit codes:
          0   success
          1   failure while running (an unavailable device, data that cannot be used, too few images)
          2   usage error (a missing or malformed option, an unknown architecture)
          3   a file or folder that does not exist or cannot be read or written (an input, or --output)
          4   an invalid input file: a model, image or data file that is corrupt, truncated, malformed, too large or not
              a regular file (predict scores every good file first and reports each bad one)
          70  internal error (the message and the exception type are printed)
        """;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("ConvNetML: convolutional networks for .NET.\n\n" + ExitCodes);
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
        catch (Exception e)
        {
            string command = parse.CommandResult.Command.Name;
            var (code, message) = Classify(e);
            error.WriteLine($"convnet {command}: {message}");
            return code;
        }
    }

    /// <summary>The exit code and the message of <paramref name="e"/> (ML.NET wraps its workers' errors: the innermost known one counts).</summary>
    internal static (int Code, string Message) Classify(Exception e)
    {
        for (var inner = e; inner != null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case CliFailureException f:
                    return (f.ExitCode, f.Message);
                case InvalidFileException:
                    return (InvalidFile, inner.Message);
                case FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException:
                    return (MissingFile, inner.Message);
            }
        }
        return e switch
        {
            IOException => (MissingFile, e.Message),
            InvalidDataException or DllNotFoundException => (Failure, e.Message),
            NotSupportedException or ArgumentException or InvalidOperationException or OperationCanceledException
                or Backends.Cuda.Interop.CudaException => (Failure, $"{e.Message} ({e.GetType().Name})"),
            OutOfMemoryException => (Failure, $"out of memory: {e.Message}"),
            _ => (InternalError, $"internal error: {e.Message} ({e.GetType().FullName})"),
        };
    }
}

/// <summary>A failure while running (a missing file, unusable data), reported on stderr with <see cref="ExitCode"/>.</summary>
internal sealed class CliFailureException(string message, int exitCode = ConvNetCli.Failure) : Exception(message)
{
    /// <summary>The process exit code (see <see cref="ConvNetCli.ExitCodes"/>).</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>A malformed or inconsistent command line, reported on stderr with exit code 2.</summary>
internal sealed class UsageException(string command, string message) : Exception(message)
{
    /// <summary>The subcommand that rejected its arguments.</summary>
    public string Command { get; } = command;
}
