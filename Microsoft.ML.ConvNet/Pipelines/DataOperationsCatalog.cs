using System.Reflection;
using Microsoft.ML.ConvNet.Data;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// Loading, splitting, shuffling and reading data views (ML.NET's <c>DataOperationsCatalog</c>, <c>mlContext.Data</c>).
/// Loaders read into memory (<see cref="InMemoryDataView"/>); transforms applied later stay lazy.
/// </summary>
public sealed partial class DataOperationsCatalog
{
    /// <summary>The image file extensions <see cref="LoadFromImageFolder"/> takes by default.</summary>
    public static IReadOnlyList<string> DefaultImageExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".pnm", ".gif", ".tif", ".tiff", ".webp"];

    internal DataOperationsCatalog(ConvNetContext context) => Context = context;

    /// <summary>The context this catalog belongs to.</summary>
    internal ConvNetContext Context { get; }

    /// <summary>The result of <see cref="TrainTestSplit"/>.</summary>
    /// <param name="TrainSet">The training rows.</param>
    /// <param name="TestSet">The test rows.</param>
    public sealed record TrainTestData(IDataView TrainSet, IDataView TestSet);

    /// <summary>
    /// A data view of <paramref name="data"/>, one row per item, one column per public property or field of
    /// <typeparamref name="TRow"/>: string → Text; float, double, byte, int, uint, long → numbers; bool → Boolean;
    /// arrays of these → vectors (shape from <see cref="VectorTypeAttribute"/>, else variable); uint with
    /// <see cref="KeyTypeAttribute"/> → key; a reference type with <see cref="ImageTypeAttribute"/> → image.
    /// The items are read once, now (ML.NET keeps the enumerable); arrays are copied.
    /// </summary>
    /// <exception cref="ArgumentException">A member's type is not supported, or a vector's length differs from its declared shape.</exception>
    public IDataView LoadFromEnumerable<TRow>(IEnumerable<TRow> data)
        where TRow : class
    {
        ArgumentNullException.ThrowIfNull(data);
        var members = RowTypeMember.Of(typeof(TRow), forWriting: false);
        var rows = data.ToList();
        var arrays = new Array[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            var member = members[m];
            var arr = Array.CreateInstance(member.ValueType, rows.Count);
            for (int r = 0; r < rows.Count; r++)
            {
                object? v = member.Get(rows[r] ?? throw new ArgumentException($"Item {r} is null.", nameof(data)));
                if (v is Array a)
                {
                    if (member.Type is VectorDataViewType { IsKnownSize: true } vt && a.Length != vt.Size)
                    {
                        throw new ArgumentException($"Item {r}: '{member.Name}' holds {a.Length} values but is declared {vt}.", nameof(data));
                    }
                    v = a.Clone();
                }
                else if (v == null && member.Type is VectorDataViewType)
                {
                    v = Array.CreateInstance(member.ValueType.GetElementType()!, 0);
                }
                arr.SetValue(v, r);
            }
            arrays[m] = arr;
        }
        var b = new DataViewSchema.Builder();
        foreach (var member in members)
        {
            b.AddColumn(member.Name, member.Type);
        }
        return new InMemoryDataView(b.ToSchema(), arrays);
    }

    /// <summary>
    /// The rows of <paramref name="data"/> as objects of <typeparamref name="TRow"/>, lazily: each public writable
    /// property or field is read from the column of its name (or <see cref="ColumnNameAttribute"/>), whose type must match.
    /// With <paramref name="reuseRowObject"/>, one object is filled again for every row.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A member has no column (unless <paramref name="ignoreMissingColumns"/>) or the column's type does not match.</exception>
    public IEnumerable<TRow> CreateEnumerable<TRow>(IDataView data, bool reuseRowObject, bool ignoreMissingColumns = false)
        where TRow : class, new()
    {
        ArgumentNullException.ThrowIfNull(data);
        return Enumerate<TRow>(data, Bind<TRow>(data.Schema, ignoreMissingColumns), reuseRowObject);
    }

    /// <summary>The writable members of <typeparamref name="TRow"/> and the columns of <paramref name="schema"/> they read; throws on a missing or mistyped column.</summary>
    internal static List<(RowTypeMember Member, DataViewSchema.Column Column)> Bind<TRow>(DataViewSchema schema, bool ignoreMissingColumns)
    {
        var members = RowTypeMember.Of(typeof(TRow), forWriting: true);
        var bound = new List<(RowTypeMember Member, DataViewSchema.Column Column)>();
        foreach (var m in members)
        {
            var col = schema.GetColumnOrNull(m.Name);
            if (col == null)
            {
                if (ignoreMissingColumns)
                {
                    continue;
                }
                throw new SchemaMismatchException(m.Name, m.Type.ToString()!, null, "source");
            }
            var c = col.Value;
            bool ok = c.Type is ImageDataViewType ? !m.ValueType.IsValueType : c.Type.AcceptsValueType(m.ValueType);
            if (!ok || (m.Type is KeyDataViewType) != (c.Type is KeyDataViewType) && !(c.Type is KeyDataViewType && m.ValueType == typeof(uint)))
            {
                throw new SchemaMismatchException(m.Name, $"a type whose values are {m.ValueType.Name}", c.Type, "source");
            }
            bound.Add((m, c));
        }
        return bound;
    }

    /// <summary>A function that, given a row (cursor), returns a setter of <paramref name="member"/> from <paramref name="column"/>; the reflection is done once, here.</summary>
    internal static Func<DataViewRow, Action<object>> SetterFactory(RowTypeMember member, DataViewSchema.Column column)
    {
        var setter = typeof(DataOperationsCatalog).GetMethod(nameof(Setter), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(member.ValueType);
        var make = setter.CreateDelegate<Func<DataViewRow, RowTypeMember, DataViewSchema.Column, Action<object>>>();
        return row => make(row, member, column);
    }

    private static IEnumerable<TRow> Enumerate<TRow>(IDataView data, List<(RowTypeMember Member, DataViewSchema.Column Column)> bound, bool reuse)
        where TRow : class, new()
    {
        using var cursor = data.GetRowCursor(bound.Select(b => b.Column));
        var setters = bound.Select(b => MakeSetter(cursor, b.Member, b.Column)).ToArray();
        TRow? row = null;
        while (cursor.MoveNext())
        {
            if (row == null || !reuse)
            {
                row = new TRow();
            }
            foreach (var set in setters)
            {
                set(row);
            }
            yield return row;
        }
    }

    private static Action<object> MakeSetter(DataViewRow row, RowTypeMember member, DataViewSchema.Column column) =>
        SetterFactory(member, column)(row);

    private static Action<object> Setter<T>(DataViewRow row, RowTypeMember member, DataViewSchema.Column column)
    {
        var getter = row.GetGetter<T>(column);
        return obj =>
        {
            T value = default!;
            getter(ref value);
            member.Set(obj, value);
        };
    }

    /// <summary>
    /// Reads a delimited text file with the given <paramref name="columns"/> (ML.NET's defaults: tab-separated, no header).
    /// Empty numeric fields of Single and Double columns are NaN.
    /// </summary>
    /// <exception cref="InvalidDataException">A field cannot be parsed or is missing; the message names the file, line and column.</exception>
    public IDataView LoadFromTextFile(string path, TextLoader.Column[] columns, char separatorChar = '\t', bool hasHeader = false, bool allowQuoting = false)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var (_, rows) = TextLoader.ReadFields(path, separatorChar, hasHeader, allowQuoting);
        var types = columns.Select(c => TextLoader.TypeOf(c.DataKind)).ToArray();
        var arrays = columns.Select((c, i) => FillColumn(path, rows, c.Name, c.Index, types[i].RawType)).ToArray();
        return new InMemoryDataView(DataViewSchema.Create(columns.Select((c, i) => (c.Name, (DataViewType)types[i], (DataViewSchema.Annotations?)null))), arrays);
    }

    /// <summary>
    /// Reads a delimited text file into the columns of <typeparamref name="TRow"/>'s members: each member's field is
    /// given by <see cref="LoadColumnAttribute"/> or, with a header, found by name (case-insensitive). Scalar members only.
    /// ML.NET's defaults: tab-separated, no header; for CSV listings pass <c>separatorChar: ','</c>, <c>hasHeader: true</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">A member has no field, or a field cannot be parsed; the message names the file, line and column.</exception>
    public IDataView LoadFromTextFile<TRow>(string path, char separatorChar = '\t', bool hasHeader = false, bool allowQuoting = false)
        where TRow : class
    {
        var (header, rows) = TextLoader.ReadFields(path, separatorChar, hasHeader, allowQuoting);
        var members = RowTypeMember.Of(typeof(TRow), forWriting: false);
        var arrays = new Array[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            var member = members[m];
            if (member.Type is VectorDataViewType or ImageDataViewType)
            {
                throw new NotSupportedException($"Member '{typeof(TRow).Name}.{member.Member.Name}' ({member.Type}) cannot be read from a text file: scalar columns only.");
            }
            int index = member.LoadColumn
                ?? (header == null ? -1 : Array.FindIndex(header, h => string.Equals(h.Trim(), member.Name, StringComparison.OrdinalIgnoreCase)));
            if (index < 0)
            {
                throw new InvalidDataException(header == null
                    ? $"{path}: member '{typeof(TRow).Name}.{member.Member.Name}' has no [LoadColumn] and the file has no header to match it by name."
                    : $"{path}: no header field named '{member.Name}'; the header has {string.Join(", ", header.Select(h => $"'{h}'"))}.");
            }
            arrays[m] = FillColumn(path, rows, member.Name, index, member.ValueType);
        }
        return new InMemoryDataView(DataViewSchema.Create(members.Select(m => (m.Name, m.Type, (DataViewSchema.Annotations?)null))), arrays);
    }

    private static Array FillColumn(string path, List<(int Line, string[] Fields)> rows, string name, int index, Type rawType)
    {
        var arr = Array.CreateInstance(rawType, rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            var (line, fields) = rows[r];
            if (index >= fields.Length)
            {
                throw new InvalidDataException($"{path}, line {line}: column '{name}' is field {index} but the line has {fields.Length} fields.");
            }
            arr.SetValue(TextLoader.Parse(fields[index], rawType, path, line, name), r);
        }
        return arr;
    }

    /// <summary>
    /// Lists the image files under <paramref name="folder"/> (recursively, sorted by path): column <c>ImagePath</c> (Text,
    /// relative to <paramref name="folder"/>, with '/' separators) and, with <paramref name="useFolderNameAsLabel"/>,
    /// <c>Label</c> (Text, the name of the folder holding the file). Files are filtered by <paramref name="extensions"/>
    /// (case-insensitive, with or without the dot; default <see cref="DefaultImageExtensions"/>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public IDataView LoadFromImageFolder(string folder, bool useFolderNameAsLabel = true, string[]? extensions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist.");
        }
        var exts = (extensions ?? DefaultImageExtensions).Select(e => e.StartsWith('.') ? e : "." + e).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => exts.Contains(Path.GetExtension(f)))
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var b = new DataViewSchema.Builder();
        b.AddColumn("ImagePath", TextDataViewType.Instance);
        if (!useFolderNameAsLabel)
        {
            return new InMemoryDataView(b.ToSchema(), [files]);
        }
        b.AddColumn("Label", TextDataViewType.Instance);
        string rootName = Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar));
        var labels = files.Select(f => f.Contains('/', StringComparison.Ordinal) ? Path.GetFileName(f[..f.LastIndexOf('/')]) : rootName).ToArray();
        return new InMemoryDataView(b.ToSchema(), [files, labels]);
    }

    /// <summary>
    /// Fashion-MNIST as a data view (see <see cref="FashionMnist.Load"/>): column <c>Pixels</c>
    /// (Vector&lt;Single, 1, 28, 28&gt; in [0, 1], or normalised per <paramref name="options"/>) and <c>Label</c>
    /// (Key&lt;UInt32, 0-9&gt; whose values are the 10 class names).
    /// </summary>
    public IDataView LoadFromFashionMnist(string? folder = null, DatasetSplit split = DatasetSplit.Train, FashionMnistOptions? options = null) =>
        LoadFromImageDataset(FashionMnist.Load(folder, split, options));

    /// <summary>
    /// An <see cref="ImageDataset"/> as a data view: a vector column <paramref name="pixelsColumnName"/> of the sample
    /// shape and a key column <paramref name="labelColumnName"/> (class index + 1) whose values are the class names.
    /// </summary>
    public IDataView LoadFromImageDataset(ImageDataset dataset, string pixelsColumnName = "Pixels", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int size = dataset.SampleSize;
        var pixels = new float[dataset.Count][];
        var labels = new uint[dataset.Count];
        for (int i = 0; i < dataset.Count; i++)
        {
            pixels[i] = dataset.Images.AsSpan(i * size, size).ToArray();
            labels[i] = (uint)dataset.Labels[i] + 1;
        }
        var ab = new DataViewSchema.Annotations.Builder();
        ab.AddKeyValues(dataset.ClassNames);
        var b = new DataViewSchema.Builder();
        b.AddColumn(pixelsColumnName, new VectorDataViewType(NumberDataViewType.Single, [.. dataset.SampleShape.Dims]));
        b.AddColumn(labelColumnName, new KeyDataViewType((ulong)dataset.ClassCount), ab.ToAnnotations());
        return new InMemoryDataView(b.ToSchema(), [pixels, labels]);
    }

    /// <summary>
    /// Splits <paramref name="data"/> into train and test sets, each in the original row order. Without options, a
    /// random <paramref name="testFraction"/> of the rows (rounded) goes to the test set. With
    /// <paramref name="samplingKeyColumnName"/>, rows with equal values there stay on the same side (as in ML.NET; whole
    /// groups are drawn until the test set reaches its size). With <paramref name="stratificationColumnName"/>, each
    /// value of that column (the label) is split in the same proportion. The seed defaults to one drawn from the context.
    /// Unlike ML.NET (which hashes rows), sizes are exact.
    /// </summary>
    public TrainTestData TrainTestSplit(IDataView data, double testFraction = 0.1, int? seed = null,
        string? samplingKeyColumnName = null, string? stratificationColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(testFraction >= 0 && testFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"testFraction must be in [0, 1], got {testFraction}.");
        }
        if (samplingKeyColumnName != null && stratificationColumnName != null)
        {
            throw new ArgumentException("Give either samplingKeyColumnName or stratificationColumnName, not both.", nameof(stratificationColumnName));
        }
        var rng = new Random(seed ?? Context.NextSeed());
        bool[] isTest;
        if (samplingKeyColumnName != null || stratificationColumnName != null)
        {
            string name = samplingKeyColumnName ?? stratificationColumnName!;
            var keys = ReadScalarAsText(data, name);
            isTest = new bool[keys.Length];
            var groups = keys.Select((k, i) => (k, i)).GroupBy(p => p.k, StringComparer.Ordinal).Select(g => g.Select(p => p.i).ToArray()).ToArray();
            if (stratificationColumnName != null)
            {
                foreach (var g in groups)
                {
                    rng.Shuffle(g);
                    int take = (int)Math.Round(g.Length * testFraction, MidpointRounding.AwayFromZero);
                    foreach (int i in g.Take(take))
                    {
                        isTest[i] = true;
                    }
                }
            }
            else
            {
                rng.Shuffle(groups);
                int target = (int)Math.Round(keys.Length * testFraction, MidpointRounding.AwayFromZero), taken = 0;
                foreach (var g in groups)
                {
                    if (taken >= target)
                    {
                        break;
                    }
                    foreach (int i in g)
                    {
                        isTest[i] = true;
                    }
                    taken += g.Length;
                }
            }
        }
        else
        {
            int n = (int)(data.GetRowCount() ?? CountRows(data));
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            isTest = new bool[n];
            foreach (int i in order.Take((int)Math.Round(n * testFraction, MidpointRounding.AwayFromZero)))
            {
                isTest[i] = true;
            }
        }
        return new TrainTestData(SelectRows(data, isTest, false), SelectRows(data, isTest, true));
    }

    private static IDataView SelectRows(IDataView data, bool[] mask, bool value)
    {
        var rows = Enumerable.Range(0, mask.Length).Where(i => mask[i] == value).ToArray();
        return data is InMemoryDataView mem
            ? mem.SelectRows(rows)
            : new RowFilterDataView(data, p => p < mask.Length && mask[p] == value, rows.Length);
    }

    private static long CountRows(IDataView data)
    {
        long n = 0;
        using var c = data.GetRowCursor([]);
        while (c.MoveNext())
        {
            n++;
        }
        return n;
    }

    private static string[] ReadScalarAsText(IDataView data, string name)
    {
        var col = SchemaMismatchException.Require(data.Schema, name, "a scalar column", t => t is PrimitiveDataViewType);
        var list = new List<string>();
        using var cursor = data.GetRowCursor([col]);
        var getter = GetterUtils.GetGetterUntyped(cursor, col);
        var read = (Func<string>)typeof(DataOperationsCatalog).GetMethod(nameof(TextReader), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(col.Type.RawType).Invoke(null, [getter])!;
        while (cursor.MoveNext())
        {
            list.Add(read());
        }
        return [.. list];
    }

    private static Func<string> TextReader<T>(ValueGetter<T> getter) => () =>
    {
        T v = default!;
        getter(ref v);
        return Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "";
    };

    /// <summary>
    /// The rows of <paramref name="input"/> in a random order drawn from <paramref name="seed"/> (default: from the
    /// context). The whole view is shuffled (ML.NET shuffles within a pool); a source that is not in memory is read
    /// into memory first.
    /// </summary>
    public IDataView ShuffleRows(IDataView input, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mem = InMemoryDataView.Materialize(input);
        var order = Enumerable.Range(0, (int)mem.GetRowCount()!.Value).ToArray();
        new Random(seed ?? Context.NextSeed()).Shuffle(order);
        return mem.SelectRows(order);
    }

    /// <summary>The first <paramref name="count"/> rows of <paramref name="input"/> (lazy).</summary>
    public IDataView TakeRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long? n = input.GetRowCount() is long total ? Math.Min(total, count) : null;
        return new RowFilterDataView(input, _ => true, n, count);
    }

    /// <summary>The rows of <paramref name="input"/> after the first <paramref name="count"/> (lazy).</summary>
    public IDataView SkipRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long? n = input.GetRowCount() is long total ? Math.Max(0, total - count) : null;
        return new RowFilterDataView(input, p => p >= count, n);
    }
}
