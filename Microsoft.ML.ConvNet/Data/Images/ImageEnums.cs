namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>How <see cref="ImageOps.Resize"/> reconciles the source and target aspect ratios
/// (the values of ML.NET's <c>ImageResizingEstimator.ResizingKind</c>).</summary>
public enum ResizingKind : byte
{
    /// <summary>Keep the aspect ratio: scale the image to fit inside the target and pad the rest with zeros,
    /// placing the image at the <see cref="Anchor"/>.</summary>
    IsoPad = 0,

    /// <summary>Keep the aspect ratio: scale the image to cover the target and crop what overflows, keeping the part at
    /// the <see cref="Anchor"/>.</summary>
    IsoCrop = 1,

    /// <summary>Stretch the image to the target size, ignoring the aspect ratio.</summary>
    Fill = 2,
}

/// <summary>Where <see cref="ImageOps.Resize"/> places the image when padding, or which part it keeps when cropping.
/// The first five values are those of ML.NET's <c>ImageResizingEstimator.Anchor</c>; a side anchor centres the
/// other axis (e.g. <see cref="Left"/> is vertically centred).</summary>
public enum Anchor : byte
{
    /// <summary>Right edge, vertically centred.</summary>
    Right = 0,

    /// <summary>Left edge, vertically centred.</summary>
    Left = 1,

    /// <summary>Top edge, horizontally centred.</summary>
    Top = 2,

    /// <summary>Bottom edge, horizontally centred.</summary>
    Bottom = 3,

    /// <summary>Centred on both axes.</summary>
    Center = 4,

    /// <summary>Top-left corner.</summary>
    TopLeft = 5,

    /// <summary>Top-right corner.</summary>
    TopRight = 6,

    /// <summary>Bottom-left corner.</summary>
    BottomLeft = 7,

    /// <summary>Bottom-right corner.</summary>
    BottomRight = 8,
}

/// <summary>Which colour channels <see cref="ImageOps.ExtractPixels(ImageBuffer, Span{float}, ColorBits, ColorsOrder, bool, float, float)"/>
/// extracts (the values of ML.NET's <c>ImagePixelExtractingEstimator.ColorBits</c>).</summary>
[Flags]
#pragma warning disable CA1711 // "Bits" is ML.NET's name for these flags
public enum ColorBits : byte
#pragma warning restore CA1711
{
    /// <summary>No channel.</summary>
    None = 0,

    /// <summary>Alpha (255 for images without alpha).</summary>
    Alpha = 0x01,

    /// <summary>Red (the gray value for gray images).</summary>
    Red = 0x02,

    /// <summary>Green (the gray value for gray images).</summary>
    Green = 0x04,

    /// <summary>Blue (the gray value for gray images).</summary>
    Blue = 0x08,

    /// <summary>Red, green and blue.</summary>
    Rgb = Red | Green | Blue,

    /// <summary>Alpha, red, green and blue.</summary>
    All = Alpha | Red | Green | Blue,
}

/// <summary>The order in which extracted channels are written (the values of ML.NET's
/// <c>ImagePixelExtractingEstimator.ColorsOrder</c>). Channels left out by <see cref="ColorBits"/> are skipped, so
/// <see cref="ARGB"/> with <see cref="ColorBits.Rgb"/> gives R, G, B and <see cref="ABGR"/> with
/// <see cref="ColorBits.Rgb"/> gives B, G, R.</summary>
#pragma warning disable CA1707, CA1708 // ML.NET's names
public enum ColorsOrder : byte
{
    /// <summary>Alpha, red, green, blue.</summary>
    ARGB = 1,

    /// <summary>Alpha, red, blue, green.</summary>
    ARBG = 2,

    /// <summary>Alpha, blue, red, green.</summary>
    ABRG = 3,

    /// <summary>Alpha, blue, green, red.</summary>
    ABGR = 4,

    /// <summary>Alpha, green, red, blue.</summary>
    AGRB = 5,

    /// <summary>Alpha, green, blue, red.</summary>
    AGBR = 6,
}
#pragma warning restore CA1707, CA1708
