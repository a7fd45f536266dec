using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>Which fan Kaiming initialisation preserves: the forward pass (fan-in) or the backward pass (fan-out).</summary>
public enum FanMode
{
    /// <summary>Preserves the variance of activations in the forward pass.</summary>
    FanIn,

    /// <summary>Preserves the variance of gradients in the backward pass.</summary>
    FanOut,
}

/// <summary>The non-linearity that follows a layer, for <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity
{
    /// <summary>No non-linearity (gain 1).</summary>
    Linear,

    /// <summary>A 1-D convolution (gain 1).</summary>
    Conv1d,

    /// <summary>A 2-D convolution (gain 1).</summary>
    Conv2d,

    /// <summary>A transposed 2-D convolution (gain 1).</summary>
    ConvTranspose2d,

    /// <summary>Sigmoid (gain 1).</summary>
    Sigmoid,

    /// <summary>Tanh (gain 5/3).</summary>
    Tanh,

    /// <summary>ReLU (gain √2).</summary>
    Relu,

    /// <summary>Leaky ReLU (gain √(2 / (1 + slope²)), slope 0.01 unless given).</summary>
    LeakyRelu,

    /// <summary>SELU (gain 3/4).</summary>
    Selu,
}

/// <summary>
/// Weight initialisation, with PyTorch's <c>torch.nn.init</c> definitions. Every method fills a tensor in place
/// (outside autograd) and returns it; the values are drawn from <c>random</c>, or from a generator forked off
/// <see cref="RandomSource.Shared"/> when none is given, so the same seed gives the same weights.
/// Fans follow PyTorch: for a weight of shape [out, in, k...], fan-in = in·Πk and fan-out = out·Πk.
/// </summary>
public static class Init
{
    /// <summary>
    /// The recommended gain for a non-linearity (PyTorch's <c>calculate_gain</c>); <paramref name="param"/> is the
    /// negative slope of <see cref="Nonlinearity.LeakyRelu"/> (0.01 when null).
    /// </summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Conv1d or Nonlinearity.Conv2d or Nonlinearity.ConvTranspose2d or Nonlinearity.Sigmoid => 1.0,
        Nonlinearity.Tanh => 5.0 / 3.0,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1.0 + Math.Pow(param ?? 0.01, 2))),
        Nonlinearity.Selu => 3.0 / 4.0,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), $"Unknown non-linearity {nonlinearity}."),
    };

    /// <summary>
    /// Fan-in and fan-out of a weight shape: dimension 1 and dimension 0, each times the receptive field
    /// (the product of the dimensions after the second). Needs at least two dimensions.
    /// </summary>
    public static (int FanIn, int FanOut) CalculateFans(Shape shape)
    {
        if (shape.Rank < 2)
        {
            throw new ArgumentException($"Fan in and fan out cannot be computed for a tensor of shape {shape}: it needs at least 2 dimensions.", nameof(shape));
        }
        int receptive = shape.SizeOf(2, shape.Rank);
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>
    /// Kaiming (He) uniform: U(−b, b) with b = gain·√(3 / fan), gain = <see cref="CalculateGain"/>(nonlinearity, a).
    /// PyTorch's default for convolution and linear weights is <c>a = √5</c> with leaky ReLU, i.e. b = 1/√fan_in.
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        double std = KaimingStd(tensor.Shape, a, mode, nonlinearity);
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>Kaiming (He) normal: N(0, std²) with std = gain / √fan, gain = <see cref="CalculateGain"/>(nonlinearity, a).</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Normal(tensor, 0, KaimingStd(tensor.Shape, a, mode, nonlinearity), random);
    }

    /// <summary>Xavier (Glorot) uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, fanOut) = CalculateFans(tensor.Shape);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>Xavier (Glorot) normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, fanOut) = CalculateFans(tensor.Shape);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), random);
    }

    /// <summary>Uniform values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor Uniform(Tensor tensor, double low = 0, double high = 1, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(high >= low))
        {
            throw new ArgumentException($"Init.Uniform: the range [{low}, {high}) is empty.");
        }
        var rng = random ?? RandomSource.Fork();
        var data = new float[tensor.Size];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(low + (high - low) * rng.NextDouble());
        }
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>Normally distributed values N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(std >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(std), $"Init.Normal: the standard deviation must be non-negative, got {std}.");
        }
        var data = new float[tensor.Size];
        Tensor.FillNormal(data, random ?? RandomSource.Fork(), (float)mean, (float)std);
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor tensor, float value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.Backend.Fill(tensor, value);
        tensor.MarkChanged();
        return tensor;
    }

    /// <summary>Sets every element to 0.</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0f);

    /// <summary>Sets every element to 1.</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1f);

    /// <summary>
    /// PyTorch's default initialisation of a convolution or linear layer: weight from Kaiming uniform with
    /// a = √5, i.e. U(−1/√fan_in, 1/√fan_in), then bias from U(−1/√fan_in, 1/√fan_in) with the weight's fan-in.
    /// Both draw from the same generator, weight first.
    /// </summary>
    public static void DefaultLayerInit(Tensor weight, Tensor? bias, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var rng = random ?? RandomSource.Fork();
        KaimingUniform(weight, a: Math.Sqrt(5.0), random: rng);
        if (bias != null)
        {
            var (fanIn, _) = CalculateFans(weight.Shape);
            double bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
            Uniform(bias, -bound, bound, rng);
        }
    }

    private static double KaimingStd(Shape shape, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = CalculateFans(shape);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0)
        {
            throw new ArgumentException($"Kaiming initialisation of a tensor of shape {shape}: the fan is zero.");
        }
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }
}
