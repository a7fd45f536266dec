using System.Buffers;
using System.Globalization;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>
/// A random change of one image, laid out [C, H, W] (planar float pixels), made in place: the base of the built-in
/// augmentations (<see cref="RandomHorizontalFlip"/>, <see cref="RandomCrop"/>, <see cref="RandomRotation"/>, ...)
/// and of user-written ones. Every random choice is drawn from the <see cref="Random"/> passed in, so the same generator
/// state gives the same result. <see cref="Compose"/> chains augmentations; an augmentation converts to the batch
/// loader's <see cref="BatchAugmentation"/>, which applies it to every sample of each training batch on the loader's
/// thread (<c>TrainingOptions.Augmentation = new Compose(new RandomCrop(4), new RandomHorizontalFlip())</c>).
/// Augmentations are never applied at evaluation or prediction.
/// </summary>
public abstract class ImageAugmentation
{
    private readonly double _probability = 1;

    /// <summary>
    /// The probability that <see cref="Apply"/> changes an image (default 1; 0.5 for the flips and
    /// <see cref="RandomErasing"/>). Below 1 one uniform number is drawn per image to decide.
    /// </summary>
    public double Probability
    {
        get => _probability;
        init
        {
            if (!(value >= 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(Probability), $"{GetType().Name}: Probability must be in [0, 1], got {value}.");
            }
            _probability = value;
        }
    }

    /// <summary>
    /// Changes <paramref name="image"/> (<paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>
    /// values, planar) in place with probability <see cref="Probability"/>, drawing from <paramref name="random"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The span does not hold such an image, or the transform cannot handle it (named in the message).</exception>
    public void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (channels < 1 || height < 1 || width < 1 || image.Length != (long)channels * height * width)
        {
            throw new ArgumentException($"{Name}: {image.Length} values are not a [{channels}, {height}, {width}] image.", nameof(image));
        }
        if (_probability < 1 && !(random.NextDouble() < _probability))
        {
            return;
        }
        Transform(image, channels, height, width, random);
    }

    /// <summary>Changes the image unconditionally (the work of <see cref="Apply"/> once the probability has said yes).</summary>
    protected abstract void Transform(Span<float> image, int channels, int height, int width, Random random);

    /// <summary>The name used in messages (the type's name by default).</summary>
    protected virtual string Name => GetType().Name;

    /// <summary>
    /// The batch loader's hook for this augmentation: applied to each sample of a batch [N, C, H, W] (or [N, H, W], one
    /// channel) in order, all drawing from the batch's generator, so a batch depends only on the loader's seed, the
    /// epoch and the batch index.
    /// </summary>
    public BatchAugmentation ToBatchAugmentation() => (images, labels, shape, random) =>
    {
        var (n, c, h, w) = SampleLayout(shape, Name);
        int size = c * h * w;
        for (int i = 0; i < n; i++)
        {
            Apply(images.Slice(i * size, size), c, h, w, random);
        }
    };

    /// <summary>The same as <see cref="ToBatchAugmentation"/>.</summary>
    public static implicit operator BatchAugmentation(ImageAugmentation augmentation)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        return augmentation.ToBatchAugmentation();
    }

    /// <summary>Describes the augmentation, e.g. <c>RandomRotation(degrees=10, p=1)</c>.</summary>
    public override string ToString() => _probability < 1 ? string.Create(CultureInfo.InvariantCulture, $"{Name}(p={_probability})") : Name;

    /// <summary>(N, C, H, W) of a batch shape [N, C, H, W] or [N, H, W].</summary>
    internal static (int N, int C, int H, int W) SampleLayout(Shape shape, string who) => shape.Rank switch
    {
        4 => (shape[0], shape[1], shape[2], shape[3]),
        3 => (shape[0], 1, shape[1], shape[2]),
        _ => throw new ArgumentException($"{who}: image augmentation needs batches of [N, C, H, W] or [N, H, W] images, got {shape}."),
    };

    /// <summary>Rents a scratch buffer of at least <paramref name="length"/> floats (return it with <see cref="Return"/>).</summary>
    protected static float[] Rent(int length) => ArrayPool<float>.Shared.Rent(length);

    /// <summary>Returns a buffer from <see cref="Rent"/>.</summary>
    protected static void Return(float[] buffer) => ArrayPool<float>.Shared.Return(buffer);

    /// <summary>A uniform number in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    protected static double Uniform(Random random, double min, double max) => min + (max - min) * random.NextDouble();

    /// <summary>A standard normal number (Box–Muller, one value per two uniforms).</summary>
    protected static double Normal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Throws unless <paramref name="value"/> is a finite number at least <paramref name="min"/>.</summary>
    protected static double AtLeast(double value, double min, string what, string who)
    {
        if (!(value >= min) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(what, string.Create(CultureInfo.InvariantCulture, $"{who}: {what} must be a finite number >= {min}, got {value}."));
        }
        return value;
    }

    /// <summary>Throws unless min ≤ max, both finite and at least <paramref name="lowest"/>.</summary>
    protected static (double Min, double Max) Range((double Min, double Max) range, double lowest, string what, string who)
    {
        AtLeast(range.Min, lowest, what, who);
        AtLeast(range.Max, lowest, what, who);
        if (range.Min > range.Max)
        {
            throw new ArgumentOutOfRangeException(what, string.Create(CultureInfo.InvariantCulture, $"{who}: {what} ({range.Min}, {range.Max}) has its minimum above its maximum."));
        }
        return range;
    }
}

/// <summary>
/// Augmentations applied one after the other, each with its own <see cref="ImageAugmentation.Probability"/>
/// (torchvision's <c>Compose</c>); the pipeline's own probability gates the whole chain.
/// <code>
/// var augment = new Compose(new RandomCrop(4, BorderMode.Reflect101), new RandomHorizontalFlip(), new RandomRotation(10) { Probability = 0.3 });
/// </code>
/// </summary>
public sealed class Compose : ImageAugmentation
{
    /// <summary>Chains <paramref name="steps"/> in order.</summary>
    public Compose(params IEnumerable<ImageAugmentation> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Steps = steps.ToArray();
        for (int i = 0; i < Steps.Count; i++)
        {
            if (Steps[i] is null)
            {
                throw new ArgumentNullException(nameof(steps), $"Compose: step {i} is null.");
            }
        }
    }

    /// <summary>The augmentations, in the order they run.</summary>
    public IReadOnlyList<ImageAugmentation> Steps { get; }

    /// <inheritdoc/>
    protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
    {
        foreach (var step in Steps)
        {
            step.Apply(image, channels, height, width, random);
        }
    }

    /// <summary>The steps, e.g. <c>Compose(RandomCrop(padding=4, Reflect), RandomHorizontalFlip(p=0.5))</c>.</summary>
    public override string ToString() => $"Compose({string.Join(", ", Steps)})";
}
