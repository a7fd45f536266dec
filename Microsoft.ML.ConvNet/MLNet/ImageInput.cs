using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.ConvNet;

/// <summary>How the trainer's feature column holds images.</summary>
internal enum ImageColumnKind
{
    /// <summary>A vector of Single of C·H·W pixels in planar order.</summary>
    Pixels,

    /// <summary>An ML.NET <see cref="MLImage"/> (from <c>LoadImages</c>).</summary>
    Image,

    /// <summary>Raw encoded image bytes (from <c>LoadRawImageBytes</c>), decoded by the trainer.</summary>
    Bytes,
}

/// <summary>
/// The feature column of a <see cref="ConvNetTrainer"/> and the network input [C, H, W] made from it. Images are turned
/// into pixels by ML.NET's own transforms (<c>ResizeImages</c>, <c>ConvertToGrayscale</c>) and then read in planar
/// red, green, blue order scaled by 1/255, exactly as <c>ExtractPixels(scaleImage: 1f / 255)</c> does, so that the
/// saved model (which uses <c>ExtractPixels</c>) scores what the trainer saw.
/// </summary>
internal sealed record ImageInput(string ColumnName, ImageColumnKind Kind, int Channels, int Height, int Width)
{
    /// <summary>The scale of the pixel values (bytes 0–255 become 0–1).</summary>
    public const float PixelScale = 1f / 255;

    /// <summary>The column holding the resized (and greyed) image inside the trainer's views.</summary>
    public string ImageColumnName => ColumnName + ".ConvNetImage";

    /// <summary>The network input shape [C, H, W].</summary>
    public int[] Shape => [Channels, Height, Width];

    /// <summary>Values per sample.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>The default input side of a zoo architecture.</summary>
    public static int DefaultSide(string? architecture) => architecture?.ToLowerInvariant() switch
    {
        "inception_v3" => 299,
        "smallcnn" or "lenet5" => 28,
        _ => 224,
    };

    /// <summary>Resolves the column in <paramref name="schema"/>; a wrong type is an error naming the column, the expected and the actual type.</summary>
    public static ImageInput Resolve(DataViewSchema schema, ConvNetTrainer.Options o)
    {
        var column = ConvNetSchema.Find(schema, o.FeatureColumnName, "feature");
        var type = column.Type;
        int side = o.Pretrained?.InputSize ?? DefaultSide(o.ModelFactory == null ? o.Architecture : null);
        if (type is ImageDataViewType image)
        {
            int h = o.ImageHeight ?? (image.Height > 0 ? image.Height : side);
            int w = o.ImageWidth ?? (image.Width > 0 ? image.Width : side);
            return Checked(new ImageInput(column.Name, ImageColumnKind.Image, o.Channels ?? 3, h, w));
        }
        if (type is VectorDataViewType { ItemType: var item } v && item == NumberDataViewType.Byte && !v.IsKnownSize)
        {
            return Checked(new ImageInput(column.Name, ImageColumnKind.Bytes, o.Channels ?? 3, o.ImageHeight ?? side, o.ImageWidth ?? side));
        }
        if (type is VectorDataViewType { ItemType: var f } pv && f == NumberDataViewType.Single && pv.IsKnownSize)
        {
            var dims = pv.Dimensions;
            if (dims.Length == 3)
            {
                var shape = new ImageInput(column.Name, ImageColumnKind.Pixels, dims[0], dims[1], dims[2]);
                if ((o.Channels ?? shape.Channels) != shape.Channels || (o.ImageHeight ?? shape.Height) != shape.Height || (o.ImageWidth ?? shape.Width) != shape.Width)
                {
                    throw ConvNetSchema.Mismatch("feature", column.Name,
                        $"Vector<Single, {o.Channels ?? shape.Channels}, {o.ImageHeight ?? shape.Height}, {o.ImageWidth ?? shape.Width}> (the options' Channels, ImageHeight, ImageWidth)", type);
                }
                return shape;
            }
            int c = o.Channels ?? 3;
            if (o.ImageHeight is int hh && o.ImageWidth is int ww && c * hh * ww == pv.Size)
            {
                return Checked(new ImageInput(column.Name, ImageColumnKind.Pixels, c, hh, ww));
            }
            throw ConvNetSchema.Mismatch("feature", column.Name,
                $"Vector<Single, C, H, W>, or Vector<Single> of Channels·ImageHeight·ImageWidth = {c}·{o.ImageHeight?.ToString() ?? "?"}·{o.ImageWidth?.ToString() ?? "?"} values", type);
        }
        throw ConvNetSchema.Mismatch("feature", column.Name, "Image (LoadImages), Vector<Byte> (LoadRawImageBytes) or Vector<Single> of known size (ExtractPixels)", type);
    }

    private static ImageInput Checked(ImageInput input)
    {
        if (input.Channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException("options", $"ConvNetTrainer: Channels must be 1 or 3 for images; got {input.Channels}.");
        }
        if (input.Height < 1 || input.Width < 1)
        {
            throw new ArgumentOutOfRangeException("options", $"ConvNetTrainer: ImageHeight and ImageWidth must be positive; got {input.Height}×{input.Width}.");
        }
        return input;
    }

    /// <summary>
    /// ML.NET's transforms that bring the column of <paramref name="schema"/> to an image of the network's size (none for
    /// pixel vectors): for raw bytes a decoding view first, then <c>ResizeImages</c> and, for one channel,
    /// <c>ConvertToGrayscale</c>. The result adds columns after the input's, so the input's keep their indices.
    /// </summary>
    public ImagePreparer Preparer(MLContext ml, DataViewSchema schema)
    {
        if (Kind == ImageColumnKind.Pixels)
        {
            return new ImagePreparer(data => data, row => row);
        }
        string decoded = ImageColumnName + ".Decoded";
        var fitSchema = Kind == ImageColumnKind.Bytes ? DecodedImageView.Extend(schema, decoded) : schema;
        var transformer = PreparingEstimator(ml, Kind == ImageColumnKind.Bytes ? decoded : ColumnName).Fit(new EmptyDataView(fitSchema));
        var mapper = transformer.GetRowToRowMapper(fitSchema);
        if (Kind == ImageColumnKind.Image)
        {
            return new ImagePreparer(transformer.Transform, row => mapper.GetRow(row, mapper.OutputSchema));
        }
        return new ImagePreparer(
            data => transformer.Transform(new DecodedImageView(data, ColumnName, decoded)),
            row => mapper.GetRow(new DecodedImageView.Row(fitSchema, row, ColumnName), mapper.OutputSchema));
    }

    /// <summary>Resize and grey transforms from <paramref name="source"/> (an image column) to <see cref="ImageColumnName"/>.</summary>
    private IEstimator<ITransformer> PreparingEstimator(MLContext ml, string source)
    {
        IEstimator<ITransformer> chain = ml.Transforms.ResizeImages(ImageColumnName, Width, Height, source);
        if (Channels == 1)
        {
            chain = chain.Append(ml.Transforms.ConvertToGrayscale(ImageColumnName, ImageColumnName));
        }
        return chain;
    }

    /// <summary>
    /// The saved form's preprocessing, all ML.NET's own: <c>ResizeImages</c>, <c>ConvertToGrayscale</c> and
    /// <c>ExtractPixels</c> into <paramref name="pixelsColumn"/>; null for pixel vectors.
    /// </summary>
    /// <exception cref="NotSupportedException">The column holds raw bytes, which no ML.NET transform decodes.</exception>
    public IEstimator<ITransformer>? SavedPreprocessing(MLContext ml, string pixelsColumn)
    {
        return Kind switch
        {
            ImageColumnKind.Pixels => null,
            ImageColumnKind.Image => PreparingEstimator(ml, ColumnName).Append(ml.Transforms.ExtractPixels(pixelsColumn, ImageColumnName,
                Channels == 1 ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: PixelScale)),
            _ => throw new NotSupportedException(
                $"ConvNetTransformer: a model trained on raw image bytes (column '{ColumnName}') cannot be saved as an ML.NET model: no ML.NET transform decodes bytes. " +
                "Load the images with LoadImages (an image column) to train a model that can be saved; this one scores in-process."),
        };
    }

    /// <summary>The column to read after <see cref="Preparer"/>'s transforms.</summary>
    public string ReadColumnName => Kind == ImageColumnKind.Pixels ? ColumnName : ImageColumnName;

    /// <summary>
    /// A reader of the current row's pixels into a span of <see cref="Size"/> floats; it returns null on success, else
    /// why the row has no image (an empty path gives no image in ML.NET).
    /// </summary>
    public Func<Span<float>, string?> CreateReader(DataViewRow row)
    {
        var column = row.Schema[ReadColumnName];
        if (Kind == ImageColumnKind.Pixels)
        {
            var getter = row.GetGetter<VBuffer<float>>(column);
            VBuffer<float> buffer = default;
            return destination =>
            {
                getter(ref buffer);
                if (buffer.Length != destination.Length)
                {
                    return $"column '{ColumnName}' holds {buffer.Length} values, expected {destination.Length}";
                }
                buffer.CopyTo(destination);
                return null;
            };
        }
        var images = row.GetGetter<MLImage>(column);
        MLImage? image = null;
        return destination =>
        {
            // ML.NET's image getters dispose the value they are handed; hand them none, so that a row without an
            // image (null) never leaves the previous row's disposed image behind.
            image?.Dispose();
            image = null;
            images(ref image!);
            if (image == null)
            {
                return $"column '{ColumnName}' has no image (an empty path or empty bytes)";
            }
            ExtractPixels(image, destination);
            return null;
        };
    }

    /// <summary>Planar pixels of <paramref name="image"/>, as ML.NET's <c>ExtractPixels</c> writes them (red, green, blue; alpha dropped).</summary>
    private void ExtractPixels(MLImage image, Span<float> destination)
    {
        if (image.Width != Width || image.Height != Height)
        {
            throw new InvalidOperationException($"ConvNetTrainer: an image of {image.Width}×{image.Height} reached the network, expected {Width}×{Height}.");
        }
        var (red, green, blue, bytesPerPixel) = image.PixelFormat switch
        {
            MLPixelFormat.Bgra32 => (2, 1, 0, 4),
            MLPixelFormat.Rgba32 => (0, 1, 2, 4),
            _ => throw new InvalidOperationException($"ConvNetTrainer: pixel format {image.PixelFormat} of column '{ColumnName}' is not supported."),
        };
        var pixels = image.Pixels;
        int plane = Height * Width;
        for (int i = 0, at = 0; i < plane; i++, at += bytesPerPixel)
        {
            destination[i] = pixels[at + red] * PixelScale;
            if (Channels == 3)
            {
                destination[plane + i] = pixels[at + green] * PixelScale;
                destination[2 * plane + i] = pixels[at + blue] * PixelScale;
            }
        }
    }
}

/// <summary>Applies <see cref="ImageInput.Preparer"/>'s transforms to a whole view or to a single row.</summary>
internal sealed record ImagePreparer(Func<IDataView, IDataView> Transform, Func<DataViewRow, DataViewRow> GetRow);
