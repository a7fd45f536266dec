using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

public static partial class ModelZoo
{
    static partial void RegisterMobile(Dictionary<string, Func<ModelOptions, Module>> models)
    {
        models["mobilenet_v1"] = o => MobileNetV1.Create(o);
        models["mobilenet_v2"] = o => MobileNetV2.Create(o);
        models["mobilenet_v3_small"] = o => MobileNetV3.Small(o);
        models["mobilenet_v3_large"] = o => MobileNetV3.Large(o);
        models["shufflenet_v2_x1_0"] = o => ShuffleNetV2.X1_0(o);
        models["efficientnet_b0"] = o => EfficientNet.B0(o);
        models["xception"] = o => Xception.Create(o);
    }
}
