using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tests.Onnx;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>The packaged ImageNet ResNet-18 as the trainer's pretrained network and as a featurizer cut at a layer.</summary>
[TestClass]
public sealed class PretrainedResNet18Tests
{
    public sealed class Row
    {
        [VectorType(3, 224, 224)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    private static List<Row> Rows(int count)
    {
        var random = new Random(4);
        return Enumerable.Range(0, count).Select(i => new Row
        {
            // Two classes a pretrained network tells apart at once: bright, warm images and dark, cold ones.
            Features = Enumerable.Range(0, 3 * 224 * 224).Select(j => (float)((i % 2 == 0 ? 0.6 + 0.4 * (j < 224 * 224 ? 1 : 0) : 0.1) * random.NextDouble())).ToArray(),
            Label = i % 2 == 0 ? "warm" : "cold",
        }).ToList();
    }

    [TestMethod]
    public void HeadOnlyFineTuningKeepsTheNetworkAndSavesWithItsPreprocessing()
    {
        var resnet = PretrainedModel.ResNet18ImageNet;
        Assert.AreEqual(224, resnet.InputSize);
        var layers = resnet.LayerNames();
        Assert.IsGreaterThan(20, layers.Count, string.Join(", ", layers));

        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows(8));
        var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", Pretrained = resnet, FineTune = FineTuning.HeadOnly,
                Epochs = 2, BatchSize = 4, LearningRate = 1e-2f, Device = Device.Cpu, Seed = 1,
            }))
            .Fit(data);
        var convnet = model.LastTransformer;
        var network = (PretrainedClassifier)convnet.Model;
        Assert.IsTrue(network.Body.Parameters().All(p => !p.RequiresGrad), "HeadOnly freezes the pretrained body");
        Assert.IsTrue(network.Head.Parameters().All(p => p.RequiresGrad));
        StringAssert.Contains(network.Summary(3, 224, 224).ToString(), "PixelScale", "the summary states the preprocessing");

        var loaded = SavedModels.RoundTrip(ml, model, data.Schema);
        var ours = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).SelectMany(r => r.Score).ToArray();
        var saved = ml.Data.CreateEnumerable<Scored>(loaded.Transform(data), reuseRowObject: false).SelectMany(r => r.Score).ToArray();
        double max = ours.Zip(saved, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsLessThan(1e-5, max, $"in-process vs saved: max |score difference| {max}");
    }

    [TestMethod]
    public void AFeatureLayerCutsTheNetwork()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows(2));
        string path = OnnxImportResNet18Tests.ModelPath;
        using var whole = ml.Transforms.ConvNetFeaturize("F", "Features", PretrainedModel.FromFile(path)).Fit(data);
        Assert.AreEqual(512, whole.FeatureCount);

        // Cut after the first convolution: 64 maps of 112×112 (conv1 has stride 2 and pads [3, 3, 2, 2]).
        string conv1;
        using (var graph = OnnxModel.Load(path))
        {
            conv1 = graph.NamedModules().Select(m => m.Value).OfType<OnnxLayer>().First(l => l.OpType == "Conv").NodeName;
        }
        using var conv = ml.Transforms.ConvNetFeaturize("F", "Features", PretrainedModel.FromFile(path, featureLayer: conv1)).Fit(data);
        Assert.AreEqual(64 * 112 * 112, conv.FeatureCount);
        var e = Assert.ThrowsExactly<ArgumentException>(() => OnnxModel.Load(path, "no-such-node"));
        StringAssert.Contains(e.Message, "no-such-node");
    }
}
