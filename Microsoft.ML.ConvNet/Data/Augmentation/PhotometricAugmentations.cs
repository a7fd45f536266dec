using System.Globalization;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>Adds independent Gaussian noise of standard deviation <see cref="StdDev"/> to every pixel.</summary>
public sealed class GaussianNoise : ImageAugmentation
{
    /// <summary>Noise of standard deviation <paramref name="stdDev"/> (in the image's units) and mean <paramref name="mean"/>.</summary>
    public GaussianNoise(double stdDev, double mean = 0)
    {
        StdDev = AtLeast(stdDev, 0, "stdDev", "GaussianNoise");
        Mean = mean;
    }

    /// <summary>Standard deviation of the noise.</summary>
    public double StdDev { get; }

    /// <summary>Mean of the noise.</summary>
    public double Mean { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        for (int i = 0; i < image.Length; i++)
        {
            image[i] += (float)(Mean + StdDev * Normal(random));
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"GaussianNoise(std={StdDev}, mean={Mean})");
}

/// <summary>
/// Blurs with a Gaussian of a random standard deviation in <see cref="Sigma"/>, separable, borders reflected
/// (OpenCV's <c>GaussianBlur</c> with <c>BORDER_REFLECT_101</c>; the kernel size is
/// <see cref="KernelSize"/>, or 2·⌈3σ⌉ + 1 when 0).
/// </summary>
public sealed class GaussianBlur : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    /// <param name="kernelSize">Odd kernel size, or 0 to derive it from each drawn σ.</param>
    /// <param name="minSigma">Smallest σ, pixels (default 0.1, as torchvision).</param>
    /// <param name="maxSigma">Largest σ, pixels (default 2).</param>
    public GaussianBlur(int kernelSize = 3, double minSigma = 0.1, double maxSigma = 2.0)
    {
        if (kernelSize < 0 || (kernelSize > 0 && kernelSize % 2 == 0))
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"GaussianBlur: the kernel size must be odd (or 0 for automatic), got {kernelSize}.");
        }
        KernelSize = kernelSize;
        Sigma = Range((minSigma, maxSigma), 1e-3, "sigma", "GaussianBlur");
    }

    /// <summary>Odd kernel size (0: from σ).</summary>
    public int KernelSize { get; }

    /// <summary>Range of σ, pixels.</summary>
    public (double Min, double Max) Sigma { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        double sigma = Sigma.Min < Sigma.Max ? Uniform(random, Sigma.Min, Sigma.Max) : Sigma.Min;
        var kernel = Kernel(sigma, KernelSize > 0 ? KernelSize : KernelSizeFor(sigma));
        int plane = height * width;
        var scratch = Rent(plane);
        try
        {
            for (int c = 0; c < channels; c++)
            {
                Separable(image.Slice(c * plane, plane), scratch.AsSpan(0, plane), height, width, kernel, BorderMode.Reflect101);
            }
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>2·⌈3σ⌉ + 1.</summary>
    internal static int KernelSizeFor(double sigma) => 2 * (int)Math.Ceiling(3 * sigma) + 1;

    /// <summary>A normalised 1-D Gaussian of <paramref name="size"/> taps (OpenCV's <c>getGaussianKernel</c> for σ &gt; 0).</summary>
    public static float[] Kernel(double sigma, int size)
    {
        if (size < 1 || size % 2 == 0 || !(sigma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"GaussianBlur.Kernel: needs an odd size and σ > 0, got {size} and {sigma}.");
        }
        var k = new double[size];
        double sum = 0;
        for (int i = 0; i < size; i++)
        {
            double x = i - (size - 1) / 2.0;
            k[i] = Math.Exp(-x * x / (2 * sigma * sigma));
            sum += k[i];
        }
        return k.Select(v => (float)(v / sum)).ToArray();
    }

    /// <summary>Convolves one plane with <paramref name="kernel"/> along rows, then columns, in place (borders through <paramref name="border"/>, constant 0).</summary>
    internal static void Separable(Span<float> plane, Span<float> scratch, int height, int width, ReadOnlySpan<float> kernel, BorderMode border)
    {
        int r = kernel.Length / 2;
        for (int y = 0; y < height; y++)
        {
            var row = plane.Slice(y * width, width);
            for (int x = 0; x < width; x++)
            {
                float s = 0;
                for (int k = -r; k <= r; k++)
                {
                    int xi = ImageWarp.BorderIndex(x + k, width, border);
                    if (xi >= 0)
                    {
                        s += kernel[k + r] * row[xi];
                    }
                }
                scratch[y * width + x] = s;
            }
        }
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float s = 0;
                for (int k = -r; k <= r; k++)
                {
                    int yi = ImageWarp.BorderIndex(y + k, height, border);
                    if (yi >= 0)
                    {
                        s += kernel[k + r] * scratch[yi * width + x];
                    }
                }
                plane[y * width + x] = s;
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"GaussianBlur(kernel={KernelSize}, sigma=({Sigma.Min}, {Sigma.Max}))");
}

/// <summary>
/// Random brightness, contrast and saturation, in this order (torchvision's <c>ColorJitter</c> without hue, in a fixed
/// order): brightness multiplies every pixel by b ∈ [1 − B, 1 + B]; contrast blends with the image's mean grey level,
/// m + c·(x − m), c ∈ [1 − C, 1 + C]; saturation blends each RGB pixel with its grey level (0.299 R + 0.587 G + 0.114 B),
/// g + s·(x − g), s ∈ [1 − S, 1 + S], and leaves one-channel images alone. Values are not clipped, so the transform
/// also suits normalised images.
/// </summary>
public sealed class ColorJitter : ImageAugmentation
{
    /// <summary>Creates the transform; each amount in [0, 1] (0: that change is off).</summary>
    public ColorJitter(double brightness = 0, double contrast = 0, double saturation = 0)
    {
        Brightness = Amount(brightness, nameof(brightness));
        Contrast = Amount(contrast, nameof(contrast));
        Saturation = Amount(saturation, nameof(saturation));
    }

    private static double Amount(double value, string name)
    {
        AtLeast(value, 0, name, "ColorJitter");
        return value <= 1 ? value : throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture, $"ColorJitter: {name} must be in [0, 1], got {value}."));
    }

    /// <summary>Largest relative change of brightness.</summary>
    public double Brightness { get; }

    /// <summary>Largest relative change of contrast.</summary>
    public double Contrast { get; }

    /// <summary>Largest relative change of saturation.</summary>
    public double Saturation { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        int plane = height * width;
        if (Brightness > 0)
        {
            float b = (float)Uniform(random, 1 - Brightness, 1 + Brightness);
            for (int i = 0; i < image.Length; i++)
            {
                image[i] *= b;
            }
        }
        if (Contrast > 0)
        {
            float c = (float)Uniform(random, 1 - Contrast, 1 + Contrast);
            double mean = 0;
            for (int i = 0; i < plane; i++)
            {
                mean += Grey(image, channels, plane, i);
            }
            float m = (float)(mean / plane);
            for (int i = 0; i < image.Length; i++)
            {
                image[i] = m + c * (image[i] - m);
            }
        }
        if (Saturation > 0 && channels == 3)
        {
            float s = (float)Uniform(random, 1 - Saturation, 1 + Saturation);
            for (int i = 0; i < plane; i++)
            {
                float g = Grey(image, channels, plane, i);
                for (int c = 0; c < 3; c++)
                {
                    image[c * plane + i] = g + s * (image[c * plane + i] - g);
                }
            }
        }
    }

    private static float Grey(Span<float> image, int channels, int plane, int i)
        => channels >= 3 ? 0.299f * image[i] + 0.587f * image[plane + i] + 0.114f * image[2 * plane + i] : image[i];

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ColorJitter(brightness={Brightness}, contrast={Contrast}, saturation={Saturation})");
}

/// <summary>
/// Occlusion (cutout, random erasing; Zhong et al., 2020): with probability 0.5 by default, a rectangle of
/// <see cref="Scale"/> of the area and aspect ratio in <see cref="Ratio"/> (log-uniform) is set to <see cref="Value"/>,
/// or to standard normal noise when <see cref="Value"/> is null (torchvision's <c>RandomErasing</c>).
/// </summary>
public sealed class RandomErasing : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    public RandomErasing(double probability = 0.5, double minScale = 0.02, double maxScale = 0.33, double minRatio = 0.3, double maxRatio = 3.3, float? value = 0f)
    {
        Probability = probability;
        Scale = Range((minScale, maxScale), 1e-6, "scale", "RandomErasing");
        if (maxScale > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxScale), $"RandomErasing: the scale must be at most 1, got {maxScale}.");
        }
        Ratio = Range((minRatio, maxRatio), 1e-6, "ratio", "RandomErasing");
        Value = value;
    }

    /// <summary>The range of the erased fraction of the area.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the rectangle's width/height ratio.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The value written, or null for standard normal noise.</summary>
    public float? Value { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        double area = (double)height * width;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * Uniform(random, Scale.Min, Scale.Max);
            double ratio = Math.Exp(Uniform(random, Math.Log(Ratio.Min), Math.Log(Ratio.Max)));
            int h = (int)Math.Round(Math.Sqrt(target * ratio));
            int w = (int)Math.Round(Math.Sqrt(target / ratio));
            if (h < 1 || w < 1 || h >= height || w >= width)
            {
                continue;
            }
            int top = random.Next(height - h + 1), left = random.Next(width - w + 1);
            for (int c = 0; c < channels; c++)
            {
                for (int y = top; y < top + h; y++)
                {
                    var row = image.Slice((c * height + y) * width + left, w);
                    if (Value is float v)
                    {
                        row.Fill(v);
                    }
                    else
                    {
                        for (int x = 0; x < w; x++)
                        {
                            row[x] = (float)Normal(random);
                        }
                    }
                }
            }
            return;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"RandomErasing(p={Probability}, scale=({Scale.Min}, {Scale.Max}), ratio=({Ratio.Min}, {Ratio.Max}), value={(Value is float v ? v.ToString(CultureInfo.InvariantCulture) : "noise")})");
}

/// <summary>
/// Puts an image with an alpha mask on a random background: the last channel is the mask α in [0, 1], the others the
/// colour; each colour channel becomes α·x + (1 − α)·background and the mask becomes 1 (opaque, as the images seen at
/// prediction time are). The background is a random uniform colour in [<see cref="Min"/>, <see cref="Max"/>] per
/// channel, uniform noise in that range when <see cref="Noise"/> is set, or one of <see cref="Backgrounds"/> (each
/// [C − 1, H, W]) when given.
/// </summary>
public sealed class RandomBackground : ImageAugmentation
{
    /// <summary>Creates the transform.</summary>
    /// <param name="min">Lowest background value (default 0).</param>
    /// <param name="max">Highest background value (default 1).</param>
    /// <param name="noise">A noise background instead of a plain colour.</param>
    /// <param name="backgrounds">Background images [C − 1, H, W] to choose from instead (null: random colours or noise).</param>
    public RandomBackground(float min = 0f, float max = 1f, bool noise = false, IReadOnlyList<float[]>? backgrounds = null)
    {
        if (!(min <= max) || !float.IsFinite(min) || !float.IsFinite(max))
        {
            throw new ArgumentOutOfRangeException(nameof(min), string.Create(CultureInfo.InvariantCulture, $"RandomBackground: needs finite min <= max, got {min} and {max}."));
        }
        if (backgrounds is { Count: 0 })
        {
            throw new ArgumentException("RandomBackground: the list of backgrounds is empty.", nameof(backgrounds));
        }
        Min = min;
        Max = max;
        Noise = noise;
        Backgrounds = backgrounds;
    }

    /// <summary>Lowest background value.</summary>
    public float Min { get; }

    /// <summary>Highest background value.</summary>
    public float Max { get; }

    /// <summary>Noise instead of a plain colour.</summary>
    public bool Noise { get; }

    /// <summary>Background images to choose from, or null.</summary>
    public IReadOnlyList<float[]>? Backgrounds { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        if (channels < 2)
        {
            throw new ArgumentException($"RandomBackground: needs colour channels and an alpha mask as the last channel, got {channels} channel(s).");
        }
        int plane = height * width, colours = channels - 1;
        var alpha = image.Slice(colours * plane, plane);
        float[]? background = null;
        if (Backgrounds != null)
        {
            background = Backgrounds[random.Next(Backgrounds.Count)];
            if (background.Length != colours * plane)
            {
                throw new ArgumentException($"RandomBackground: a background of {background.Length} values is not a [{colours}, {height}, {width}] image.");
            }
        }
        for (int c = 0; c < colours; c++)
        {
            float colour = Min + (Max - Min) * (float)random.NextDouble();
            var x = image.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                float bg = background != null ? background[c * plane + i] : Noise ? Min + (Max - Min) * (float)random.NextDouble() : colour;
                float a = alpha[i];
                x[i] = a * x[i] + (1 - a) * bg;
            }
        }
        alpha.Fill(1f);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"RandomBackground({(Backgrounds != null ? $"{Backgrounds.Count} images" : Noise ? "noise" : "colour")} in [{Min}, {Max}])");
}
