using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>
/// A 2×3 affine map of pixel coordinates, x' = M00·x + M01·y + M02, y' = M10·x + M11·y + M12, in OpenCV's convention:
/// pixel centres at integer coordinates, x to the right, y down. As the matrix of <c>cv2.warpAffine</c> it maps source
/// coordinates to destination coordinates.
/// </summary>
public readonly record struct AffineMatrix(double M00, double M01, double M02, double M10, double M11, double M12)
{
    /// <summary>The identity map.</summary>
    public static AffineMatrix Identity => new(1, 0, 0, 0, 1, 0);

    /// <summary>
    /// A rotation by <paramref name="degrees"/> (counter-clockwise on the screen for positive angles) and an isotropic
    /// <paramref name="scale"/> about (<paramref name="centerX"/>, <paramref name="centerY"/>): OpenCV's
    /// <c>getRotationMatrix2D</c>.
    /// </summary>
    public static AffineMatrix Rotation(double centerX, double centerY, double degrees, double scale = 1)
    {
        double a = degrees * Math.PI / 180;
        double alpha = scale * Math.Cos(a), beta = scale * Math.Sin(a);
        return new(alpha, beta, (1 - alpha) * centerX - beta * centerY, -beta, alpha, beta * centerX + (1 - alpha) * centerY);
    }

    /// <summary>
    /// About the centre (<paramref name="centerX"/>, <paramref name="centerY"/>): scale, then shear (x by
    /// tan(<paramref name="shearXDegrees"/>)·y, y by tan(<paramref name="shearYDegrees"/>)·x), then rotate by
    /// <paramref name="degrees"/> (as <see cref="Rotation"/>), then translate by (<paramref name="translateX"/>,
    /// <paramref name="translateY"/>) pixels.
    /// </summary>
    public static AffineMatrix Compose(double centerX, double centerY, double degrees, double translateX, double translateY, double scale, double shearXDegrees, double shearYDegrees)
    {
        double a = degrees * Math.PI / 180;
        double cos = Math.Cos(a), sin = Math.Sin(a);
        double shx = Math.Tan(shearXDegrees * Math.PI / 180), shy = Math.Tan(shearYDegrees * Math.PI / 180);
        // Linear part L = R · Sh · S, with R = [[cos, sin], [−sin, cos]] (y down), Sh = [[1, shx], [shy, 1]], S = s·I.
        double s00 = scale, s01 = scale * shx, s10 = scale * shy, s11 = scale;
        double l00 = cos * s00 + sin * s10, l01 = cos * s01 + sin * s11;
        double l10 = -sin * s00 + cos * s10, l11 = -sin * s01 + cos * s11;
        return new(l00, l01, centerX + translateX - l00 * centerX - l01 * centerY,
            l10, l11, centerY + translateY - l10 * centerX - l11 * centerY);
    }

    /// <summary>The inverse map.</summary>
    /// <exception cref="InvalidOperationException">The matrix is singular.</exception>
    public AffineMatrix Invert()
    {
        double det = M00 * M11 - M01 * M10;
        if (det == 0 || !double.IsFinite(det))
        {
            throw new InvalidOperationException($"The affine matrix {this} cannot be inverted (determinant {det}).");
        }
        double i00 = M11 / det, i01 = -M01 / det, i10 = -M10 / det, i11 = M00 / det;
        return new(i00, i01, -(i00 * M02 + i01 * M12), i10, i11, -(i10 * M02 + i11 * M12));
    }
}

/// <summary>
/// Resampling of CHW float images: bilinear sampling with a named <see cref="BorderMode"/>, affine warps, remaps by
/// coordinate maps and resizes. Pixel centres sit at integer coordinates as in OpenCV, so <see cref="WarpAffine"/>
/// computes what <c>cv2.warpAffine(src, M, (w, h), flags=INTER_LINEAR, borderMode=..., borderValue=fill)</c> computes
/// (OpenCV rounds source coordinates to 1/32 pixel; this class does not), and <see cref="ResizeRegion"/> what
/// <c>cv2.resize(src[y:y+h, x:x+w], (W, H), interpolation=INTER_LINEAR)</c> computes.
/// </summary>
public static class ImageWarp
{
    /// <summary>The index that reads pixel <paramref name="i"/> of a row or column of <paramref name="n"/> pixels, or −1 for the constant border.</summary>
    public static int BorderIndex(int i, int n, BorderMode border)
    {
        if ((uint)i < (uint)n)
        {
            return i;
        }
        switch (border)
        {
            case BorderMode.Replicate:
                return i < 0 ? 0 : n - 1;
            case BorderMode.Reflect101:
                if (n == 1)
                {
                    return 0;
                }
                int period = 2 * n - 2;
                i %= period;
                if (i < 0)
                {
                    i += period;
                }
                return i >= n ? period - i : i;
            default:
                return -1;
        }
    }

    /// <summary>
    /// The bilinear value of one channel plane (<paramref name="height"/>×<paramref name="width"/>, row-major) at
    /// (<paramref name="x"/>, <paramref name="y"/>); pixels outside are read through <paramref name="border"/>.
    /// </summary>
    public static float Sample(ReadOnlySpan<float> plane, int height, int width, double x, double y, BorderMode border, float fill)
    {
        double fx = Math.Floor(x), fy = Math.Floor(y);
        if (!(Math.Abs(fx) < 1e8 && Math.Abs(fy) < 1e8))
        {
            return border == BorderMode.Constant ? fill : plane[BorderIndex(0, height, border) * width];
        }
        int x0 = (int)fx, y0 = (int)fy;
        float ax = (float)(x - fx), ay = (float)(y - fy);
        if ((uint)x0 < (uint)(width - 1) && (uint)y0 < (uint)(height - 1))
        {
            int o = y0 * width + x0;
            float top = plane[o] + ax * (plane[o + 1] - plane[o]);
            float bottom = plane[o + width] + ax * (plane[o + width + 1] - plane[o + width]);
            return top + ay * (bottom - top);
        }
        int xa = BorderIndex(x0, width, border), xb = BorderIndex(x0 + 1, width, border);
        int ya = BorderIndex(y0, height, border), yb = BorderIndex(y0 + 1, height, border);
        float p00 = Read(plane, width, ya, xa, fill), p01 = Read(plane, width, ya, xb, fill);
        float p10 = Read(plane, width, yb, xa, fill), p11 = Read(plane, width, yb, xb, fill);
        float t = p00 + ax * (p01 - p00), b = p10 + ax * (p11 - p10);
        return t + ay * (b - t);
    }

    private static float Read(ReadOnlySpan<float> plane, int width, int y, int x, float fill) => y < 0 || x < 0 ? fill : plane[y * width + x];

    /// <summary>
    /// Warps <paramref name="source"/> [C, H, W] into <paramref name="destination"/> [C, H, W] by
    /// <paramref name="matrix"/> (source → destination coordinates, as <c>cv2.warpAffine</c>'s M): each destination
    /// pixel is the bilinear sample of the source at M⁻¹·(x, y).
    /// </summary>
    public static void WarpAffine(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, AffineMatrix matrix, BorderMode border, float fill = 0f)
    {
        CheckSizes(source.Length, destination.Length, channels, height, width);
        var inv = matrix.Invert();
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
            {
                double bx = inv.M01 * y + inv.M02, by = inv.M11 * y + inv.M12;
                for (int x = 0; x < width; x++)
                {
                    dst[y * width + x] = Sample(src, height, width, inv.M00 * x + bx, inv.M10 * x + by, border, fill);
                }
            }
        }
    }

    /// <summary>
    /// Remaps <paramref name="source"/> [C, H, W] into <paramref name="destination"/>: destination pixel (x, y) is the
    /// bilinear sample of the source at (<paramref name="mapX"/>[y·W + x], <paramref name="mapY"/>[y·W + x])
    /// (OpenCV's <c>remap</c>).
    /// </summary>
    public static void Remap(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, ReadOnlySpan<float> mapX, ReadOnlySpan<float> mapY, BorderMode border, float fill = 0f)
    {
        CheckSizes(source.Length, destination.Length, channels, height, width);
        int plane = height * width;
        if (mapX.Length != plane || mapY.Length != plane)
        {
            throw new ArgumentException($"ImageWarp.Remap: the maps need {plane} values each for {height}×{width} images, got {mapX.Length} and {mapY.Length}.");
        }
        for (int c = 0; c < channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                dst[i] = Sample(src, height, width, mapX[i], mapY[i], border, fill);
            }
        }
    }

    /// <summary>
    /// Resizes the region (<paramref name="left"/>, <paramref name="top"/>, <paramref name="regionWidth"/>,
    /// <paramref name="regionHeight"/>) of <paramref name="source"/> [C, H, W] to
    /// <paramref name="outHeight"/>×<paramref name="outWidth"/> by bilinear interpolation with half-pixel centres
    /// (source x = left + (x + ½)·regionWidth/outWidth − ½, clamped to the region), as <c>cv2.resize</c> with
    /// <c>INTER_LINEAR</c> does to the cropped region.
    /// </summary>
    public static void ResizeRegion(ReadOnlySpan<float> source, int channels, int height, int width, int left, int top, int regionWidth, int regionHeight,
        Span<float> destination, int outHeight, int outWidth)
    {
        if (regionWidth < 1 || regionHeight < 1 || left < 0 || top < 0 || left + regionWidth > width || top + regionHeight > height)
        {
            throw new ArgumentOutOfRangeException(nameof(regionWidth), $"ImageWarp.ResizeRegion: the region ({left}, {top}, {regionWidth}×{regionHeight}) is not inside the {width}×{height} image.");
        }
        if (outHeight < 1 || outWidth < 1 || source.Length < channels * height * width || destination.Length < channels * outHeight * outWidth)
        {
            throw new ArgumentException($"ImageWarp.ResizeRegion: buffers of {source.Length} and {destination.Length} values do not hold [{channels}, {height}, {width}] and [{channels}, {outHeight}, {outWidth}].");
        }
        Span<int> x0 = outWidth <= 512 ? stackalloc int[outWidth] : new int[outWidth];
        Span<float> ax = outWidth <= 512 ? stackalloc float[outWidth] : new float[outWidth];
        Axis(left, regionWidth, outWidth, x0, ax);
        Span<int> y0 = outHeight <= 512 ? stackalloc int[outHeight] : new int[outHeight];
        Span<float> ay = outHeight <= 512 ? stackalloc float[outHeight] : new float[outHeight];
        Axis(top, regionHeight, outHeight, y0, ay);
        int last = left + regionWidth - 1, lastRow = top + regionHeight - 1;
        for (int c = 0; c < channels; c++)
        {
            var src = source.Slice(c * height * width, height * width);
            var dst = destination.Slice(c * outHeight * outWidth, outHeight * outWidth);
            for (int y = 0; y < outHeight; y++)
            {
                int r0 = y0[y], r1 = Math.Min(r0 + 1, lastRow);
                float wy = ay[y];
                for (int x = 0; x < outWidth; x++)
                {
                    int c0 = x0[x], c1 = Math.Min(c0 + 1, last);
                    float wx = ax[x];
                    float t = src[r0 * width + c0] * (1 - wx) + src[r0 * width + c1] * wx;
                    float b = src[r1 * width + c0] * (1 - wx) + src[r1 * width + c1] * wx;
                    dst[y * outWidth + x] = t * (1 - wy) + b * wy;
                }
            }
        }
    }

    /// <summary>cv2.resize's source positions along one axis: index and weight of the right neighbour, clamped to the region.</summary>
    private static void Axis(int start, int length, int outLength, Span<int> index, Span<float> weight)
    {
        double scale = (double)length / outLength;
        for (int i = 0; i < outLength; i++)
        {
            double f = (i + 0.5) * scale - 0.5;
            int s = (int)Math.Floor(f);
            double a = f - s;
            if (s < 0)
            {
                s = 0;
                a = 0;
            }
            if (s >= length - 1)
            {
                s = length - 1;
                a = 0;
            }
            index[i] = start + s;
            weight[i] = (float)a;
        }
    }

    private static void CheckSizes(int source, int destination, int channels, int height, int width)
    {
        long size = (long)channels * height * width;
        if (channels < 1 || height < 1 || width < 1 || source < size || destination < size)
        {
            throw new ArgumentException($"ImageWarp: buffers of {source} and {destination} values do not hold a [{channels}, {height}, {width}] image.");
        }
    }
}
