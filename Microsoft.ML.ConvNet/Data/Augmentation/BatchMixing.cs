using System.Globalization;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>
/// A batch-level augmentation that mixes samples and their labels: it changes the images of a batch in place and
/// writes soft targets (a probability per class and sample), which the training loop then uses with a soft-target loss
/// (<see cref="Losses.Loss.SoftTargetCrossEntropy"/> by default). Set on <c>TrainingOptions.Mixing</c> or
/// <c>BatchLoaderOptions.Mixing</c>; runs on the loader's thread after the per-sample augmentation.
/// </summary>
public abstract class BatchMixing
{
    /// <summary>Creates the mixing with Beta(<paramref name="alpha"/>, <paramref name="alpha"/>) mixing weights.</summary>
    protected BatchMixing(double alpha)
    {
        if (!(alpha > 0) || !double.IsFinite(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}: alpha must be a positive number, got {alpha}."));
        }
        Alpha = alpha;
    }

    /// <summary>The Beta distribution's parameter: λ ~ Beta(α, α).</summary>
    public double Alpha { get; }

    /// <summary>
    /// Mixes <paramref name="images"/> [N, C, H, W] in place and writes the targets [N, <paramref name="classes"/>].
    /// </summary>
    /// <param name="images">The batch, N·C·H·W values.</param>
    /// <param name="labels">The class of each sample.</param>
    /// <param name="targets">Receives N·classes probabilities.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="random">The batch's generator.</param>
    public void Mix(Span<float> images, ReadOnlySpan<int> labels, Span<float> targets, int channels, int height, int width, int classes, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int n = labels.Length;
        if (images.Length != (long)n * channels * height * width || targets.Length != (long)n * classes || classes < 1)
        {
            throw new ArgumentException($"{GetType().Name}: {images.Length} image values and {targets.Length} target values do not fit {n} samples of [{channels}, {height}, {width}] and {classes} classes.");
        }
        targets.Clear();
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentException($"{GetType().Name}: label {labels[i]} of sample {i} is outside [0, {classes}).");
            }
        }
        // A random pairing: sample i is mixed with sample partner[i] (a copy of the batch is read, so pairs may repeat).
        var partner = new int[n];
        for (int i = 0; i < n; i++)
        {
            partner[i] = i;
        }
        random.Shuffle(partner);
        double lambda = SampleBeta(random, Alpha);
        int size = channels * height * width;
        var copy = images.ToArray();
        for (int i = 0; i < n; i++)
        {
            double kept = MixPair(images.Slice(i * size, size), copy.AsSpan(partner[i] * size, size), channels, height, width, lambda, random);
            targets[i * classes + labels[i]] += (float)kept;
            targets[i * classes + labels[partner[i]]] += (float)(1 - kept);
        }
    }

    /// <summary>
    /// Mixes <paramref name="other"/> into <paramref name="image"/> with weight λ = <paramref name="lambda"/> for the
    /// image's own content and returns the weight of its own label.
    /// </summary>
    protected abstract double MixPair(Span<float> image, ReadOnlySpan<float> other, int channels, int height, int width, double lambda, Random random);

    /// <summary>A draw from Beta(a, a), from two Gamma(a) draws (Marsaglia and Tsang).</summary>
    public static double SampleBeta(Random random, double a)
    {
        ArgumentNullException.ThrowIfNull(random);
        double x = SampleGamma(random, a), y = SampleGamma(random, a);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    private static double SampleGamma(Random random, double a)
    {
        if (a < 1)
        {
            double u = random.NextDouble();
            return SampleGamma(random, a + 1) * Math.Pow(u, 1 / a);
        }
        double d = a - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                x = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = random.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
            {
                return d * v;
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}(alpha={Alpha})");
}

/// <summary>
/// Mixup (Zhang et al., 2018): each image becomes λ·x + (1 − λ)·x' with another image x' of the batch, and its target
/// λ·y + (1 − λ)·y', with one λ ~ Beta(α, α) per batch.
/// </summary>
public sealed class Mixup : BatchMixing
{
    /// <summary>Mixup with λ ~ Beta(<paramref name="alpha"/>, <paramref name="alpha"/>) (default 0.2).</summary>
    public Mixup(double alpha = 0.2)
        : base(alpha)
    {
    }

    /// <inheritdoc/>
    protected override double MixPair(Span<float> image, ReadOnlySpan<float> other, int channels, int height, int width, double lambda, Random random)
    {
        float l = (float)lambda, m = 1 - l;
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = l * image[i] + m * other[i];
        }
        return lambda;
    }
}

/// <summary>
/// CutMix (Yun et al., 2019): a rectangle covering about 1 − λ of each image (λ ~ Beta(α, α) per batch, the rectangle
/// centred uniformly and clipped to the image) is replaced by the same rectangle of another image of the batch; the
/// target mixes the two labels by the exact areas.
/// </summary>
public sealed class CutMix : BatchMixing
{
    /// <summary>CutMix with λ ~ Beta(<paramref name="alpha"/>, <paramref name="alpha"/>) (default 1: uniform).</summary>
    public CutMix(double alpha = 1.0)
        : base(alpha)
    {
    }

    /// <inheritdoc/>
    protected override double MixPair(Span<float> image, ReadOnlySpan<float> other, int channels, int height, int width, double lambda, Random random)
    {
        double cut = Math.Sqrt(1 - lambda);
        int cw = (int)(width * cut), ch = (int)(height * cut);
        int cx = random.Next(width), cy = random.Next(height);
        int x0 = Math.Clamp(cx - cw / 2, 0, width), x1 = Math.Clamp(cx + cw / 2, 0, width);
        int y0 = Math.Clamp(cy - ch / 2, 0, height), y1 = Math.Clamp(cy + ch / 2, 0, height);
        if (x1 <= x0 || y1 <= y0)
        {
            return 1;
        }
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            for (int y = y0; y < y1; y++)
            {
                int o = c * plane + y * width;
                other.Slice(o + x0, x1 - x0).CopyTo(image.Slice(o + x0, x1 - x0));
            }
        }
        return 1 - (double)(x1 - x0) * (y1 - y0) / plane;
    }
}
