using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// Image transforms on <see cref="TransformsCatalog"/> (ML.NET's <c>ImageEstimatorsCatalog</c>), with ML.NET's method and
/// parameter names: <see cref="LoadImages"/>, <see cref="LoadRawImageBytes"/>, <see cref="ResizeImages"/>,
/// <see cref="ConvertToGrayscale"/>, <see cref="ExtractPixels"/>; plus <see cref="NormalizeMeanStd"/>, which ML.NET lacks.
/// Images are <see cref="ImageBuffer"/> values in <see cref="ImageDataViewType"/> columns.
/// </summary>
public static class ImageEstimatorsCatalog
{
    /// <summary>
    /// Loads the images named by <paramref name="inputColumnName"/> (paths relative to <paramref name="imageFolder"/>, or
    /// absolute) into the image column <paramref name="outputColumnName"/>, decoding lazily.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The image column written (type <c>Image</c>, size unknown).</param>
    /// <param name="imageFolder">The folder relative paths are resolved against (null: the current directory).</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="skipBadImages">
    /// Not in ML.NET. False (ML.NET's behaviour): a missing file throws <see cref="FileNotFoundException"/> and a corrupt one
    /// <see cref="InvalidDataException"/>, naming the file. True: such rows are left out of the transformed view, each
    /// reported to <paramref name="onSkipped"/> (or to <see cref="System.Diagnostics.Trace"/>) and counted in
    /// <see cref="ImageLoadingTransformer.SkippedCount"/>.
    /// </param>
    /// <param name="onSkipped">Receives one message (file and reason) for each skipped row.</param>
    /// <returns>The estimator.</returns>
    public static ImageLoadingEstimator LoadImages(this TransformsCatalog catalog, string outputColumnName, string? imageFolder,
        string? inputColumnName = null, bool skipBadImages = false, Action<string>? onSkipped = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageLoadingEstimator(outputColumnName, imageFolder, inputColumnName, skipBadImages, onSkipped);
    }

    /// <summary>Reads the undecoded bytes of the files named by <paramref name="inputColumnName"/> into a <c>Vector&lt;Byte&gt;</c> column.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The byte vector column written.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against (null: the current directory).</param>
    /// <param name="inputColumnName">The text column holding the paths (null: <paramref name="outputColumnName"/>).</param>
    /// <returns>The estimator.</returns>
    public static RawImageBytesLoadingEstimator LoadRawImageBytes(this TransformsCatalog catalog, string outputColumnName, string? imageFolder,
        string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RawImageBytesLoadingEstimator(outputColumnName, imageFolder, inputColumnName);
    }

    /// <summary>Resizes the images of <paramref name="inputColumnName"/> to <paramref name="imageWidth"/> × <paramref name="imageHeight"/> (bilinear).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The image column written (<c>Image&lt;imageHeight, imageWidth&gt;</c>).</param>
    /// <param name="imageWidth">The width of the resized images.</param>
    /// <param name="imageHeight">The height of the resized images.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="resizing">How to handle a different aspect ratio (default: scale to cover, then crop).</param>
    /// <param name="cropAnchor">Where to crop or pad.</param>
    /// <returns>The estimator.</returns>
    public static ImageResizingEstimator ResizeImages(this TransformsCatalog catalog, string outputColumnName, int imageWidth, int imageHeight,
        string? inputColumnName = null, ResizingKind resizing = ResizingKind.IsoCrop, Anchor cropAnchor = Anchor.Center)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageResizingEstimator(outputColumnName, imageWidth, imageHeight, inputColumnName, resizing, cropAnchor);
    }

    /// <summary>Converts the images of <paramref name="inputColumnName"/> to one gray channel (BT.601 luma).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The image column written (same type as the input).</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <returns>The estimator.</returns>
    public static ImageGrayscalingEstimator ConvertToGrayscale(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageGrayscalingEstimator(outputColumnName, inputColumnName);
    }

    /// <summary>
    /// Extracts the pixels of the images of <paramref name="inputColumnName"/>, which must have a known size (after
    /// <see cref="ResizeImages"/>), as <c>(pixel − offsetImage) · scaleImage</c> into <c>Vector&lt;Single, C, H, W&gt;</c>
    /// (or <c>[H, W, C]</c> interleaved).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The vector column written.</param>
    /// <param name="inputColumnName">The image column read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="colorsToExtract">The channels to extract (gray images give their value for red, green and blue; alpha is 255 without alpha).</param>
    /// <param name="orderOfExtraction">The order of the channels (ARGB: R, G, B for <see cref="ColorBits.Rgb"/>).</param>
    /// <param name="interleavePixelColors">Whether to write <c>[H, W, C]</c> instead of planar <c>[C, H, W]</c>.</param>
    /// <param name="offsetImage">Subtracted from each value before scaling.</param>
    /// <param name="scaleImage">Multiplies each value after the offset, e.g. <c>1f / 255</c>.</param>
    /// <param name="outputAsFloatArray">Whether to write floats (true) or raw bytes (then offset and scale must be 0 and 1).</param>
    /// <returns>The estimator.</returns>
    public static ImagePixelExtractingEstimator ExtractPixels(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        ColorBits colorsToExtract = ColorBits.Rgb, ColorsOrder orderOfExtraction = ColorsOrder.ARGB, bool interleavePixelColors = false,
        float offsetImage = 0f, float scaleImage = 1f, bool outputAsFloatArray = true)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImagePixelExtractingEstimator(outputColumnName, inputColumnName, colorsToExtract, orderOfExtraction,
            interleavePixelColors, offsetImage, scaleImage, outputAsFloatArray);
    }

    /// <summary>
    /// Normalises planar pixel vectors <c>Vector&lt;Single, C, H, W&gt;</c> per channel: <c>(x − mean[c]) / std[c]</c>. Not in
    /// ML.NET (torchvision's <c>Normalize</c>); use it after <see cref="ExtractPixels"/> without interleaving.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The vector column written (same type as the input).</param>
    /// <param name="inputColumnName">The planar pixel vector read (null: <paramref name="outputColumnName"/>).</param>
    /// <param name="mean">One mean per channel (C values).</param>
    /// <param name="std">One standard deviation per channel (C values, each non-zero).</param>
    /// <returns>The estimator.</returns>
    public static MeanStdNormalizingEstimator NormalizeMeanStd(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName,
        float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new MeanStdNormalizingEstimator(outputColumnName, inputColumnName, mean, std);
    }
}
