using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>ConvNetFeaturize: a pretrained network's features for ML.NET's own trainers, saved as ONNX in the model zip.</summary>
[TestClass]
public sealed class FeaturizerTests
{
    public sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class Embedded
    {
        public float[] Embedding { get; set; } = [];
    }

    private static string s_network = null!;
    private static List<Row> s_rows = null!;

    /// <summary>A feature extractor (two conv blocks of the small CNN, random weights) exported to ONNX.</summary>
    [ClassInitialize]
    public static void Export(TestContext context)
    {
        RandomSource.ManualSeed(5);
        using var body = new Sequential(
            new Conv2d(1, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Conv2d(16, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new AdaptiveAvgPool2d(2));
        s_network = Path.Combine(Path.GetTempPath(), $"convnet-featurizer-{Guid.NewGuid():N}.onnx");
        body.ExportOnnx(s_network, 1, 1, 28, 28);
        var data = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = 400 });
        s_rows = Enumerable.Range(0, data.Count).Select(i => new Row { Features = data.GetImage(i).ToArray(), Label = data.ClassNames[data.Labels[i]] }).ToList();
    }

    [ClassCleanup]
    public static void Remove() => File.Delete(s_network);

    [TestMethod]
    public void FeaturesFeedAnMLNetTrainerAndTheSavedModelAgrees()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(s_rows);
        var featurize = ml.Transforms.ConvNetFeaturize("Embedding", "Features", PretrainedModel.FromFile(s_network));
        var pipeline = featurize
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Embedding"));
        var model = pipeline.Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), "LabelKey");
        Assert.IsGreaterThan(0.25, metrics.MicroAccuracy, "random conv features separate Fashion-MNIST well above chance (0.1)");

        var featurizer = featurize.Fit(data);
        Assert.AreEqual(32 * 2 * 2, featurizer.FeatureCount);
        var loaded = SavedModels.RoundTrip(ml, featurizer, data.Schema);
        var ours = ml.Data.CreateEnumerable<Embedded>(featurizer.Transform(data), reuseRowObject: false).ToList();
        var saved = ml.Data.CreateEnumerable<Embedded>(loaded.Transform(data), reuseRowObject: false).ToList();
        double max = ours.Zip(saved).Max(p => p.First.Embedding.Zip(p.Second.Embedding, (a, b) => Math.Abs(a - b)).Max());
        Assert.IsLessThan(1e-5, max, $"max |feature difference| {max}");
        var one = ml.Model.CreatePredictionEngine<Row, Embedded>(featurizer).Predict(s_rows[3]).Embedding;
        CollectionAssert.AreEqual(ours[3].Embedding, one, "a single row gives the batch's features");
    }

    [TestMethod]
    public void WeightsWithoutANetworkAreRefused()
    {
        string weights = Path.Combine(Path.GetTempPath(), $"convnet-weights-{Guid.NewGuid():N}.bin");
        try
        {
            using (var linear = new Linear(2, 2))
            {
                linear.SaveStateDict(weights);
            }
            var e = Assert.ThrowsExactly<ArgumentException>(() => new MLContext().Transforms.ConvNetFeaturize("F", "Features", PretrainedModel.FromFile(weights)));
            StringAssert.Contains(e.Message, "weights only");
        }
        finally
        {
            File.Delete(weights);
        }
    }
}
