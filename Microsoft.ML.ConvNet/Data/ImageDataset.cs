using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Data;

/// <summary>
/// A labelled image set held in memory: images as one float array laid out <c>[N, C, H, W]</c> (or any
/// per-sample shape), one class index per image, and the class names. The input of <see cref="BatchLoader"/>
/// and of the training loop.
/// </summary>
public sealed class ImageDataset
{
    private readonly string[] _classNames;

    /// <summary>
    /// Creates a data set over <paramref name="images"/> (not copied) holding <c>labels.Length</c> samples of
    /// <paramref name="sampleShape"/> each.
    /// </summary>
    /// <param name="images">The pixels, sample after sample, each laid out as <paramref name="sampleShape"/>.</param>
    /// <param name="sampleShape">The shape of one sample, e.g. <c>[1, 28, 28]</c>.</param>
    /// <param name="labels">The class index of each sample, in <c>[0, classNames.Count)</c>.</param>
    /// <param name="classNames">One name per class.</param>
    public ImageDataset(float[] images, Shape sampleShape, int[] labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0)
        {
            throw new ArgumentException("An image data set needs at least one class name.", nameof(classNames));
        }
        if ((long)labels.Length * sampleShape.Size != images.Length)
        {
            throw new ArgumentException(
                $"{labels.Length} labels of samples {sampleShape} need {(long)labels.Length * sampleShape.Size} image values, got {images.Length}.", nameof(images));
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classNames.Count}).", nameof(labels));
            }
        }
        Images = images;
        SampleShape = sampleShape;
        Labels = labels;
        _classNames = classNames.ToArray();
    }

    /// <summary>The pixels, <c>[N, ...SampleShape]</c> row-major.</summary>
    public float[] Images { get; }

    /// <summary>The shape of one sample, e.g. <c>[1, 28, 28]</c>.</summary>
    public Shape SampleShape { get; }

    /// <summary>The shape of the whole image array, <c>[N, ...SampleShape]</c>.</summary>
    public Shape Shape => new([Count, .. SampleShape.Dims]);

    /// <summary>Elements per sample.</summary>
    public int SampleSize => SampleShape.Size;

    /// <summary>The class index of each sample.</summary>
    public int[] Labels { get; }

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>Number of classes.</summary>
    public int ClassCount => _classNames.Length;

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> GetImage(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Sample {index} is outside [0, {Count}).");
        }
        return Images.AsSpan(index * SampleSize, SampleSize);
    }

    /// <summary>A new data set holding copies of the samples at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int s = SampleSize;
        var images = new float[(long)indices.Count * s];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int j = indices[i];
            if ((uint)j >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: index {j} is outside [0, {Count}).");
            }
            Images.AsSpan(j * s, s).CopyTo(images.AsSpan(i * s, s));
            labels[i] = Labels[j];
        }
        return new ImageDataset(images, SampleShape, labels, _classNames);
    }

    /// <summary>The first <paramref name="count"/> samples (all of them when there are fewer).</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Subset(Enumerable.Range(0, Math.Min(count, Count)).ToArray());
    }

    /// <summary>
    /// <paramref name="count"/> samples drawn without replacement with a generator seeded by <paramref name="seed"/>
    /// (same seed ⇒ same samples), kept in their original order.
    /// </summary>
    public ImageDataset RandomSubset(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Subset(SampleIndices(Count, count, seed));
    }

    /// <summary>
    /// A copy with every value mapped to <c>(x − mean) / std</c>.
    /// </summary>
    public ImageDataset Normalize(float mean, float std)
    {
        if (!(std > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(std), $"Normalize: the standard deviation must be positive, got {std}.");
        }
        var images = (float[])Images.Clone();
        NormalizeInPlace(images, mean, std);
        return new ImageDataset(images, SampleShape, Labels, _classNames);
    }

    /// <summary>Number of samples of each class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int l in Labels)
        {
            counts[l]++;
        }
        return counts;
    }

    /// <summary>All images as one tensor <c>[N, ...SampleShape]</c> (a copy; dispose it).</summary>
    public Tensor ToTensor(Device? device = null) => Tensor.FromArray(Images, Shape, device);

    /// <inheritdoc/>
    public override string ToString() => $"ImageDataset({Count} samples of {SampleShape}, {ClassCount} classes)";

    internal static void NormalizeInPlace(Span<float> values, float mean, float std)
    {
        float scale = 1f / std, shift = -mean / std;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = values[i] * scale + shift;
        }
    }

    /// <summary><paramref name="count"/> distinct indices of [0, n) chosen by a seeded partial Fisher–Yates shuffle, sorted.</summary>
    internal static int[] SampleIndices(int n, int count, int seed)
    {
        count = Math.Min(count, n);
        var all = Enumerable.Range(0, n).ToArray();
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int j = rng.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var chosen = all.AsSpan(0, count).ToArray();
        Array.Sort(chosen);
        return chosen;
    }
}
