using Microsoft.ML.ConvNet.Layers;

namespace Microsoft.ML.ConvNet.Models;

public static partial class ModelZoo
{
    static partial void RegisterClassic(Dictionary<string, Func<ModelOptions, Module>> models)
    {
        models["alexnet"] = o => AlexNet.Create(o.NumClasses, o.InputChannels, o.SmallInput);
        models["alexnet_lrn"] = o => AlexNet.CreateWithLrn(o.NumClasses, o.InputChannels, o.SmallInput);
        models["zfnet"] = o => AlexNet.CreateZFNet(o.NumClasses, o.InputChannels, o.SmallInput);
        models["vgg11"] = o => Vgg.Vgg11(o.NumClasses, o.InputChannels);
        models["vgg11_bn"] = o => Vgg.Vgg11(o.NumClasses, o.InputChannels, batchNorm: true);
        models["vgg13"] = o => Vgg.Vgg13(o.NumClasses, o.InputChannels);
        models["vgg13_bn"] = o => Vgg.Vgg13(o.NumClasses, o.InputChannels, batchNorm: true);
        models["vgg16"] = o => Vgg.Vgg16(o.NumClasses, o.InputChannels);
        models["vgg16_bn"] = o => Vgg.Vgg16(o.NumClasses, o.InputChannels, batchNorm: true);
        models["vgg19"] = o => Vgg.Vgg19(o.NumClasses, o.InputChannels);
        models["vgg19_bn"] = o => Vgg.Vgg19(o.NumClasses, o.InputChannels, batchNorm: true);
        models["googlenet"] = o => new GoogLeNet(o.NumClasses, o.InputChannels, auxLogits: true, smallInput: o.SmallInput);
        models["inception_v3"] = o => new InceptionV3(o.NumClasses, o.InputChannels, auxLogits: true, smallInput: o.SmallInput);
        models["squeezenet1_0"] = o => SqueezeNet.SqueezeNet1_0(o.NumClasses, o.InputChannels, o.SmallInput);
        models["squeezenet1_1"] = o => SqueezeNet.SqueezeNet1_1(o.NumClasses, o.InputChannels, o.SmallInput);
    }
}
