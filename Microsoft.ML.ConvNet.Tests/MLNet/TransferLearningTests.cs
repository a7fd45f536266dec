using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>The trainer's transfer-learning options: pretrained weights, a new head, frozen layers, the body's learning rate.</summary>
[TestClass]
public sealed class TransferLearningTests
{
    public sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private static string s_weights = null!;
    private static List<Row> s_rows = null!;

    /// <summary>A "pretrained" small CNN: 10 Fashion-MNIST classes, one epoch; the target task has 3 classes.</summary>
    [ClassInitialize]
    public static void Pretrain(TestContext context)
    {
        var source = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = 640 });
        RandomSource.ManualSeed(3);
        using var model = SmallCnn.Create();
        using var adam = new Adam(model.Parameters(), 1e-3f);
        Trainer.Fit(model, adam, source, null, new TrainingOptions { Epochs = 1, BatchSize = 64, Device = Device.Cpu });
        s_weights = Path.Combine(Path.GetTempPath(), $"convnet-pretrained-{Guid.NewGuid():N}.bin");
        model.SaveStateDict(s_weights);

        var target = FashionMnist.Load(null, DatasetSplit.Test, new FashionMnistOptions { Limit = 600 });
        string[] wanted = ["Trouser", "Bag", "Sneaker"];
        s_rows = Enumerable.Range(0, target.Count).Where(i => wanted.Contains(target.ClassNames[target.Labels[i]]))
            .Select(i => new Row { Features = target.GetImage(i).ToArray(), Label = target.ClassNames[target.Labels[i]] }).ToList();
    }

    [ClassCleanup]
    public static void Remove() => File.Delete(s_weights);

    private static ConvNetTransformer Fit(FineTuning fineTune, float learningRate = 1e-3f, int epochs = 2)
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(s_rows);
        var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", Architecture = "smallcnn", Pretrained = PretrainedModel.FromFile(s_weights),
                FineTune = fineTune, LearningRate = learningRate, Epochs = epochs, BatchSize = 16, Device = Device.Cpu, Seed = 1,
            }))
            .Fit(data);
        return model.LastTransformer;
    }

    private static Dictionary<string, float[]> Pretrained()
    {
        using var stream = File.OpenRead(s_weights);
        return StateDictFile.Read(stream, s_weights).Values;
    }

    [TestMethod]
    public void HeadOnlyKeepsEveryPretrainedTensorBitIdenticalAndTrainsANewHead()
    {
        using var trained = Fit(FineTuning.HeadOnly, learningRate: 1e-2f, epochs: 4);
        var before = Pretrained();
        var after = trained.Model.StateDict();
        Assert.AreEqual(new Shape(3, 128), after["12.weight"].Shape, "the head is replaced for the label's 3 classes");
        foreach (var name in new[] { "0.weight", "1.weight", "1.running_mean", "1.running_var", "4.weight", "5.running_var", "9.weight", "9.bias" })
        {
            CollectionAssert.AreEqual(before[name], after[name].ToArray(), $"{name} changed while frozen");
        }
        Assert.IsGreaterThan(0.9, trained.TrainingHistory!.Final.TrainAccuracy, "a linear head on pretrained features separates trousers, bags and sneakers");
    }

    [TestMethod]
    public void FromALayerFreezesTheLayersBeforeIt()
    {
        using var trained = Fit(FineTuning.From("4"));
        var before = Pretrained();
        var after = trained.Model.StateDict();
        CollectionAssert.AreEqual(before["0.weight"], after["0.weight"].ToArray());
        CollectionAssert.AreEqual(before["1.running_mean"], after["1.running_mean"].ToArray(), "a frozen batch norm keeps its statistics");
        CollectionAssert.AreNotEqual(before["4.weight"], after["4.weight"].ToArray());
        CollectionAssert.AreNotEqual(before["5.running_mean"], after["5.running_mean"].ToArray(), "a trained batch norm updates its statistics");
        CollectionAssert.AreNotEqual(before["9.weight"], after["9.weight"].ToArray());
    }

    [TestMethod]
    public void AllTrainsEveryLayerAndAnUnknownLayerIsNamed()
    {
        using var trained = Fit(FineTuning.All);
        CollectionAssert.AreNotEqual(Pretrained()["0.weight"], trained.Model.StateDict()["0.weight"].ToArray());
        var e = Assert.ThrowsExactly<ArgumentException>(() => Fit(FineTuning.From("layer9")));
        StringAssert.Contains(e.Message, "layer9");
        StringAssert.Contains(e.Message, "12");
    }

    [TestMethod]
    public void SafetensorsWeightsFromAnotherClassCountGetANewHead()
    {
        string path = Path.ChangeExtension(s_weights, ".safetensors");
        try
        {
            using (var source = SmallCnn.Create())
            {
                source.LoadStateDict(Pretrained());
                source.SaveSafetensors(path);
            }
            var ml = new MLContext(1);
            var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
                .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
                {
                    LabelColumnName = "LabelKey", Architecture = "smallcnn", Pretrained = PretrainedModel.FromFile(path),
                    FineTune = FineTuning.HeadOnly, Epochs = 1, Device = Device.Cpu,
                }))
                .Fit(ml.Data.LoadFromEnumerable(s_rows));
            using var trained = model.LastTransformer;
            CollectionAssert.AreEqual(Pretrained()["4.weight"], trained.Model.StateDict()["4.weight"].ToArray());
            Assert.AreEqual(new Shape(3, 128), trained.Model.StateDict()["12.weight"].Shape);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void BodyLearningRateScalesThePretrainedLayersUpdates()
    {
        // SGD without momentum moves each weight by lr × gradient; a body at a tenth of the rate moves a tenth as far
        // on the same gradients.
        RandomSource.ManualSeed(1);
        using var head = new Linear(4, 2);
        using var body = new Linear(4, 2);
        body.LoadStateDict(head.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray()));
        using var sgd = new Sgd([.. body.Parameters(), .. head.Parameters()], 0.5f, momentum: 0f);
        sgd.ScaleLearningRate(body.Parameters(), 0.1f);
        var start = body.Weight.ToArray();
        using (var scope = new TensorScope())
        {
            var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, new Shape(1, 4));
            (body.Forward(x).Sum() + head.Forward(x).Sum()).Backward();
        }
        sgd.Step();
        var bodyStep = body.Weight.ToArray().Zip(start, (a, b) => a - b).ToArray();
        var headStep = head.Weight.ToArray().Zip(start, (a, b) => a - b).ToArray();
        for (int i = 0; i < bodyStep.Length; i++)
        {
            Assert.AreEqual(headStep[i] * 0.1f, bodyStep[i], 1e-6f);
        }
        Assert.ThrowsExactly<ArgumentException>(() => sgd.ScaleLearningRate([Tensor.Zeros(new Shape(1))], 2f));
    }
}
