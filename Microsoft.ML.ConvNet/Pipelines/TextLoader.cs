using System.Globalization;
using System.Text;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>The kinds of values a text file column can hold (a subset of ML.NET's <c>DataKind</c>).</summary>
public enum DataKind
{
    /// <summary>Text.</summary>
    String,

    /// <summary>32-bit float; an empty field is NaN.</summary>
    Single,

    /// <summary>64-bit float; an empty field is NaN.</summary>
    Double,

    /// <summary>Byte.</summary>
    Byte,

    /// <summary>32-bit integer.</summary>
    Int32,

    /// <summary>32-bit unsigned integer.</summary>
    UInt32,

    /// <summary>64-bit integer.</summary>
    Int64,

    /// <summary>Boolean: true/false (any case) or 1/0.</summary>
    Boolean,
}

/// <summary>Reads delimited text files (CSV, TSV) into data views, as ML.NET's <c>TextLoader</c> (scalar columns only).</summary>
public static class TextLoader
{
    /// <summary>A column of a text file: its name, kind and zero-based field index (ML.NET's <c>TextLoader.Column</c>).</summary>
    /// <param name="Name">The column name.</param>
    /// <param name="DataKind">The kind of the values.</param>
    /// <param name="Index">The zero-based field index in each line.</param>
    public sealed record Column(string Name, DataKind DataKind, int Index);

    internal static PrimitiveDataViewType TypeOf(DataKind kind) => kind switch
    {
        DataKind.String => TextDataViewType.Instance,
        DataKind.Single => NumberDataViewType.Single,
        DataKind.Double => NumberDataViewType.Double,
        DataKind.Byte => NumberDataViewType.Byte,
        DataKind.Int32 => NumberDataViewType.Int32,
        DataKind.UInt32 => NumberDataViewType.UInt32,
        DataKind.Int64 => NumberDataViewType.Int64,
        DataKind.Boolean => BooleanDataViewType.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown data kind."),
    };

    /// <summary>The header fields and the data lines of <paramref name="path"/>, split; blank lines are skipped.</summary>
    internal static (string[]? Header, List<(int Line, string[] Fields)> Rows) ReadFields(string path, char separator, bool hasHeader, bool allowQuoting)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Text file '{Path.GetFullPath(path)}' does not exist.", path);
        }
        string[]? header = null;
        var rows = new List<(int, string[])>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0 || (line.Trim().Length == 0 && separator != ' ' && separator != '\t'))
            {
                continue;
            }
            var fields = Split(line, separator, allowQuoting, path, lineNo);
            if (hasHeader && header == null)
            {
                header = fields;
                continue;
            }
            rows.Add((lineNo, fields));
        }
        return (header, rows);
    }

    private static string[] Split(string line, char separator, bool allowQuoting, string path, int lineNo)
    {
        if (!allowQuoting)
        {
            return line.Split(separator);
        }
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    sb.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == separator)
            {
                fields.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }
        if (quoted)
        {
            throw new InvalidDataException($"{path}, line {lineNo}: unterminated quoted field.");
        }
        fields.Add(sb.ToString());
        return [.. fields];
    }

    /// <summary>Parses <paramref name="field"/> as a value of <paramref name="rawType"/>; the error names the file, line and column.</summary>
    internal static object Parse(string field, Type rawType, string path, int line, string column)
    {
        var inv = CultureInfo.InvariantCulture;
        string f = field.Trim();
        try
        {
            if (rawType == typeof(string))
            {
                return field;
            }
            if (rawType == typeof(float))
            {
                return f.Length == 0 || f == "?" ? float.NaN : float.Parse(f, NumberStyles.Float, inv);
            }
            if (rawType == typeof(double))
            {
                return f.Length == 0 || f == "?" ? double.NaN : double.Parse(f, NumberStyles.Float, inv);
            }
            if (rawType == typeof(bool))
            {
                return f switch
                {
                    "1" => true,
                    "0" => false,
                    _ => bool.Parse(f),
                };
            }
            if (rawType == typeof(byte))
            {
                return byte.Parse(f, NumberStyles.Integer, inv);
            }
            if (rawType == typeof(int))
            {
                return int.Parse(f, NumberStyles.Integer, inv);
            }
            if (rawType == typeof(uint))
            {
                return uint.Parse(f, NumberStyles.Integer, inv);
            }
            if (rawType == typeof(long))
            {
                return long.Parse(f, NumberStyles.Integer, inv);
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}, line {line}, column '{column}': cannot read '{field}' as {rawType.Name}.", e);
        }
        throw new NotSupportedException($"{path}: column '{column}' of .NET type {rawType.Name} cannot be read from text (scalars only).");
    }
}
