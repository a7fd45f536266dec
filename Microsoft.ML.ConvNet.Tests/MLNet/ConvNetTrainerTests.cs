using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>The ConvNet trainer in real ML.NET pipelines: schema checks, Evaluate, Model.Save/Load, PredictionEngine, bad images.</summary>
[TestClass]
public sealed class ConvNetTrainerTests
{
    private static IDataView s_train = null!;
    private static IDataView s_test = null!;
    private static List<FashionRow> s_rows = null!;

    public sealed class FashionRow
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedName { get; set; } = "";
    }

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        var ml = new MLContext(1);
        var ds = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = 600 });
        s_rows = Enumerable.Range(0, ds.Count).Select(i => new FashionRow { Features = ds.GetImage(i).ToArray(), Label = ds.ClassNames[ds.Labels[i]] }).ToList();
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(s_rows), 0.2, seed: 1);
        s_train = split.TrainSet;
        s_test = split.TestSet;
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, int epochs = 2) => ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
        .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            LabelColumnName = "LabelKey", Architecture = "smallcnn", Epochs = epochs, Device = Device.Cpu, Seed = 1,
        }))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));

    [TestMethod]
    public void FitEvaluateSaveLoadAndPredictAgree()
    {
        var ml = new MLContext(1);
        var model = Pipeline(ml).Fit(s_train);
        var scored = model.Transform(s_test);
        var metrics = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "LabelKey");
        Assert.IsGreaterThan(0.5, metrics.MicroAccuracy, $"accuracy {metrics.MicroAccuracy}");
        Assert.AreEqual(10, metrics.ConfusionMatrix.NumberOfClasses);

        string path = Path.Combine(Path.GetTempPath(), $"convnet-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, s_train.Schema, path);
            var loaded = SavedModels.Load(ml, path, out var schema);
            var ours = ml.Data.CreateEnumerable<Prediction>(scored, reuseRowObject: false).ToList();
            var saved = ml.Data.CreateEnumerable<Prediction>(loaded.Transform(s_test), reuseRowObject: false).ToList();
            Assert.HasCount(ours.Count, saved);
            double max = 0;
            for (int i = 0; i < ours.Count; i++)
            {
                Assert.AreEqual(ours[i].PredictedName, saved[i].PredictedName, $"row {i}");
                max = Math.Max(max, ours[i].Score.Zip(saved[i].Score, (a, b) => Math.Abs(a - b)).Max());
            }
            Assert.IsLessThan(1e-5, max, $"max |score difference| {max}");
            Console.WriteLine($"in-process vs saved (ONNX Runtime): max |score difference| {max:E2} over {ours.Count} rows");

            var loadedMetrics = ml.MulticlassClassification.Evaluate(loaded.Transform(s_test), labelColumnName: "LabelKey");
            Assert.AreEqual(metrics.MicroAccuracy, loadedMetrics.MicroAccuracy, 1e-9);

            var fromFitted = ml.Model.CreatePredictionEngine<FashionRow, Prediction>(model).Predict(s_rows[0]);
            var fromLoaded = ml.Model.CreatePredictionEngine<FashionRow, Prediction>(loaded).Predict(s_rows[0]);
            Assert.AreEqual(fromFitted.PredictedName, fromLoaded.PredictedName);
            Assert.IsLessThan(1e-5, fromFitted.Score.Zip(fromLoaded.Score, (a, b) => Math.Abs(a - b)).Max());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void NetworksTrainedFromScratchStandardizeTheirInputWithTheTrainingImagesStatistics()
    {
        var ml = new MLContext(1);
        var keyed = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Fit(s_train).Transform(s_train);
        ConvNetTransformer Fit(bool standardize) => ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            LabelColumnName = "LabelKey", Architecture = "lenet5", SmallInput = true, Epochs = 0, Device = Device.Cpu, StandardizeInput = standardize,
        }).Fit(keyed);

        using var standardized = Fit(true);
        var network = (Microsoft.ML.ConvNet.Layers.Sequential)standardized.Model;
        var layer = (Microsoft.ML.ConvNet.Layers.InputStandardization)network[0];
        var pixels = ml.Data.CreateEnumerable<FashionRow>(s_train, reuseRowObject: false).SelectMany(r => r.Features).ToArray();
        double mean = pixels.Average(v => (double)v);
        double std = Math.Sqrt(pixels.Average(v => (v - mean) * (v - mean)));
        Assert.AreEqual(mean, layer.Mean.ToArray()[0], 1e-5);
        Assert.AreEqual(std, layer.Std.ToArray()[0], 1e-5);
        Assert.AreEqual(2, network.Count, "the standardization, then the architecture");

        using var plain = Fit(false);
        Assert.IsFalse(plain.Model.NamedModules().Any(m => m.Value is Microsoft.ML.ConvNet.Layers.InputStandardization));
    }

    [TestMethod]
    public void LabelSmoothingOutsideItsRangeIsRefused()
    {
        var ml = new MLContext(1);
        foreach (float bad in new[] { -0.1f, 1f, float.NaN })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { LabelSmoothing = bad }));
            StringAssert.Contains(e.Message, "LabelSmoothing");
        }
    }

    public sealed class FootwearRow
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    public sealed class BinaryPrediction
    {
        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }

    [TestMethod]
    public void BinaryFitEvaluateSaveLoadAndPredictAgree()
    {
        var ml = new MLContext(1);
        string[] footwear = ["Sandal", "Sneaker", "Ankle boot"];
        var rows = s_rows.Select(r => new FootwearRow { Features = r.Features, Label = footwear.Contains(r.Label) }).ToList();
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(rows), 0.2, seed: 1);
        var model = ml.BinaryClassification.Trainers.ConvNet(new ConvNetTrainer.Options { Architecture = "smallcnn", Epochs = 2, Device = Device.Cpu, Seed = 1 })
            .Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.8, metrics.Accuracy, $"accuracy {metrics.Accuracy}");

        var loaded = SavedModels.RoundTrip(ml, model, split.TrainSet.Schema);
        var loadedScored = loaded.Transform(split.TestSet);
        var ours = ml.Data.CreateEnumerable<BinaryPrediction>(scored, reuseRowObject: false).ToList();
        var saved = ml.Data.CreateEnumerable<BinaryPrediction>(loadedScored, reuseRowObject: false).ToList();
        Assert.AreEqual(metrics.Accuracy, ml.BinaryClassification.Evaluate(loadedScored).Accuracy, 1e-9);
        for (int i = 0; i < ours.Count; i++)
        {
            Assert.AreEqual(ours[i].Score, saved[i].Score, 1e-5, $"row {i}");
            Assert.AreEqual(ours[i].Probability, saved[i].Probability, 1e-5, $"row {i}");
            Assert.AreEqual(ours[i].PredictedLabel, saved[i].PredictedLabel, $"row {i}");
        }
        var fromLoaded = ml.Model.CreatePredictionEngine<FootwearRow, BinaryPrediction>(loaded).Predict(rows[0]);
        var fromFitted = ml.Model.CreatePredictionEngine<FootwearRow, BinaryPrediction>(model).Predict(rows[0]);
        Assert.AreEqual(fromFitted.Probability, fromLoaded.Probability, 1e-5);
    }

    [TestMethod]
    public void CrossValidateRunsOnThePipeline()
    {
        var ml = new MLContext(1);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(s_test).Transform(s_test);
        var trainer = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { Architecture = "lenet5", SmallInput = true, Epochs = 1, Device = Device.Cpu });
        var results = ml.MulticlassClassification.CrossValidate(keyed, trainer, numberOfFolds: 2);
        Assert.HasCount(2, results);
        Assert.IsTrue(results.All(r => r.Metrics.MicroAccuracy > 0));
    }

    [TestMethod]
    public void WrongColumnTypesAreRejectedBeforeAnyWork()
    {
        var ml = new MLContext(1);
        var trainer = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { Architecture = "smallcnn", Epochs = 1 });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(s_train));
        StringAssert.Contains(e.Message, "label column 'Label'");
        StringAssert.Contains(e.Message, "Key");
        StringAssert.Contains(e.Message, "String");

        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(s_train).Transform(s_train);
        var wrongFeatures = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { FeatureColumnName = "Label", Epochs = 1 });
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wrongFeatures.Fit(keyed));
        StringAssert.Contains(e.Message, "feature column 'Label'");

        var binary = ml.BinaryClassification.Trainers.ConvNet(labelColumnName: "Label", epochs: 1);
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => binary.Fit(keyed));
        StringAssert.Contains(e.Message, "Boolean");
        Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.ConvNet(architecture: "no-such-net"));
    }
}
