using System.Text.Json.Nodes;
using Microsoft.ML.ConvNet.Data.Images;

namespace Microsoft.ML.ConvNet.Pipelines;

// Model-file persistence of the image transforms: each writes its settings to the manifest and is rebuilt from them.

public sealed partial class ImageLoadingTransformer : IPersistableTransformer
{
    internal const string KindName = "LoadImages";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>Saves the columns, the image folder (as given) and the skip flag; the skip callback is not saved.</summary>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
        ["ImageFolder"] = ImageFolder,
        ["SkipBadImages"] = SkipBadImages,
    };

    internal static ImageLoadingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(Text(s, "Output"), Text(s, "ImageFolder"), Text(s, "Input"), s["SkipBadImages"]!.GetValue<bool>());

    internal static string Text(JsonObject s, string name) => s[name]!.GetValue<string>();
}

public sealed partial class RawImageBytesLoadingTransformer : IPersistableTransformer
{
    internal const string KindName = "LoadRawImageBytes";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
        ["ImageFolder"] = ImageFolder,
    };

    internal static RawImageBytesLoadingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(ImageLoadingTransformer.Text(s, "Output"), ImageLoadingTransformer.Text(s, "ImageFolder"), ImageLoadingTransformer.Text(s, "Input"));
}

public sealed partial class ImageResizingTransformer : IPersistableTransformer
{
    internal const string KindName = "ResizeImages";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
        ["Width"] = ImageWidth,
        ["Height"] = ImageHeight,
        ["Resizing"] = Resizing.ToString(),
        ["CropAnchor"] = CropAnchor.ToString(),
    };

    internal static ImageResizingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(ImageLoadingTransformer.Text(s, "Output"), s["Width"]!.GetValue<int>(), s["Height"]!.GetValue<int>(),
            ImageLoadingTransformer.Text(s, "Input"),
            Enum.Parse<ResizingKind>(ImageLoadingTransformer.Text(s, "Resizing")),
            Enum.Parse<Anchor>(ImageLoadingTransformer.Text(s, "CropAnchor")));
}

public sealed partial class ImageGrayscalingTransformer : IPersistableTransformer
{
    internal const string KindName = "ConvertToGrayscale";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
    };

    internal static ImageGrayscalingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(ImageLoadingTransformer.Text(s, "Output"), ImageLoadingTransformer.Text(s, "Input"));
}

public sealed partial class ImagePixelExtractingTransformer : IPersistableTransformer
{
    internal const string KindName = "ExtractPixels";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
        ["ColorsToExtract"] = ColorsToExtract.ToString(),
        ["OrderOfExtraction"] = OrderOfExtraction.ToString(),
        ["InterleavePixelColors"] = InterleavePixelColors,
        ["OffsetImage"] = OffsetImage,
        ["ScaleImage"] = ScaleImage,
        ["OutputAsFloatArray"] = OutputAsFloatArray,
    };

    internal static ImagePixelExtractingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(ImageLoadingTransformer.Text(s, "Output"), ImageLoadingTransformer.Text(s, "Input"),
            Enum.Parse<ColorBits>(ImageLoadingTransformer.Text(s, "ColorsToExtract")),
            Enum.Parse<ColorsOrder>(ImageLoadingTransformer.Text(s, "OrderOfExtraction")),
            s["InterleavePixelColors"]!.GetValue<bool>(), s["OffsetImage"]!.GetValue<float>(),
            s["ScaleImage"]!.GetValue<float>(), s["OutputAsFloatArray"]!.GetValue<bool>());
}

public sealed partial class MeanStdNormalizingTransformer : IPersistableTransformer
{
    internal const string KindName = "NormalizeMeanStd";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public JsonObject SaveSettings(ModelSaveContext context) => new()
    {
        ["Output"] = OutputColumnName,
        ["Input"] = InputColumnName,
        ["Mean"] = new JsonArray([.. Mean.Select(v => (JsonNode?)v)]),
        ["Std"] = new JsonArray([.. Std.Select(v => (JsonNode?)v)]),
    };

    internal static MeanStdNormalizingTransformer Load(JsonObject s, ModelLoadContext context) =>
        new(ImageLoadingTransformer.Text(s, "Output"), ImageLoadingTransformer.Text(s, "Input"),
            [.. s["Mean"]!.AsArray().Select(v => v!.GetValue<float>())],
            [.. s["Std"]!.AsArray().Select(v => v!.GetValue<float>())]);
}
