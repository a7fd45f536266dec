using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>A state-dictionary entry whose shape differs between the module and the file.</summary>
/// <param name="Name">The dotted name (<c>fc.weight</c>).</param>
/// <param name="Expected">The shape of the module's tensor.</param>
/// <param name="Actual">The shape stored in the file.</param>
public sealed record StateDictShapeMismatch(string Name, Shape Expected, Shape Actual)
{
    /// <summary><c>name: model [..], file [..]</c>.</summary>
    public override string ToString() => $"{Name}: model {Expected}, file {Actual}";
}

/// <summary>
/// What loading a state dictionary did: the entries copied into the module, and the names that did not match. In strict
/// mode a load with any missing key, unexpected key or shape mismatch throws <see cref="StateDictMismatchException"/>
/// (which carries this result) and changes nothing; in non-strict mode the matching entries are loaded, the others are
/// skipped and listed here.
/// </summary>
public sealed class StateDictLoadResult
{
    /// <summary>Creates a result.</summary>
    public StateDictLoadResult(
        IReadOnlyList<string> loadedKeys,
        IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys,
        IReadOnlyList<StateDictShapeMismatch> shapeMismatches)
    {
        ArgumentNullException.ThrowIfNull(loadedKeys);
        ArgumentNullException.ThrowIfNull(missingKeys);
        ArgumentNullException.ThrowIfNull(unexpectedKeys);
        ArgumentNullException.ThrowIfNull(shapeMismatches);
        LoadedKeys = loadedKeys;
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>Entries copied into the module (none when a strict load failed).</summary>
    public IReadOnlyList<string> LoadedKeys { get; }

    /// <summary>Module entries absent from the file; they keep their values.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>File entries the module does not have; they are ignored.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Entries present on both sides with different shapes; the module's tensors keep their values.</summary>
    public IReadOnlyList<StateDictShapeMismatch> ShapeMismatches { get; }

    /// <summary>True when every module entry was found with its shape and the file had nothing else.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>The mismatches in one line: <c>missing [..]; unexpected [..]; shape mismatches [..]</c>.</summary>
    public override string ToString()
        => $"{MissingKeys.Count} missing [{string.Join(", ", MissingKeys)}]; "
         + $"{UnexpectedKeys.Count} unexpected [{string.Join(", ", UnexpectedKeys)}]; "
         + $"{ShapeMismatches.Count} shape mismatches [{string.Join("; ", ShapeMismatches)}]";
}

/// <summary>
/// A strict state-dictionary load found names or shapes that do not match; <see cref="Result"/> lists all of them and
/// the module was left unchanged.
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    /// <summary>Creates the exception for <paramref name="result"/>, with a message that lists every mismatch.</summary>
    public StateDictMismatchException(string message, StateDictLoadResult result) : base(message)
    {
        ArgumentNullException.ThrowIfNull(result);
        Result = result;
    }

    /// <summary>Creates the exception with an empty result.</summary>
    public StateDictMismatchException() : this("The state dictionary does not match the module.", Empty)
    {
    }

    /// <summary>Creates the exception with an empty result.</summary>
    public StateDictMismatchException(string message) : this(message, Empty)
    {
    }

    /// <summary>Creates the exception with an empty result.</summary>
    public StateDictMismatchException(string message, Exception innerException) : base(message, innerException)
    {
        Result = Empty;
    }

    /// <summary>The missing, unexpected and shape-mismatched entries.</summary>
    public StateDictLoadResult Result { get; }

    private static StateDictLoadResult Empty => new([], [], [], []);
}
