// Transfer learning on a small target set: the four scenarios next to training from scratch, one table.
//   dotnet run -c Release --project samples/TransferLearning [-- --train 500 --test 300 --epochs 3]
// The target task is Fashion-MNIST (bundled) with few labelled images, turned into 3-channel images that ML.NET resizes
// to the 224×224 the ImageNet-trained ResNet-18 (NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18) expects.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.ConvNet;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

int trainCount = Option("--train", 500), testCount = Option("--test", 300), epochs = Option("--epochs", 3);
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadFromEnumerable(Garments(DatasetSplit.Train, trainCount));
var test = ml.Data.LoadFromEnumerable(Garments(DatasetSplit.Test, testCount));
var resnet = PretrainedModel.ResNet18ImageNet;
var layers = resnet.LayerNames();
string lastBlock = layers[layers.Count * 3 / 4]; // fine-tune the last quarter of the layers
Console.WriteLine($"{trainCount} training and {testCount} test images; ResNet-18 (ImageNet) has {layers.Count} layers with weights; scenario 2/3 trains from '{lastBlock}' on.");

// Shared steps: the class name as a key, and the 3×28×28 pixels as an image (the trainer resizes it to 224×224).
var prepare = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
    .Append(ml.Transforms.ConvertToImage(28, 28, "Image", "Pixels", ImagePixelExtractingEstimator.ColorBits.Rgb));

var rows = new List<(string Scenario, double Accuracy, TimeSpan Time)>
{
    Run("1. fixed features + ML.NET's L-BFGS maximum entropy", prepare
        .Append(ml.Transforms.ResizeImages("Image", 224, 224))
        .Append(ml.Transforms.ConvNetFeaturize("Embedding", "Image", resnet))
        .AppendCacheCheckpoint(ml) // the trainer reads its data many times: featurize once
        .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Embedding"))),
    Run("1. fixed features, new head trained (HeadOnly)", prepare.Append(Trainer(resnet, FineTuning.HeadOnly, headRate: 1e-2f))),
    Run($"2/3. fine-tune from {lastBlock} (From)", prepare.Append(Trainer(resnet, FineTuning.From(lastBlock), bodyRate: 1e-4f))),
    Run("4. fine-tune every layer (All)", prepare.Append(Trainer(resnet, FineTuning.All, bodyRate: 1e-4f))),
    Run("from scratch: resnet18, random weights", prepare.Append(Trainer(null, FineTuning.All))),
};

Console.WriteLine();
Console.WriteLine($"| scenario | test accuracy | time |");
Console.WriteLine($"|---|--:|--:|");
foreach (var (scenario, accuracy, time) in rows)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {scenario} | {accuracy:F3} | {time.TotalSeconds:F0} s |"));
}

(string, double, TimeSpan) Run(string scenario, IEstimator<ITransformer> pipeline)
{
    var watch = Stopwatch.StartNew();
    var model = pipeline.Fit(train);
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), labelColumnName: "LabelKey");
    watch.Stop();
    (model as IDisposable)?.Dispose();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{scenario}: accuracy {metrics.MicroAccuracy:F3} in {watch.Elapsed.TotalSeconds:F0} s"));
    return (scenario, metrics.MicroAccuracy, watch.Elapsed);
}

// A new linear head alone takes a larger step than a network being fine-tuned, whose body moves ten times slower still.
ConvNetTrainer Trainer(PretrainedModel? pretrained, FineTuning fineTune, float headRate = 1e-3f, float? bodyRate = null) => ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
{
    LabelColumnName = "LabelKey", FeatureColumnName = "Image", Architecture = "resnet18", ImageHeight = 224, ImageWidth = 224,
    Pretrained = pretrained, FineTune = fineTune, LearningRate = headRate, BodyLearningRate = bodyRate,
    Epochs = epochs, BatchSize = 32, Device = Device.Cpu, Seed = 1,
});

IEnumerable<Garment> Garments(DatasetSplit split, int count)
{
    var data = FashionMnist.Load(null, split, new FashionMnistOptions { Limit = count });
    for (int i = 0; i < data.Count; i++)
    {
        var grey = data.GetImage(i).ToArray().Select(v => v * 255f).ToArray();
        yield return new Garment { Pixels = [.. grey, .. grey, .. grey], Label = data.ClassNames[data.Labels[i]] };
    }
}

int Option(string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One garment: 3×28×28 pixels (0–255) and its class name.</summary>
internal sealed class Garment
{
    [VectorType(3, 28, 28)]
    public float[] Pixels { get; set; } = [];

    public string Label { get; set; } = "";
}
