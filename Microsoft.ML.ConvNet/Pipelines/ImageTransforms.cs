using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>Reading <see cref="ImageBuffer"/> values of image columns.</summary>
internal static class ImageColumns
{
    /// <summary>The column <paramref name="name"/> of <paramref name="schema"/>, which must be an image column.</summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name) =>
        SchemaMismatchException.Require(schema, name, "Image", t => t is ImageDataViewType);

    /// <summary>A function reading the current row's image of <paramref name="column"/>; a missing or foreign value throws naming the column and <paramref name="operation"/>.</summary>
    public static Func<ImageBuffer> Reader(DataViewRow row, DataViewSchema.Column column, string operation)
    {
        var getter = row.GetGetter<object>(row.Schema[column.Index]);
        object? value = null;
        return () =>
        {
            getter(ref value!);
            return value switch
            {
                ImageBuffer image => image,
                null => throw new InvalidOperationException($"{operation}: column '{column.Name}' holds no image in row {row.Position}."),
                _ => throw new InvalidOperationException($"{operation}: column '{column.Name}' holds a {value.GetType().Name}, not an {nameof(ImageBuffer)}."),
            };
        };
    }
}

/// <summary>
/// Resizes images (ML.NET's <c>ImageResizingTransformer</c>, <c>ResizeImages</c>) with <see cref="ImageOps.Resize"/>:
/// bilinear, with <see cref="ResizingKind.IsoCrop"/> (scale to cover, crop at the anchor), <see cref="ResizingKind.IsoPad"/>
/// (scale to fit, pad with zeros) or <see cref="ResizingKind.Fill"/> (stretch). The output is an
/// <c>Image&lt;ImageHeight, ImageWidth&gt;</c> column with the input's channels.
/// </summary>
public sealed partial class ImageResizingTransformer : RowToRowTransformerBase
{
    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="imageWidth">The width of the resized images, at least 1.</param>
    /// <param name="imageHeight">The height of the resized images, at least 1.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="resizing">How to handle a different aspect ratio.</param>
    /// <param name="cropAnchor">Where to crop or pad.</param>
    public ImageResizingTransformer(string outputColumnName, int imageWidth, int imageHeight, string? inputColumnName = null,
        ResizingKind resizing = ResizingKind.IsoCrop, Anchor cropAnchor = Anchor.Center)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        if (!Enum.IsDefined(resizing))
        {
            throw new ArgumentOutOfRangeException(nameof(resizing), resizing, "Unknown resizing kind.");
        }
        if (!Enum.IsDefined(cropAnchor))
        {
            throw new ArgumentOutOfRangeException(nameof(cropAnchor), cropAnchor, "Unknown anchor.");
        }
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        ImageWidth = imageWidth;
        ImageHeight = imageHeight;
        Resizing = resizing;
        CropAnchor = cropAnchor;
    }

    /// <summary>The image column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column read.</summary>
    public string InputColumnName { get; }

    /// <summary>The width of the resized images.</summary>
    public int ImageWidth { get; }

    /// <summary>The height of the resized images.</summary>
    public int ImageHeight { get; }

    /// <summary>How a different aspect ratio is handled.</summary>
    public ResizingKind Resizing { get; }

    /// <summary>Where images are cropped or padded.</summary>
    public Anchor CropAnchor { get; }

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        var col = ImageColumns.Require(inputSchema, InputColumnName);
        yield return OutputColumn.Create<ImageBuffer>(OutputColumnName, new ImageDataViewType(ImageHeight, ImageWidth), [col.Name], row =>
        {
            var read = ImageColumns.Reader(row, col, "ResizeImages");
            return (ref ImageBuffer value) => value = ImageOps.Resize(read(), ImageWidth, ImageHeight, Resizing, CropAnchor);
        });
    }
}

/// <summary>The estimator of <see cref="ImageResizingTransformer"/> (ML.NET's <c>ImageResizingEstimator</c>; nothing to learn).</summary>
public sealed class ImageResizingEstimator : TrivialEstimator<ImageResizingTransformer>
{
    /// <summary>Creates the estimator; see <see cref="ImageResizingTransformer"/> for the parameters.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="imageWidth">The width of the resized images.</param>
    /// <param name="imageHeight">The height of the resized images.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="resizing">How to handle a different aspect ratio.</param>
    /// <param name="cropAnchor">Where to crop or pad.</param>
    public ImageResizingEstimator(string outputColumnName, int imageWidth, int imageHeight, string? inputColumnName = null,
        ResizingKind resizing = ResizingKind.IsoCrop, Anchor cropAnchor = Anchor.Center)
        : base(new ImageResizingTransformer(outputColumnName, imageWidth, imageHeight, inputColumnName, resizing, cropAnchor))
    {
    }
}

/// <summary>
/// Converts images to one gray channel (ML.NET's <c>ImageGrayscalingTransformer</c>, <c>ConvertToGrayscale</c>) with
/// <see cref="ImageOps.ToGrayscale"/> (BT.601 luma; alpha dropped). The output type equals the input type (same size).
/// </summary>
public sealed partial class ImageGrayscalingTransformer : RowToRowTransformerBase
{
    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    public ImageGrayscalingTransformer(string outputColumnName, string? inputColumnName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
    }

    /// <summary>The image column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column read.</summary>
    public string InputColumnName { get; }

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        var col = ImageColumns.Require(inputSchema, InputColumnName);
        yield return OutputColumn.Create<ImageBuffer>(OutputColumnName, col.Type, [col.Name], row =>
        {
            var read = ImageColumns.Reader(row, col, "ConvertToGrayscale");
            return (ref ImageBuffer value) => value = ImageOps.ToGrayscale(read());
        });
    }
}

/// <summary>The estimator of <see cref="ImageGrayscalingTransformer"/> (ML.NET's <c>ImageGrayscalingEstimator</c>; nothing to learn).</summary>
public sealed class ImageGrayscalingEstimator : TrivialEstimator<ImageGrayscalingTransformer>
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="outputColumnName">The image column written.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    public ImageGrayscalingEstimator(string outputColumnName, string? inputColumnName = null)
        : base(new ImageGrayscalingTransformer(outputColumnName, inputColumnName))
    {
    }
}

/// <summary>
/// Extracts the pixels of images of known size into a vector (ML.NET's <c>ImagePixelExtractingTransformer</c>,
/// <c>ExtractPixels</c>) with <see cref="ImageOps.ExtractPixels(ImageBuffer, Span{float}, ColorBits, ColorsOrder, bool, float, float)"/>:
/// each value is <c>(pixel − OffsetImage) · ScaleImage</c>. The output is <c>Vector&lt;Single, C, H, W&gt;</c> (planar) or
/// <c>Vector&lt;Single, H, W, C&gt;</c> (<see cref="InterleavePixelColors"/>), C the number of channels in
/// <see cref="ColorsToExtract"/>, in <see cref="OrderOfExtraction"/>; with <see cref="OutputAsFloatArray"/> off, the
/// same shape of raw bytes (<c>Vector&lt;Byte&gt;</c>; offset and scale must then be 0 and 1).
/// </summary>
/// <remarks>The input must be an image column of known size (after <c>ResizeImages</c>); an image of another size at
/// run time throws naming the column and both sizes.</remarks>
public sealed partial class ImagePixelExtractingTransformer : RowToRowTransformerBase
{
    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The vector column written.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="colorsToExtract">The channels to extract.</param>
    /// <param name="orderOfExtraction">The order of the channels.</param>
    /// <param name="interleavePixelColors">Whether to write <c>[H, W, C]</c> instead of planar <c>[C, H, W]</c>.</param>
    /// <param name="offsetImage">Subtracted from each value before scaling.</param>
    /// <param name="scaleImage">Multiplies each value after the offset (e.g. <c>1f / 255</c>).</param>
    /// <param name="outputAsFloatArray">Whether to write floats (true) or raw bytes.</param>
    public ImagePixelExtractingTransformer(string outputColumnName, string? inputColumnName = null,
        ColorBits colorsToExtract = ColorBits.Rgb, ColorsOrder orderOfExtraction = ColorsOrder.ARGB,
        bool interleavePixelColors = false, float offsetImage = 0f, float scaleImage = 1f, bool outputAsFloatArray = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        if (ImageOps.PlaneCount(colorsToExtract) == 0 || (colorsToExtract & ~ColorBits.All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(colorsToExtract), colorsToExtract, "ExtractPixels needs at least one of Alpha, Red, Green, Blue.");
        }
        if (!Enum.IsDefined(orderOfExtraction))
        {
            throw new ArgumentOutOfRangeException(nameof(orderOfExtraction), orderOfExtraction, "Unknown colour order.");
        }
        if (!float.IsFinite(offsetImage) || !float.IsFinite(scaleImage) || scaleImage == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(scaleImage), $"ExtractPixels needs a finite offset and a finite non-zero scale, got offset {offsetImage} and scale {scaleImage}.");
        }
        if (!outputAsFloatArray && (offsetImage != 0 || scaleImage != 1))
        {
            throw new ArgumentException($"ExtractPixels into bytes (outputAsFloatArray: false) takes no offset or scale, got offset {offsetImage} and scale {scaleImage}.", nameof(outputAsFloatArray));
        }
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        ColorsToExtract = colorsToExtract;
        OrderOfExtraction = orderOfExtraction;
        InterleavePixelColors = interleavePixelColors;
        OffsetImage = offsetImage;
        ScaleImage = scaleImage;
        OutputAsFloatArray = outputAsFloatArray;
    }

    /// <summary>The vector column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column read.</summary>
    public string InputColumnName { get; }

    /// <summary>The channels extracted.</summary>
    public ColorBits ColorsToExtract { get; }

    /// <summary>The order of the channels.</summary>
    public ColorsOrder OrderOfExtraction { get; }

    /// <summary>Whether values are <c>[H, W, C]</c> (true) or planar <c>[C, H, W]</c>.</summary>
    public bool InterleavePixelColors { get; }

    /// <summary>Subtracted from each value before scaling.</summary>
    public float OffsetImage { get; }

    /// <summary>Multiplies each value after the offset.</summary>
    public float ScaleImage { get; }

    /// <summary>Whether the output holds floats (true) or raw bytes.</summary>
    public bool OutputAsFloatArray { get; }

    /// <summary>The number of channels in the output.</summary>
    public int ChannelCount => ImageOps.PlaneCount(ColorsToExtract);

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        const string Expected = "Image of known size (apply ResizeImages first)";
        var col = SchemaMismatchException.Require(inputSchema, InputColumnName, Expected, t => t is ImageDataViewType { Height: > 0, Width: > 0 });
        var it = (ImageDataViewType)col.Type;
        int h = it.Height, w = it.Width, c = ChannelCount;
        int[] dims = InterleavePixelColors ? [h, w, c] : [c, h, w];
        int size = c * h * w;
        if (OutputAsFloatArray)
        {
            yield return OutputColumn.Create<float[]>(OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, dims), [col.Name], row =>
            {
                var read = ImageColumns.Reader(row, col, "ExtractPixels");
                return (ref float[] value) =>
                {
                    var image = Checked(read(), col, h, w);
                    if (value == null || value.Length != size)
                    {
                        value = new float[size];
                    }
                    ImageOps.ExtractPixels(image, value, ColorsToExtract, OrderOfExtraction, InterleavePixelColors, OffsetImage, ScaleImage);
                };
            });
        }
        else
        {
            yield return OutputColumn.Create<byte[]>(OutputColumnName, new VectorDataViewType(NumberDataViewType.Byte, dims), [col.Name], row =>
            {
                var read = ImageColumns.Reader(row, col, "ExtractPixels");
                float[] buffer = new float[size];
                return (ref byte[] value) =>
                {
                    var image = Checked(read(), col, h, w);
                    ImageOps.ExtractPixels(image, buffer, ColorsToExtract, OrderOfExtraction, InterleavePixelColors);
                    if (value == null || value.Length != size)
                    {
                        value = new byte[size];
                    }
                    for (int i = 0; i < size; i++)
                    {
                        value[i] = (byte)buffer[i];
                    }
                };
            });
        }
    }

    private static ImageBuffer Checked(ImageBuffer image, DataViewSchema.Column col, int h, int w) =>
        image.Height == h && image.Width == w ? image
        : throw new InvalidOperationException($"ExtractPixels: column '{col.Name}' is declared {col.Type} but holds a {image.Height}x{image.Width} (HxW) image.");
}

/// <summary>The estimator of <see cref="ImagePixelExtractingTransformer"/> (ML.NET's <c>ImagePixelExtractingEstimator</c>; nothing to learn).</summary>
public sealed class ImagePixelExtractingEstimator : TrivialEstimator<ImagePixelExtractingTransformer>
{
    /// <summary>Creates the estimator; see <see cref="ImagePixelExtractingTransformer"/> for the parameters.</summary>
    /// <param name="outputColumnName">The vector column written.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="colorsToExtract">The channels to extract.</param>
    /// <param name="orderOfExtraction">The order of the channels.</param>
    /// <param name="interleavePixelColors">Whether to write <c>[H, W, C]</c> instead of planar <c>[C, H, W]</c>.</param>
    /// <param name="offsetImage">Subtracted from each value before scaling.</param>
    /// <param name="scaleImage">Multiplies each value after the offset.</param>
    /// <param name="outputAsFloatArray">Whether to write floats (true) or raw bytes.</param>
    public ImagePixelExtractingEstimator(string outputColumnName, string? inputColumnName = null,
        ColorBits colorsToExtract = ColorBits.Rgb, ColorsOrder orderOfExtraction = ColorsOrder.ARGB,
        bool interleavePixelColors = false, float offsetImage = 0f, float scaleImage = 1f, bool outputAsFloatArray = true)
        : base(new ImagePixelExtractingTransformer(outputColumnName, inputColumnName, colorsToExtract, orderOfExtraction,
            interleavePixelColors, offsetImage, scaleImage, outputAsFloatArray))
    {
    }
}

/// <summary>
/// Normalises planar pixel vectors per channel, <c>x = (x − Mean[c]) / Std[c]</c> (not in ML.NET; torchvision's
/// <c>Normalize</c>), e.g. ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) after
/// <c>ExtractPixels(scaleImage: 1f / 255)</c>. The input must be a <c>Vector&lt;Single, C, H, W&gt;</c> (planar, as
/// <c>ExtractPixels</c> writes without interleaving) with C equal to the number of means; the output has the same type.
/// </summary>
public sealed partial class MeanStdNormalizingTransformer : RowToRowTransformerBase
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the transformer.</summary>
    /// <param name="outputColumnName">The vector column written.</param>
    /// <param name="inputColumnName">The planar pixel vector read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="mean">One mean per channel.</param>
    /// <param name="std">One standard deviation per channel, each finite and non-zero.</param>
    public MeanStdNormalizingTransformer(string outputColumnName, string? inputColumnName, float[] mean, float[] std)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
        {
            throw new ArgumentException($"NormalizeMeanStd needs one mean and one standard deviation per channel, got {mean.Length} and {std.Length}.", nameof(std));
        }
        for (int c = 0; c < std.Length; c++)
        {
            if (std[c] == 0 || !float.IsFinite(std[c]) || !float.IsFinite(mean[c]))
            {
                throw new ArgumentOutOfRangeException(nameof(std), $"NormalizeMeanStd: channel {c} has mean {mean[c]} and standard deviation {std[c]}; both must be finite and the deviation non-zero.");
            }
        }
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        _mean = [.. mean];
        _std = [.. std];
    }

    /// <summary>The vector column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The planar pixel vector read.</summary>
    public string InputColumnName { get; }

    /// <summary>The mean of each channel.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The standard deviation of each channel.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <inheritdoc/>
    protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
    {
        int channels = _mean.Length;
        var col = SchemaMismatchException.Require(inputSchema, InputColumnName, $"Vector<Single, {channels}, H, W> (planar pixels)",
            t => t is VectorDataViewType { ItemType: NumberDataViewType n, Dimensions.Count: 3, IsKnownSize: true } v && n.RawType == typeof(float) && v.Dimensions[0] == channels);
        int size = ((VectorDataViewType)col.Type).Size;
        yield return OutputColumn.Create<float[]>(OutputColumnName, col.Type, [col.Name], row =>
        {
            var getter = row.GetGetter<float[]>(row.Schema[col.Index]);
            float[] source = [];
            return (ref float[] value) =>
            {
                getter(ref source);
                if (source.Length != size)
                {
                    throw new InvalidOperationException($"NormalizeMeanStd: column '{col.Name}' ({col.Type}) gave a vector of {source.Length} items.");
                }
                if (value == null || value.Length != size || ReferenceEquals(value, source))
                {
                    value = new float[size];
                }
                source.CopyTo(value, 0);
                ImageOps.Normalize(value, channels, _mean, _std);
            };
        });
    }
}

/// <summary>The estimator of <see cref="MeanStdNormalizingTransformer"/> (nothing to learn).</summary>
public sealed class MeanStdNormalizingEstimator : TrivialEstimator<MeanStdNormalizingTransformer>
{
    /// <summary>Creates the estimator; see <see cref="MeanStdNormalizingTransformer"/> for the parameters.</summary>
    /// <param name="outputColumnName">The vector column written.</param>
    /// <param name="inputColumnName">The planar pixel vector read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="mean">One mean per channel.</param>
    /// <param name="std">One standard deviation per channel.</param>
    public MeanStdNormalizingEstimator(string outputColumnName, string? inputColumnName, float[] mean, float[] std)
        : base(new MeanStdNormalizingTransformer(outputColumnName, inputColumnName, mean, std))
    {
    }
}
