using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>
/// Checks image files before they are trained on, evaluated or scored, with <see cref="ImageFile.Check(string)"/>: a
/// regular file that SkiaSharp (ML.NET's decoder) decodes completely; a truncated file, which ML.NET would decode with
/// grey rows, is reported.
/// </summary>
internal static class CliImages
{
    /// <summary>Why <paramref name="path"/> cannot be used, with the exit code of that failure; null when it can.</summary>
    public static (string Problem, int Code)? Problem(string path)
    {
        try
        {
            ImageFile.Check(path);
            return null;
        }
        catch (FileNotFoundException)
        {
            return ($"image file '{path}' does not exist", ConvNetCli.MissingFile);
        }
        catch (InvalidFileException e)
        {
            return (e.Message, ConvNetCli.InvalidFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ($"image file '{path}' cannot be read: {e.Message}", ConvNetCli.MissingFile);
        }
    }

    /// <summary>The files of <paramref name="paths"/> that cannot be used, with why, in order (checked in parallel).</summary>
    public static List<(string Path, string Problem, int Code)> Unreadable(IReadOnlyList<string> paths)
    {
        var problems = new (string Problem, int Code)?[paths.Count];
        Parallel.For(0, paths.Count, i => problems[i] = Problem(paths[i]));
        var bad = new List<(string, string, int)>();
        for (int i = 0; i < paths.Count; i++)
        {
            if (problems[i] is { } p)
            {
                bad.Add((paths[i], p.Problem, p.Code));
            }
        }
        return bad;
    }

    /// <summary>The first of <paramref name="paths"/> that cannot be used, with why; null when all can.</summary>
    public static (string Path, string Problem)? FirstUnreadable(IEnumerable<string> paths)
    {
        foreach (string path in paths)
        {
            if (Problem(path) is { } problem)
            {
                return (path, problem.Problem);
            }
        }
        return null;
    }

    /// <summary>
    /// Checks every image of <paramref name="paths"/>: without <paramref name="skip"/>, a bad file fails the command naming
    /// every bad file (exit code 4, or 3 when all are missing); with it, the bad files are listed on
    /// <paramref name="output"/> and returned, to be left out.
    /// </summary>
    public static List<(string Path, string Problem, int Code)> CheckAll(IReadOnlyList<string> paths, bool skip, CliOutput output)
    {
        var bad = Unreadable(paths);
        if (bad.Count == 0)
        {
            return bad;
        }
        const int Shown = 10;
        var lines = bad.Take(Shown).Select(b => "  " + b.Problem).ToList();
        if (bad.Count > Shown)
        {
            lines.Add($"  ... and {bad.Count - Shown} more");
        }
        if (!skip)
        {
            int code = bad.All(b => b.Code == ConvNetCli.MissingFile) ? ConvNetCli.MissingFile : ConvNetCli.InvalidFile;
            throw new CliFailureException(
                $"{bad.Count} of {paths.Count} image files cannot be used; fix or remove them, or pass --skip-bad-images to leave them out:\n{string.Join("\n", lines)}", code);
        }
        output.Line($"skipping {bad.Count} of {paths.Count} image files that cannot be used:");
        foreach (var b in bad)
        {
            output.Line("  " + b.Problem);
        }
        return bad;
    }
}
