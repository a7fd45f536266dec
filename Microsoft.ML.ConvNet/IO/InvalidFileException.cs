namespace Microsoft.ML.ConvNet.IO;

/// <summary>
/// An input file that cannot be used: not a regular file (a folder, a device, a pipe), larger than the reader's limit,
/// truncated, corrupt (a checksum that does not match), malformed, or declaring sizes that cannot be right. Every
/// reader of the library (images, ONNX, safetensors, state dictionaries, IDX, model zips) raises it, with
/// <see cref="FilePath"/> set and a message that names the file and what is wrong; the exception it replaced (a
/// decoder's or parser's own) is the <see cref="Exception.InnerException"/>. A file that does not exist is still a
/// <see cref="FileNotFoundException"/>.
/// </summary>
public class InvalidFileException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; the message is "<c>FILE: PROBLEM</c>".</summary>
    public InvalidFileException(string filePath, string problem, Exception? innerException = null)
        : base(Compose(filePath, problem), innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>Creates the exception with an empty path (for serializers and tests).</summary>
    public InvalidFileException()
        : this("", "the file is invalid")
    {
    }

    /// <summary>Creates the exception with an empty path and <paramref name="message"/> as the problem.</summary>
    public InvalidFileException(string message)
        : this("", message)
    {
    }

    /// <summary>Creates the exception with an empty path, <paramref name="message"/> as the problem and an inner exception.</summary>
    public InvalidFileException(string message, Exception innerException)
        : this("", message, innerException)
    {
    }

    /// <summary>The file (as given to the reader, or the full path when the reader resolved it).</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with the file, without its name.</summary>
    public string Problem { get; }

    private static string Compose(string filePath, string problem)
    {
        if (string.IsNullOrEmpty(filePath))
        {
            return problem;
        }
        // Readers' messages often name the file already ("x.idx: truncated ..."); do not name it twice.
        return problem.Contains(filePath, StringComparison.Ordinal) ? problem : $"{filePath}: {problem}";
    }
}
