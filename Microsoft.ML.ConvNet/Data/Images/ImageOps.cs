using System.Numerics.Tensors;

namespace Microsoft.ML.ConvNet.Data.Images;

/// <summary>
/// Image operations for input pipelines: resizing (bilinear, with ML.NET's fill / pad / crop modes), grayscale
/// conversion, EXIF orientation, and extraction of pixels into float planes for a network.
/// </summary>
public static class ImageOps
{
    /// <summary>
    /// Resizes <paramref name="image"/> to <paramref name="width"/> × <paramref name="height"/> with bilinear
    /// interpolation.
    /// </summary>
    /// <remarks>
    /// Sample positions use half-pixel centres, as OpenCV's <c>INTER_LINEAR</c> and PyTorch's
    /// <c>align_corners=False</c>: destination pixel <c>d</c> reads source position <c>(d + 0.5) · s − 0.5</c>, where
    /// <c>s</c> is source size over (scaled) destination size, clamped to the image. Results are rounded half up.
    /// <list type="bullet">
    /// <item><see cref="ResizingKind.Fill"/>: stretch to the target size.</item>
    /// <item><see cref="ResizingKind.IsoPad"/>: scale by <c>min(width / W, height / H)</c> to a size rounded to whole
    /// pixels, place it at <paramref name="anchor"/> and fill the rest with zeros (alpha included).</item>
    /// <item><see cref="ResizingKind.IsoCrop"/>: scale by <c>max(width / W, height / H)</c> to a size rounded to whole
    /// pixels, then cut the target window at <paramref name="anchor"/>; a centred window starts at
    /// <c>floor((scaled − target) / 2)</c>.</item>
    /// </list>
    /// </remarks>
    /// <param name="image">The source image.</param>
    /// <param name="width">Target width, at least 1.</param>
    /// <param name="height">Target height, at least 1.</param>
    /// <param name="kind">How to handle a different aspect ratio; ML.NET's default is <see cref="ResizingKind.IsoCrop"/>.</param>
    /// <param name="anchor">Where to pad or crop; ML.NET's default is <see cref="Anchor.Center"/>.</param>
    /// <returns>A new image with the same channels.</returns>
    public static ImageBuffer Resize(ImageBuffer image, int width, int height, ResizingKind kind = ResizingKind.IsoCrop, Anchor anchor = Anchor.Center)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var result = new ImageBuffer(width, height, image.Channels);
        (double ax, double ay) = Alignment(anchor);
        int sw = image.Width, sh = image.Height;
        switch (kind)
        {
            case ResizingKind.Fill:
                Resample(image, result, 0, 0, width, height, width, height, 0, 0);
                break;
            case ResizingKind.IsoPad:
            {
                double s = Math.Min((double)width / sw, (double)height / sh);
                int cw = Math.Clamp((int)Math.Round(sw * s), 1, width);
                int ch = Math.Clamp((int)Math.Round(sh * s), 1, height);
                int ox = (int)Math.Floor((width - cw) * ax);
                int oy = (int)Math.Floor((height - ch) * ay);
                Resample(image, result, ox, oy, cw, ch, cw, ch, 0, 0);
                break;
            }
            case ResizingKind.IsoCrop:
            {
                double s = Math.Max((double)width / sw, (double)height / sh);
                int vw = Math.Max(width, (int)Math.Round(sw * s));
                int vh = Math.Max(height, (int)Math.Round(sh * s));
                int ox = (int)Math.Floor((vw - width) * ax);
                int oy = (int)Math.Floor((vh - height) * ay);
                Resample(image, result, 0, 0, width, height, vw, vh, ox, oy);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown resizing kind.");
        }
        return result;
    }

    // Horizontal and vertical placement in [0, 1]: 0 = left/top, 0.5 = centre, 1 = right/bottom.
    private static (double X, double Y) Alignment(Anchor anchor) => anchor switch
    {
        Anchor.Right => (1, 0.5),
        Anchor.Left => (0, 0.5),
        Anchor.Top => (0.5, 0),
        Anchor.Bottom => (0.5, 1),
        Anchor.Center => (0.5, 0.5),
        Anchor.TopLeft => (0, 0),
        Anchor.TopRight => (1, 0),
        Anchor.BottomLeft => (0, 1),
        Anchor.BottomRight => (1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(anchor), anchor, "Unknown anchor."),
    };

    // Writes a region of dst (at dstX, dstY, size regionW × regionH) with the source scaled to virtualW × virtualH,
    // the region showing the virtual image from (offsetX, offsetY).
    private static void Resample(
        ImageBuffer src, ImageBuffer dst, int dstX, int dstY, int regionW, int regionH,
        int virtualW, int virtualH, int offsetX, int offsetY)
    {
        int c = src.Channels;
        var (x0, x1, fx) = Taps(src.Width, virtualW, offsetX, regionW);
        var (y0, y1, fy) = Taps(src.Height, virtualH, offsetY, regionH);
        ReadOnlySpan<byte> s = src.Pixels;
        Span<byte> d = dst.Pixels;
        int srcStride = src.RowStride;
        for (int y = 0; y < regionH; y++)
        {
            var rowA = s.Slice(y0[y] * srcStride, srcStride);
            var rowB = s.Slice(y1[y] * srcStride, srcStride);
            float wy = fy[y];
            var outRow = d.Slice(((dstY + y) * dst.RowStride) + (dstX * c), regionW * c);
            for (int x = 0; x < regionW; x++)
            {
                int ia = x0[x] * c, ib = x1[x] * c;
                float wx = fx[x];
                for (int k = 0; k < c; k++)
                {
                    float top = rowA[ia + k] + ((rowA[ib + k] - rowA[ia + k]) * wx);
                    float bottom = rowB[ia + k] + ((rowB[ib + k] - rowB[ia + k]) * wx);
                    float v = top + ((bottom - top) * wy);
                    outRow[(x * c) + k] = (byte)Math.Clamp((int)(v + 0.5f), 0, 255);
                }
            }
        }
    }

    // For each of count destination positions: the two source taps and the weight of the second.
    private static (int[] I0, int[] I1, float[] W) Taps(int sourceSize, int virtualSize, int offset, int count)
    {
        var i0 = new int[count];
        var i1 = new int[count];
        var w = new float[count];
        double scale = (double)sourceSize / virtualSize;
        for (int i = 0; i < count; i++)
        {
            double pos = ((i + offset + 0.5) * scale) - 0.5;
            pos = Math.Clamp(pos, 0, sourceSize - 1);
            int lo = (int)Math.Floor(pos);
            int hi = Math.Min(lo + 1, sourceSize - 1);
            i0[i] = lo;
            i1[i] = hi;
            w[i] = (float)(pos - lo);
        }
        return (i0, i1, w);
    }

    /// <summary>
    /// Converts to one gray channel with ITU-R BT.601 luma, <c>0.299 R + 0.587 G + 0.114 B</c>, rounded half up.
    /// Alpha is dropped; a gray image is copied.
    /// </summary>
    /// <param name="image">The source image.</param>
    /// <returns>A new one-channel image.</returns>
    public static ImageBuffer ToGrayscale(ImageBuffer image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels == 1)
        {
            return image.Clone();
        }
        var result = new ImageBuffer(image.Width, image.Height, 1);
        ReadOnlySpan<byte> s = image.Pixels;
        Span<byte> d = result.Pixels;
        int c = image.Channels;
        for (int i = 0, j = 0; i < d.Length; i++, j += c)
        {
            // Integer arithmetic in thousandths: exact, no float rounding surprises at .5.
            d[i] = (byte)(((299 * s[j]) + (587 * s[j + 1]) + (114 * s[j + 2]) + 500) / 1000);
        }
        return result;
    }

    /// <summary>Converts to three RGB channels: gray is copied to R, G and B; alpha is dropped; RGB is copied.</summary>
    /// <param name="image">The source image.</param>
    /// <returns>A new three-channel image.</returns>
    public static ImageBuffer ToRgb(ImageBuffer image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels == 3)
        {
            return image.Clone();
        }
        var result = new ImageBuffer(image.Width, image.Height, 3);
        ReadOnlySpan<byte> s = image.Pixels;
        Span<byte> d = result.Pixels;
        int c = image.Channels;
        for (int i = 0, j = 0; j < s.Length; i += 3, j += c)
        {
            d[i] = s[j];
            d[i + 1] = s[c == 1 ? j : j + 1];
            d[i + 2] = s[c == 1 ? j : j + 2];
        }
        return result;
    }

    /// <summary>
    /// Returns the image as it is meant to be displayed for EXIF orientation <paramref name="exifOrientation"/>:
    /// 1 upright (the image itself is returned), 2 mirror horizontally, 3 rotate 180°, 4 mirror vertically,
    /// 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
    /// <see cref="ImageCodec.Decode"/> applies a JPEG's orientation already.
    /// </summary>
    /// <param name="image">The image as stored.</param>
    /// <param name="exifOrientation">The EXIF orientation tag value, 1..8.</param>
    /// <returns>The upright image (width and height swapped for 5..8).</returns>
    public static ImageBuffer ApplyExifOrientation(ImageBuffer image, int exifOrientation)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Exif.ApplyOrientation(image, exifOrientation);
    }

    /// <summary>The number of channels (planes) <paramref name="colors"/> selects.</summary>
    /// <param name="colors">The channels to extract.</param>
    /// <returns>0..4.</returns>
    public static int PlaneCount(ColorBits colors) => System.Numerics.BitOperations.PopCount((uint)(colors & ColorBits.All));

    /// <summary>
    /// Extracts pixels as floats, as ML.NET's <c>ExtractPixels</c> does: each value is
    /// <c>(value − offset) · scale</c> (ML.NET's <c>offsetImage</c> is applied first, then <c>scaleImage</c>).
    /// Gray images give their gray value for red, green and blue; images without alpha give 255 for alpha.
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="destination">
    /// <c>PlaneCount(colors) · Height · Width</c> floats. Planar (<c>interleave = false</c>): <c>[C, H, W]</c>, all
    /// values of the first channel, then the next. Interleaved: <c>[H, W, C]</c>.
    /// </param>
    /// <param name="colors">The channels to extract (default red, green, blue).</param>
    /// <param name="order">The order of the extracted channels (default ARGB, i.e. R, G, B for <see cref="ColorBits.Rgb"/>).</param>
    /// <param name="interleave">Whether to write <c>[H, W, C]</c> instead of planar <c>[C, H, W]</c>.</param>
    /// <param name="offset">Subtracted from each value before scaling.</param>
    /// <param name="scale">Multiplies each value after the offset, e.g. <c>1f / 255</c> for values in [0, 1].</param>
    public static void ExtractPixels(
        ImageBuffer image, Span<float> destination, ColorBits colors = ColorBits.Rgb, ColorsOrder order = ColorsOrder.ARGB,
        bool interleave = false, float offset = 0f, float scale = 1f)
    {
        ArgumentNullException.ThrowIfNull(image);
        int planes = PlaneCount(colors);
        if (planes == 0)
        {
            throw new ArgumentException("No colour channel selected.", nameof(colors));
        }
        int pixels = image.Width * image.Height;
        if (destination.Length != planes * pixels)
        {
            throw new ArgumentException(
                $"ExtractPixels: {image} with {planes} channel(s) ({colors}) gives {planes * pixels} values " +
                $"([{planes}, {image.Height}, {image.Width}]), but the destination holds {destination.Length}.",
                nameof(destination));
        }

        // Source byte offset within a pixel for each output channel: 0..3 for R, G, B, A; -1 for constant alpha 255.
        Span<int> sourceChannel = stackalloc int[4];
        int n = 0;
        foreach (char name in OrderName(order))
        {
            ColorBits bit = name switch { 'A' => ColorBits.Alpha, 'R' => ColorBits.Red, 'G' => ColorBits.Green, _ => ColorBits.Blue };
            if ((colors & bit) == 0)
            {
                continue;
            }
            sourceChannel[n++] = image.Channels switch
            {
                1 => name == 'A' ? -1 : 0,
                3 => name switch { 'A' => -1, 'R' => 0, 'G' => 1, _ => 2 },
                _ => name switch { 'A' => 3, 'R' => 0, 'G' => 1, _ => 2 },
            };
        }

        ReadOnlySpan<byte> src = image.Pixels;
        int c = image.Channels;
        for (int k = 0; k < planes; k++)
        {
            int sc = sourceChannel[k];
            float constant = (255f - offset) * scale;
            int outIndex = interleave ? k : k * pixels;
            int outStep = interleave ? planes : 1;
            for (int p = 0, j = sc; p < pixels; p++, j += c, outIndex += outStep)
            {
                destination[outIndex] = sc < 0 ? constant : (src[j] - offset) * scale;
            }
        }
    }

    /// <summary>Extracts pixels into a new array; see <see cref="ExtractPixels(ImageBuffer, Span{float}, ColorBits, ColorsOrder, bool, float, float)"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="colors">The channels to extract.</param>
    /// <param name="order">The order of the extracted channels.</param>
    /// <param name="interleave">Whether to write <c>[H, W, C]</c> instead of planar <c>[C, H, W]</c>.</param>
    /// <param name="offset">Subtracted from each value before scaling.</param>
    /// <param name="scale">Multiplies each value after the offset.</param>
    /// <returns><c>PlaneCount(colors) · Height · Width</c> floats.</returns>
    public static float[] ExtractPixels(
        ImageBuffer image, ColorBits colors = ColorBits.Rgb, ColorsOrder order = ColorsOrder.ARGB,
        bool interleave = false, float offset = 0f, float scale = 1f)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new float[PlaneCount(colors) * image.Width * image.Height];
        ExtractPixels(image, result, colors, order, interleave, offset, scale);
        return result;
    }

    /// <summary>
    /// Normalises planar <c>[C, H, W]</c> values in place, per channel: <c>x = (x − mean[c]) / std[c]</c>
    /// (e.g. ImageNet's mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 on values scaled to [0, 1]).
    /// </summary>
    /// <param name="chw">The planes, channel after channel; its length is a multiple of <paramref name="channels"/>.</param>
    /// <param name="channels">The number of planes.</param>
    /// <param name="mean">One mean per channel.</param>
    /// <param name="std">One standard deviation per channel, each non-zero.</param>
    public static void Normalize(Span<float> chw, int channels, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (mean.Length != channels || std.Length != channels)
        {
            throw new ArgumentException($"Normalize: {channels} channel(s) need {channels} means and standard deviations, got {mean.Length} and {std.Length}.");
        }
        if (chw.Length % channels != 0)
        {
            throw new ArgumentException($"Normalize: {chw.Length} values do not split into {channels} equal planes.", nameof(chw));
        }
        int plane = chw.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            if (std[c] == 0 || !float.IsFinite(std[c]))
            {
                throw new ArgumentException($"Normalize: the standard deviation of channel {c} is {std[c]}; it must be finite and non-zero.", nameof(std));
            }
            var p = chw.Slice(c * plane, plane);
            TensorPrimitives.Subtract(p, mean[c], p);
            TensorPrimitives.Divide(p, std[c], p);
        }
    }

    private static string OrderName(ColorsOrder order) => order switch
    {
        ColorsOrder.ARGB => "ARGB",
        ColorsOrder.ARBG => "ARBG",
        ColorsOrder.ABRG => "ABRG",
        ColorsOrder.ABGR => "ABGR",
        ColorsOrder.AGRB => "AGRB",
        ColorsOrder.AGBR => "AGBR",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown colour order."),
    };
}
