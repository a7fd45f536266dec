using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

public static partial class ModelZoo
{
    static partial void RegisterResidual(Dictionary<string, Func<ModelOptions, Module>> models)
    {
        models["resnet18"] = ResNet.ResNet18;
        models["resnet34"] = ResNet.ResNet34;
        models["resnet50"] = ResNet.ResNet50;
        models["resnet101"] = ResNet.ResNet101;
        models["resnet152"] = ResNet.ResNet152;
        models["resnext50_32x4d"] = ResNet.ResNeXt50_32x4d;
        models["wide_resnet50_2"] = ResNet.WideResNet50_2;
        models["se_resnet50"] = ResNet.SeResNet50;
        models["densenet121"] = DenseNet.DenseNet121;
        models["densenet169"] = DenseNet.DenseNet169;
    }
}
