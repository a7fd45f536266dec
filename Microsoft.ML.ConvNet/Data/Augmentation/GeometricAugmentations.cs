using System.Globalization;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>Mirrors the image left to right (probability 0.5 by default).</summary>
public sealed class RandomHorizontalFlip : ImageAugmentation
{
    /// <summary>Flips with probability <paramref name="probability"/>.</summary>
    public RandomHorizontalFlip(double probability = 0.5) => Probability = probability;

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        for (int row = 0; row < channels * height; row++)
        {
            image.Slice(row * width, width).Reverse();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RandomHorizontalFlip(p={Probability})");
}

/// <summary>Mirrors the image top to bottom (probability 0.5 by default).</summary>
public sealed class RandomVerticalFlip : ImageAugmentation
{
    /// <summary>Flips with probability <paramref name="probability"/>.</summary>
    public RandomVerticalFlip(double probability = 0.5) => Probability = probability;

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        var row = Rent(width);
        try
        {
            var tmp = row.AsSpan(0, width);
            for (int c = 0; c < channels; c++)
            {
                var plane = image.Slice(c * height * width, height * width);
                for (int y = 0; y < height / 2; y++)
                {
                    var a = plane.Slice(y * width, width);
                    var b = plane.Slice((height - 1 - y) * width, width);
                    a.CopyTo(tmp);
                    b.CopyTo(a);
                    tmp.CopyTo(b);
                }
            }
        }
        finally
        {
            Return(row);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RandomVerticalFlip(p={Probability})");
}

/// <summary>
/// Pads the image by <see cref="Padding"/> pixels on every side (through <see cref="Border"/>) and crops a random
/// window of the original size out of it: a random shift by −padding..padding pixels in each direction, the classic
/// CIFAR/Fashion-MNIST augmentation (torchvision's <c>RandomCrop(size, padding, padding_mode=...)</c> with the size
/// of the input).
/// </summary>
public sealed class RandomCrop : ImageAugmentation
{
    private readonly double _fraction;

    /// <summary>Pads by <paramref name="padding"/> pixels (at least 1) and crops.</summary>
    /// <param name="padding">Pixels added on each side.</param>
    /// <param name="border">How the padding is filled (default <see cref="BorderMode.Constant"/> with <paramref name="fill"/>, as torchvision).</param>
    /// <param name="fill">The constant of <see cref="BorderMode.Constant"/>.</param>
    public RandomCrop(int padding, BorderMode border = BorderMode.Constant, float fill = 0f)
    {
        if (padding < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), $"RandomCrop: padding must be at least 1 pixel, got {padding}.");
        }
        Padding = padding;
        Border = border;
        Fill = fill;
    }

    private RandomCrop(double fraction, BorderMode border, float fill)
    {
        _fraction = AtLeast(fraction, 1e-6, "fraction", "RandomCrop");
        Border = border;
        Fill = fill;
    }

    /// <summary>
    /// Pads by <paramref name="fraction"/> of the image's shorter side (rounded, at least 1 pixel): 0.125 gives 4 pixels
    /// at 32×32 and 28×28 and 28 at 224×224.
    /// </summary>
    public static RandomCrop Relative(double fraction, BorderMode border = BorderMode.Reflect101, float fill = 0f) => new(fraction, border, fill);

    /// <summary>The padding in pixels (0 when it is relative to the image size).</summary>
    public int Padding { get; }

    /// <summary>How the padding is filled.</summary>
    public BorderMode Border { get; }

    /// <summary>The constant of <see cref="BorderMode.Constant"/>.</summary>
    public float Fill { get; }

    /// <summary>The padding for a <paramref name="height"/>×<paramref name="width"/> image.</summary>
    public int PaddingFor(int height, int width) => Padding > 0 ? Padding : Math.Max(1, (int)Math.Round(_fraction * Math.Min(height, width)));

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        int p = PaddingFor(height, width);
        int dx = random.Next(2 * p + 1) - p, dy = random.Next(2 * p + 1) - p;
        Shift(image, channels, height, width, dx, dy, Border, Fill);
    }

    /// <summary>out[y, x] = in[y + dy, x + dx], pixels outside read through <paramref name="border"/>.</summary>
    internal static void Shift(Span<float> image, int channels, int height, int width, int dx, int dy, BorderMode border, float fill)
    {
        if (dx == 0 && dy == 0)
        {
            return;
        }
        int plane = height * width;
        var copy = Rent(plane);
        try
        {
            var src = copy.AsSpan(0, plane);
            for (int c = 0; c < channels; c++)
            {
                var dst = image.Slice(c * plane, plane);
                dst.CopyTo(src);
                for (int y = 0; y < height; y++)
                {
                    int sy = ImageWarp.BorderIndex(y + dy, height, border);
                    var row = dst.Slice(y * width, width);
                    if (sy < 0)
                    {
                        row.Fill(fill);
                        continue;
                    }
                    int from = Math.Max(0, -dx), to = Math.Min(width, width - dx);
                    if (from < to)
                    {
                        src.Slice(sy * width + from + dx, to - from).CopyTo(row.Slice(from, to - from));
                    }
                    for (int x = 0; x < width; x++)
                    {
                        if (x >= from && x < to)
                        {
                            x = to - 1;
                            continue;
                        }
                        int sx = ImageWarp.BorderIndex(x + dx, width, border);
                        row[x] = sx < 0 ? fill : src[sy * width + sx];
                    }
                }
            }
        }
        finally
        {
            Return(copy);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"RandomCrop(padding={(Padding > 0 ? Padding.ToString(CultureInfo.InvariantCulture) : $"{_fraction}·side")}, {Border})");
}

/// <summary>
/// Crops a random region of <see cref="Scale"/> of the area and aspect ratio in <see cref="Ratio"/> (log-uniform) and
/// resizes it bilinearly back to the image's size (torchvision's <c>RandomResizedCrop</c>: ten tries, then the central
/// crop of the nearest allowed ratio; no antialiasing).
/// </summary>
public sealed class RandomResizedCrop : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    /// <param name="minScale">Smallest fraction of the area kept (default 0.08, as torchvision; 0.5–0.8 suits small images).</param>
    /// <param name="maxScale">Largest fraction of the area kept (default 1).</param>
    /// <param name="minRatio">Smallest width/height ratio of the region (default 3/4).</param>
    /// <param name="maxRatio">Largest width/height ratio of the region (default 4/3).</param>
    public RandomResizedCrop(double minScale = 0.08, double maxScale = 1.0, double minRatio = 3.0 / 4, double maxRatio = 4.0 / 3)
    {
        Scale = Range((minScale, maxScale), 1e-6, "scale", "RandomResizedCrop");
        if (maxScale > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxScale), $"RandomResizedCrop: the scale must be at most 1, got {maxScale}.");
        }
        Ratio = Range((minRatio, maxRatio), 1e-6, "ratio", "RandomResizedCrop");
    }

    /// <summary>The range of the kept fraction of the area.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the region's width/height ratio.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The region (left, top, width, height) drawn for a <paramref name="height"/>×<paramref name="width"/> image.</summary>
    public (int Left, int Top, int Width, int Height) DrawRegion(int height, int width, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double area = (double)height * width;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * Uniform(random, Scale.Min, Scale.Max);
            double ratio = Math.Exp(Uniform(random, logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                return (random.Next(width - w + 1), random.Next(height - h + 1), w, h);
            }
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < Ratio.Min)
        {
            ch = (int)Math.Round(cw / Ratio.Min);
        }
        else if (inRatio > Ratio.Max)
        {
            cw = (int)Math.Round(ch * Ratio.Max);
        }
        cw = Math.Clamp(cw, 1, width);
        ch = Math.Clamp(ch, 1, height);
        return ((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        var (left, top, w, h) = DrawRegion(height, width, random);
        if (w == width && h == height)
        {
            return;
        }
        int size = channels * height * width;
        var copy = Rent(size);
        try
        {
            image.CopyTo(copy);
            ImageWarp.ResizeRegion(copy.AsSpan(0, size), channels, height, width, left, top, w, h, image, height, width);
        }
        finally
        {
            Return(copy);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RandomResizedCrop(scale=({Scale.Min}, {Scale.Max}), ratio=({Ratio.Min:G4}, {Ratio.Max:G4}))");
}

/// <summary>
/// A random affine warp about the image centre ((W − 1)/2, (H − 1)/2) with bilinear sampling: rotation by up to
/// ±<see cref="Degrees"/>, translation by up to <see cref="Translate"/> of the width and height, scaling in
/// <see cref="Scale"/> and shear by up to ±<see cref="Shear"/> degrees along x (torchvision's <c>RandomAffine</c>;
/// the map is <see cref="AffineMatrix.Compose"/>).
/// </summary>
public class RandomAffine : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    /// <param name="degrees">Largest rotation, degrees (0: none).</param>
    /// <param name="translate">Largest shift as a fraction of the width and height (0: none).</param>
    /// <param name="minScale">Smallest scale (default 1).</param>
    /// <param name="maxScale">Largest scale (default 1).</param>
    /// <param name="shear">Largest shear angle along x, degrees (0: none).</param>
    /// <param name="border">How pixels outside the image are read (default constant).</param>
    /// <param name="fill">The constant of <see cref="BorderMode.Constant"/>.</param>
    public RandomAffine(double degrees = 0, double translate = 0, double minScale = 1, double maxScale = 1, double shear = 0, BorderMode border = BorderMode.Constant, float fill = 0f)
    {
        Degrees = AtLeast(degrees, 0, "degrees", Name);
        Translate = AtLeast(translate, 0, "translate", Name);
        if (translate > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(translate), $"{Name}: translate is a fraction of the image size and must be at most 1, got {translate}.");
        }
        Scale = Range((minScale, maxScale), 1e-3, "scale", Name);
        Shear = AtLeast(shear, 0, "shear", Name);
        if (shear >= 90)
        {
            throw new ArgumentOutOfRangeException(nameof(shear), $"{Name}: shear must be below 90 degrees, got {shear}.");
        }
        Border = border;
        Fill = fill;
    }

    /// <summary>Largest rotation, degrees.</summary>
    public double Degrees { get; }

    /// <summary>Largest shift, as a fraction of the image size.</summary>
    public double Translate { get; }

    /// <summary>Scale range.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Largest shear, degrees.</summary>
    public double Shear { get; }

    /// <summary>How pixels outside the image are read.</summary>
    public BorderMode Border { get; }

    /// <summary>The constant of <see cref="BorderMode.Constant"/>.</summary>
    public float Fill { get; }

    /// <summary>The map drawn for a <paramref name="height"/>×<paramref name="width"/> image (source → destination).</summary>
    public AffineMatrix DrawMatrix(int height, int width, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double angle = Degrees > 0 ? Uniform(random, -Degrees, Degrees) : 0;
        double tx = Translate > 0 ? Math.Round(Uniform(random, -Translate, Translate) * width) : 0;
        double ty = Translate > 0 ? Math.Round(Uniform(random, -Translate, Translate) * height) : 0;
        double scale = Scale.Min < Scale.Max ? Uniform(random, Scale.Min, Scale.Max) : Scale.Min;
        double shear = Shear > 0 ? Uniform(random, -Shear, Shear) : 0;
        return AffineMatrix.Compose((width - 1) / 2.0, (height - 1) / 2.0, angle, tx, ty, scale, shear, 0);
    }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        var matrix = DrawMatrix(height, width, random);
        int size = channels * height * width;
        var copy = Rent(size);
        try
        {
            image.CopyTo(copy);
            ImageWarp.WarpAffine(copy.AsSpan(0, size), image, channels, height, width, matrix, Border, Fill);
        }
        finally
        {
            Return(copy);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}(degrees={Degrees}, translate={Translate}, scale=({Scale.Min}, {Scale.Max}), shear={Shear}, {Border})");
}

/// <summary>A random rotation by up to ±<see cref="RandomAffine.Degrees"/> about the image centre, bilinear (torchvision's <c>RandomRotation</c>).</summary>
public sealed class RandomRotation : RandomAffine
{
    /// <summary>Rotates by a uniform angle in [−<paramref name="degrees"/>, <paramref name="degrees"/>].</summary>
    public RandomRotation(double degrees, BorderMode border = BorderMode.Constant, float fill = 0f)
        : base(degrees, border: border, fill: fill)
    {
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RandomRotation(degrees={Degrees}, {Border})");
}

/// <summary>
/// Elastic deformation (Simard et al., 2003): a random displacement field, uniform in [−1, 1] per pixel, smoothed by a
/// Gaussian of standard deviation <see cref="Sigma"/> pixels and scaled by <see cref="Alpha"/>, moves each pixel; the
/// image is resampled bilinearly at the displaced positions.
/// </summary>
public sealed class ElasticDeformation : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    /// <param name="alpha">Strength of the displacement, pixels (e.g. 34 for 28×28 digits with σ = 4).</param>
    /// <param name="sigma">Smoothness of the field, pixels.</param>
    /// <param name="border">How pixels outside the image are read (default reflect).</param>
    /// <param name="fill">The constant of <see cref="BorderMode.Constant"/>.</param>
    public ElasticDeformation(double alpha = 34, double sigma = 4, BorderMode border = BorderMode.Reflect101, float fill = 0f)
    {
        Alpha = AtLeast(alpha, 0, "alpha", "ElasticDeformation");
        Sigma = AtLeast(sigma, 0.1, "sigma", "ElasticDeformation");
        Border = border;
        Fill = fill;
    }

    /// <summary>Strength, pixels.</summary>
    public double Alpha { get; }

    /// <summary>Smoothness, pixels.</summary>
    public double Sigma { get; }

    /// <summary>How pixels outside the image are read.</summary>
    public BorderMode Border { get; }

    /// <summary>The constant of <see cref="BorderMode.Constant"/>.</summary>
    public float Fill { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        int plane = height * width, size = channels * plane;
        var buffers = Rent(4 * plane + size);
        try
        {
            var mapX = buffers.AsSpan(0, plane);
            var mapY = buffers.AsSpan(plane, plane);
            var scratch = buffers.AsSpan(2 * plane, plane);
            var copy = buffers.AsSpan(4 * plane, size);
            var kernel = GaussianBlur.Kernel(Sigma, GaussianBlur.KernelSizeFor(Sigma));
            for (int map = 0; map < 2; map++)
            {
                var field = map == 0 ? mapX : mapY;
                for (int i = 0; i < plane; i++)
                {
                    field[i] = (float)Uniform(random, -1, 1);
                }
                GaussianBlur.Separable(field, scratch, height, width, kernel, BorderMode.Constant);
            }
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    mapX[i] = (float)(x + Alpha * mapX[i]);
                    mapY[i] = (float)(y + Alpha * mapY[i]);
                }
            }
            image.CopyTo(copy);
            ImageWarp.Remap(copy, image, channels, height, width, mapX, mapY, Border, Fill);
        }
        finally
        {
            Return(buffers);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ElasticDeformation(alpha={Alpha}, sigma={Sigma}, {Border})");
}
