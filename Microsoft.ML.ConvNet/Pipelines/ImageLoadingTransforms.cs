using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// Loads images (ML.NET's <c>ImageLoadingTransformer</c>, <c>LoadImages</c>): reads the file named by a text column,
/// relative to <see cref="ImageFolder"/> (absolute paths are used as they are), and decodes it with
/// <see cref="ImageCodec.Decode"/> into an <see cref="ImageBuffer"/> in an <see cref="ImageDataViewType"/> column of
/// unknown size. Decoding is lazy: a file is read when a consumer reads the value (once per row and cursor).
/// </summary>
/// <remarks>
/// <para>With <see cref="SkipBadImages"/> off, a missing file throws <see cref="FileNotFoundException"/> and a corrupt,
/// truncated or unsupported file throws <see cref="InvalidDataException"/>, both naming the file.</para>
/// <para>With <see cref="SkipBadImages"/> on (not in ML.NET), rows whose image cannot be read are left out of the
/// transformed view: its cursors decode each row's image while moving to it, and a row that fails is reported to
/// <see cref="OnSkipped"/> (or, when no callback is given, to <see cref="Trace"/> as a warning), counted in
/// <see cref="SkippedCount"/> and passed over. The row count of such a view is unknown until it is read.</para>
/// <para>A missing native codec (<see cref="NativeCodecNotFoundException"/>, naming the library and its package) is
/// never skipped: it is a problem of the machine, not of a file.</para>
/// </remarks>
public sealed partial class ImageLoadingTransformer : ITransformer
{
    private readonly ConcurrentDictionary<string, string> _skipped = new(StringComparer.Ordinal);

    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against (null or empty: the current directory).</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="skipBadImages">Whether rows whose image cannot be read are left out instead of throwing.</param>
    /// <param name="onSkipped">Receives one message (file and reason) for each skipped row.</param>
    public ImageLoadingTransformer(string outputColumnName, string? imageFolder, string? inputColumnName = null,
        bool skipBadImages = false, Action<string>? onSkipped = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        ImageFolder = string.IsNullOrEmpty(imageFolder) ? string.Empty : imageFolder;
        SkipBadImages = skipBadImages;
        OnSkipped = onSkipped;
    }

    /// <summary>The image column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text column holding the image paths.</summary>
    public string InputColumnName { get; }

    /// <summary>The folder relative paths are resolved against (empty: the current directory).</summary>
    public string ImageFolder { get; }

    /// <summary>Whether rows whose image cannot be read are left out of the transformed view.</summary>
    public bool SkipBadImages { get; }

    /// <summary>Receives one message for each skipped row (null: skipped rows are reported to <see cref="Trace"/>).</summary>
    public Action<string>? OnSkipped { get; }

    /// <summary>
    /// The number of distinct files skipped so far by the views this transformer made (with <see cref="SkipBadImages"/>).
    /// A file skipped again by a later cursor is counted once.
    /// </summary>
    public int SkippedCount => _skipped.Count;

    /// <summary>The full paths of the files skipped so far, with the reason for each, sorted by path.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SkippedFiles => [.. _skipped.OrderBy(p => p.Key, StringComparer.Ordinal)];

    /// <inheritdoc/>
    public bool IsRowToRowMapper => !SkipBadImages;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return Map(inputSchema).Schema;
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (schema, outIndex, pathColumn) = Map(input.Schema);
        return new ImageLoadingDataView(this, input, schema, outIndex, pathColumn);
    }

    /// <summary>The full path of the image named <paramref name="path"/>.</summary>
    internal string Resolve(string path) => Path.GetFullPath(Path.Combine(ImageFolder, path));

    /// <summary>Reads and decodes the image named <paramref name="path"/>, with errors that name the file.</summary>
    internal ImageBuffer Load(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidDataException($"LoadImages: column '{InputColumnName}' holds an empty image path.");
        }
        string full = Resolve(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"LoadImages: image file '{full}' (from '{path}' in column '{InputColumnName}') does not exist.", full, e);
        }
        return ImageCodec.Decode(bytes, full);
    }

    internal void ReportSkipped(string? path, Exception error)
    {
        string file = string.IsNullOrWhiteSpace(path) ? "(empty path)" : Resolve(path);
        string message = $"LoadImages skipped '{file}': {error.Message}";
        _skipped.TryAdd(file, error.Message);
        if (OnSkipped != null)
        {
            OnSkipped(message);
        }
        else
        {
            Trace.TraceWarning(message);
        }
    }

    internal static bool IsBadImage(Exception e) => e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException;

    private (DataViewSchema Schema, int OutIndex, DataViewSchema.Column PathColumn) Map(DataViewSchema input)
    {
        var pathColumn = SchemaMismatchException.Require(input, InputColumnName, "String (image path)", t => t is TextDataViewType);
        var columns = input.Select(c => (c.Name, c.Type, (DataViewSchema.Annotations?)c.Annotations)).ToList();
        int at = columns.FindIndex(c => c.Name == OutputColumnName);
        var column = (OutputColumnName, (DataViewType)new ImageDataViewType(), (DataViewSchema.Annotations?)null);
        if (at < 0)
        {
            at = columns.Count;
            columns.Add(column);
        }
        else
        {
            columns[at] = column;
        }
        return (DataViewSchema.Create(columns), at, pathColumn);
    }

    /// <summary>The view <see cref="Transform"/> returns: the source's columns plus the image column, optionally filtered.</summary>
    private sealed class ImageLoadingDataView(ImageLoadingTransformer owner, IDataView source, DataViewSchema schema, int outIndex, DataViewSchema.Column pathColumn) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => source.CanShuffle;

        public long? GetRowCount() => owner.SkipBadImages ? null : source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            ArgumentNullException.ThrowIfNull(columnsNeeded);
            var active = columnsNeeded.Select(c => c.Index).ToHashSet();
            var needed = active.Where(i => i != outIndex && i < source.Schema.Count).Select(i => source.Schema[i]).ToList();
            bool readPaths = owner.SkipBadImages || active.Contains(outIndex);
            if (readPaths)
            {
                needed.Add(pathColumn);
            }
            var inner = source.GetRowCursor(needed.Distinct(), rand);
            return new Cursor(owner, inner, schema, outIndex, readPaths ? pathColumn : null, active);
        }
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ImageLoadingTransformer _owner;
        private readonly DataViewRowCursor _inner;
        private readonly DataViewSchema _schema;
        private readonly int _outIndex;
        private readonly HashSet<int> _active;
        private readonly ValueGetter<string>? _path;
        private long _position = -1;
        private long _loadedAt = -1;
        private ImageBuffer? _image;

        public Cursor(ImageLoadingTransformer owner, DataViewRowCursor inner, DataViewSchema schema, int outIndex, DataViewSchema.Column? pathColumn, HashSet<int> active)
        {
            _owner = owner;
            _inner = inner;
            _schema = schema;
            _outIndex = outIndex;
            _active = active;
            _path = pathColumn is { } p ? inner.GetGetter<string>(inner.Schema[p.Index]) : null;
        }

        public override long Position => _position;

        public override DataViewSchema Schema => _schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext()
        {
            while (_inner.MoveNext())
            {
                if (_owner.SkipBadImages)
                {
                    string path = ReadPath();
                    try
                    {
                        _image = _owner.Load(path);
                    }
                    catch (Exception e) when (IsBadImage(e))
                    {
                        _owner.ReportSkipped(path, e);
                        continue;
                    }
                    _loadedAt = _position + 1;
                }
                _position++;
                return true;
            }
            _image = null;
            return false;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            CheckGetter<TValue>(column);
            if (column.Index != _outIndex)
            {
                return _inner.GetGetter<TValue>(_inner.Schema[column.Index]);
            }
            ValueGetter<ImageBuffer> getter = (ref ImageBuffer value) =>
            {
                if (_position < 0)
                {
                    throw new InvalidOperationException($"LoadImages: column '{_owner.OutputColumnName}' read before the first MoveNext.");
                }
                if (_loadedAt != _position)
                {
                    _image = _owner.Load(ReadPath());
                    _loadedAt = _position;
                }
                value = _image!;
            };
            return GetterUtils.Adapt<TValue>(getter, column);
        }

        private string ReadPath()
        {
            string path = string.Empty;
            _path!(ref path);
            return path;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>The estimator of <see cref="ImageLoadingTransformer"/> (ML.NET's <c>ImageLoadingEstimator</c>; nothing to learn).</summary>
public sealed class ImageLoadingEstimator : TrivialEstimator<ImageLoadingTransformer>
{
    /// <summary>Creates the estimator; see <see cref="ImageLoadingTransformer"/> for the parameters.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against.</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="skipBadImages">Whether rows whose image cannot be read are left out instead of throwing.</param>
    /// <param name="onSkipped">Receives one message for each skipped row.</param>
    public ImageLoadingEstimator(string outputColumnName, string? imageFolder, string? inputColumnName = null,
        bool skipBadImages = false, Action<string>? onSkipped = null)
        : base(new ImageLoadingTransformer(outputColumnName, imageFolder, inputColumnName, skipBadImages, onSkipped))
    {
    }

    /// <summary>The transformer <see cref="IEstimator{TTransformer}.Fit"/> returns (its <see cref="ImageLoadingTransformer.SkippedCount"/> reports skipped files).</summary>
    public ImageLoadingTransformer LoadingTransformer => Transformer;
}

/// <summary>
/// Reads the bytes of image files, undecoded, into a <c>Vector&lt;Byte&gt;</c> column of variable size (ML.NET's
/// <c>LoadRawImageBytes</c>). Paths are resolved as by <see cref="ImageLoadingTransformer"/>; a missing file throws
/// <see cref="FileNotFoundException"/> naming it.
/// </summary>
public sealed partial class RawImageBytesLoadingTransformer : RowToRowTransformerBase
{
    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The byte vector column written.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against (null or empty: the current directory).</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    public RawImageBytesLoadingTransformer(string outputColumnName, string? imageFolder, string? inputColumnName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        ImageFolder = string.IsNullOrEmpty(imageFolder) ? string.Empty : imageFolder;
    }

    /// <summary>The byte vector column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text column holding the paths.</summary>
    public string InputColumnName { get; }

    /// <summary>The folder relative paths are resolved against (empty: the current directory).</summary>
    public string ImageFolder { get; }

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        var col = SchemaMismatchException.Require(inputSchema, InputColumnName, "String (image path)", t => t is TextDataViewType);
        yield return OutputColumn.Create<byte[]>(OutputColumnName, new VectorDataViewType(NumberDataViewType.Byte), [col.Name], row =>
        {
            var paths = row.GetGetter<string>(row.Schema[col.Index]);
            string path = string.Empty;
            return (ref byte[] value) =>
            {
                paths(ref path);
                if (string.IsNullOrWhiteSpace(path))
                {
                    throw new InvalidDataException($"LoadRawImageBytes: column '{InputColumnName}' holds an empty image path.");
                }
                string full = Path.GetFullPath(Path.Combine(ImageFolder, path));
                try
                {
                    value = File.ReadAllBytes(full);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    throw new FileNotFoundException($"LoadRawImageBytes: image file '{full}' (from '{path}' in column '{InputColumnName}') does not exist.", full, e);
                }
            };
        });
    }
}

/// <summary>The estimator of <see cref="RawImageBytesLoadingTransformer"/> (nothing to learn).</summary>
public sealed class RawImageBytesLoadingEstimator : TrivialEstimator<RawImageBytesLoadingTransformer>
{
    /// <summary>Creates the estimator; see <see cref="RawImageBytesLoadingTransformer"/> for the parameters.</summary>
    /// <param name="outputColumnName">The byte vector column written.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against.</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    public RawImageBytesLoadingEstimator(string outputColumnName, string? imageFolder, string? inputColumnName = null)
        : base(new RawImageBytesLoadingTransformer(outputColumnName, imageFolder, inputColumnName))
    {
    }
}
