using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// (x − mean[c]) / std[c] for each channel of [N, C, H, W] images (torchvision's <c>Normalize</c> as a layer), so that a
/// network sees inputs of zero mean and unit variance whatever the pixels' range. Mean and standard deviation are buffers:
/// saved with the network, exported to ONNX, never trained. <see cref="ConvNetTrainer"/> puts one, measured on the
/// training images, in front of every network it trains from scratch.
/// </summary>
public sealed class InputStandardization : Module
{
    /// <summary>Creates the layer from per-channel means and standard deviations (each positive and finite).</summary>
    public InputStandardization(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
        {
            throw new ArgumentException($"InputStandardization: needs one mean and one standard deviation per channel, got {mean.Length} and {std.Length}.", nameof(std));
        }
        for (int c = 0; c < mean.Length; c++)
        {
            if (!float.IsFinite(mean[c]) || !(std[c] > 0) || !float.IsFinite(std[c]))
            {
                throw new ArgumentOutOfRangeException(nameof(std), $"InputStandardization: channel {c} has mean {mean[c]} and standard deviation {std[c]}; both must be finite and the deviation positive.");
            }
        }
        Channels = mean.Length;
        Mean = RegisterBuffer("mean", Tensor.FromArray(mean, new Shape(1, mean.Length, 1, 1)));
        Std = RegisterBuffer("std", Tensor.FromArray(std, new Shape(1, std.Length, 1, 1)));
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Per-channel means [1, C, 1, 1].</summary>
    public Tensor Mean { get; }

    /// <summary>Per-channel standard deviations [1, C, 1, 1].</summary>
    public Tensor Std { get; }

    /// <summary>
    /// Measures each channel's mean and (population) standard deviation over all pixels of <paramref name="images"/>
    /// ([C, H, W] samples). A channel without variation gets deviation 1, so that it is only shifted.
    /// </summary>
    public static InputStandardization Measure(ImageDataset images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.SampleShape.Rank != 3 || images.Count == 0)
        {
            throw new ArgumentException($"InputStandardization.Measure: needs [C, H, W] images, got {images}.", nameof(images));
        }
        int channels = images.SampleShape[0];
        int plane = images.SampleSize / channels;
        var sum = new double[channels];
        var squares = new double[channels];
        var data = images.Images.AsSpan();
        for (int i = 0; i < images.Count; i++)
        {
            for (int c = 0; c < channels; c++)
            {
                var pixels = data.Slice((i * channels + c) * plane, plane);
                double s = 0, q = 0;
                foreach (float v in pixels)
                {
                    s += v;
                    q += (double)v * v;
                }
                sum[c] += s;
                squares[c] += q;
            }
        }
        double n = (double)images.Count * plane;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / n;
            double deviation = Math.Sqrt(Math.Max(0, squares[c] / n - m * m));
            mean[c] = (float)m;
            std[c] = deviation > 1e-6 ? (float)deviation : 1f;
        }
        return new InputStandardization(mean, std);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, $"[N, {Channels}, H, W]", 4);
        LayerChecks.Channels(this, input, Channels);
        return (input - Mean) / Std;
    }

    /// <inheritdoc/>
    public override string ToString() => $"InputStandardization(channels {Channels})";
}
