namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>
/// An 8-bit image in memory: <see cref="Height"/> rows of <see cref="Width"/> pixels, each pixel
/// <see cref="Channels"/> interleaved bytes (HWC layout): 1 = gray, 3 = RGB, 4 = RGBA (straight, not premultiplied, alpha).
/// </summary>
public sealed class ImageBuffer
{
    private readonly byte[] _pixels;

    /// <summary>Creates a black (all-zero) image.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="channels">1 (gray), 3 (RGB) or 4 (RGBA).</param>
    public ImageBuffer(int width, int height, int channels)
    {
        Validate(width, height, channels);
        _pixels = new byte[checked(width * height * channels)];
        Width = width;
        Height = height;
        Channels = channels;
    }

    /// <summary>Wraps <paramref name="pixels"/> (not copied) as an image.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="channels">1 (gray), 3 (RGB) or 4 (RGBA).</param>
    /// <param name="pixels">Exactly <c>width * height * channels</c> bytes, row after row, channels interleaved.</param>
    public ImageBuffer(int width, int height, int channels, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Validate(width, height, channels);
        long expected = (long)width * height * channels;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException(
                $"An image of {width}x{height} with {channels} channel(s) needs {expected} bytes, but {pixels.Length} were given.",
                nameof(pixels));
        }
        _pixels = pixels;
        Width = width;
        Height = height;
        Channels = channels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Bytes per pixel: 1 (gray), 3 (RGB) or 4 (RGBA).</summary>
    public int Channels { get; }

    /// <summary>Bytes per row: <c>Width * Channels</c> (rows are not padded).</summary>
    public int RowStride => Width * Channels;

    /// <summary>Whether the image has an alpha channel (<see cref="Channels"/> is 4).</summary>
    public bool HasAlpha => Channels == 4;

    /// <summary>The pixels, row-major, channels interleaved; <c>Width * Height * Channels</c> bytes.</summary>
    public Span<byte> Pixels => _pixels;

    /// <summary>The bytes of row <paramref name="y"/>.</summary>
    /// <param name="y">Row index, 0 at the top.</param>
    /// <returns><see cref="RowStride"/> bytes.</returns>
    public Span<byte> GetRow(int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        return _pixels.AsSpan(y * RowStride, RowStride);
    }

    /// <summary>Gets or sets one channel value of one pixel.</summary>
    /// <param name="x">Column, 0 at the left.</param>
    /// <param name="y">Row, 0 at the top.</param>
    /// <param name="channel">Channel index in <c>[0, Channels)</c>.</param>
    public byte this[int x, int y, int channel]
    {
        get => _pixels[Index(x, y, channel)];
        set => _pixels[Index(x, y, channel)] = value;
    }

    /// <summary>A deep copy.</summary>
    /// <returns>A new image with the same size, channels and pixels.</returns>
    public ImageBuffer Clone() => new(Width, Height, Channels, (byte[])_pixels.Clone());

    /// <inheritdoc/>
    public override string ToString() => $"ImageBuffer {Width}x{Height}x{Channels}";

    private int Index(int x, int y, int channel)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || (uint)channel >= (uint)Channels)
        {
            throw new ArgumentOutOfRangeException(
                nameof(x), $"Pixel ({x}, {y}) channel {channel} is outside the {Width}x{Height}x{Channels} image.");
        }
        return ((y * Width) + x) * Channels + channel;
    }

    private static void Validate(int width, int height, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (1 or 3 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "An image has 1 (gray), 3 (RGB) or 4 (RGBA) channels.");
        }
        if ((long)width * height * channels > Array.MaxLength)
        {
            throw new ArgumentException($"An image of {width}x{height} with {channels} channel(s) is too large for one buffer.");
        }
    }
}
