using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>Settings every zoo model takes.</summary>
/// <param name="NumClasses">Outputs of the classifier.</param>
/// <param name="InputChannels">Channels of the input image (1 for grayscale, 3 for RGB).</param>
/// <param name="SmallInput">
/// The small-image stem for 28–32 px inputs: a 3×3 stride-1 first convolution and no initial max-pool (where the
/// architecture has a large strided stem).
/// </param>
public sealed record ModelOptions(int NumClasses = 1000, int InputChannels = 3, bool SmallInput = false);

/// <summary>
/// The architectures by name (case-insensitive), e.g. <c>ModelZoo.Create("resnet18", new ModelOptions(10, 1, SmallInput: true))</c>.
/// Each family registers its models in its own file.
/// </summary>
public static partial class ModelZoo
{
    private static readonly Dictionary<string, Func<ModelOptions, Module>> Registry = Build();

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = Registry.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Builds the named architecture; an unknown name gives an error listing the known ones.</summary>
    public static Module Create(string name, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Registry.TryGetValue(name, out var factory))
        {
            throw new ArgumentException($"Unknown architecture '{name}'. Known: {string.Join(", ", Names)}.", nameof(name));
        }
        return factory(options ?? new ModelOptions());
    }

    private static Dictionary<string, Func<ModelOptions, Module>> Build()
    {
        var models = new Dictionary<string, Func<ModelOptions, Module>>(StringComparer.OrdinalIgnoreCase)
        {
            ["lenet5"] = o => LeNet5.Create(o.NumClasses, o.InputChannels, padInputTo32: o.SmallInput),
            ["smallcnn"] = o => SmallCnn.Create(o.NumClasses, o.InputChannels),
        };
        RegisterClassic(models);
        RegisterResidual(models);
        RegisterMobile(models);
        return models;
    }

    /// <summary>AlexNet, ZFNet, VGG, GoogLeNet, Inception v3, SqueezeNet.</summary>
    static partial void RegisterClassic(Dictionary<string, Func<ModelOptions, Module>> models);

    /// <summary>ResNet, ResNeXt, Wide ResNet, SE-ResNet, DenseNet.</summary>
    static partial void RegisterResidual(Dictionary<string, Func<ModelOptions, Module>> models);

    /// <summary>MobileNet v1/v2/v3, ShuffleNet v2, EfficientNet-B0, Xception.</summary>
    static partial void RegisterMobile(Dictionary<string, Func<ModelOptions, Module>> models);
}
