namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;

/// <summary>Schema checks, two-class training, early stopping and checkpoints, cross-validation and persistence of the conversion transforms.</summary>
[TestClass]
public sealed class ConvNetPipelineTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ImageDataset Fashion(DatasetSplit split, int limit) =>
        FashionMnist.Load(FashionMnistTests.BundledFolder(), split, new FashionMnistOptions { Limit = limit, Normalize = true });

    /// <summary>The rows of classes 0 (T-shirt/top) and 1 (Trouser) as a two-class data set.</summary>
    private static ImageDataset TwoClass(ImageDataset d)
    {
        var rows = Enumerable.Range(0, d.Count).Where(i => d.Labels[i] < 2).ToArray();
        var sub = d.Subset(rows);
        return new ImageDataset(sub.Images, sub.SampleShape, sub.Labels, [d.ClassNames[0], d.ClassNames[1]]);
    }

    private ConvNetTrainer.Options Tiny(int epochs) => new()
    {
        Architecture = "smallcnn",
        Epochs = epochs,
        BatchSize = 32,
        Seed = 3,
        CancellationToken = TestContext.CancellationToken,
    };

    public sealed class TextLabelRow
    {
        public string Label { get; set; } = "";

        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];
    }

    public sealed class VariableRow
    {
        [KeyType(2)]
        public uint Label { get; set; }

        public float[] Pixels { get; set; } = [];
    }

    /// <summary>A training-set view whose cursors fail: proves errors come before any data is read.</summary>
    private sealed class NoReadView(DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => false;

        public long? GetRowCount() => null;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            throw new InvalidOperationException("data was read");
    }

    [TestMethod]
    public void SchemaErrorsComeBeforeTraining()
    {
        var ml = new ConvNetContext(1);
        var text = ml.Data.LoadFromEnumerable([new TextLabelRow { Label = "a", Pixels = new float[784] }]);
        var trainer = ml.MulticlassClassification.Trainers.ConvNet(Tiny(1));
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => trainer.Fit(new NoReadView(text.Schema)));
        Assert.AreEqual("Label", e.ColumnName);
        StringAssert.Contains(e.Message, "expected Key or Boolean, got String");

        var variable = ml.Data.LoadFromEnumerable([new VariableRow { Label = 1, Pixels = new float[784] }]);
        var missing = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { FeatureColumnName = "Features" });
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => missing.Fit(new NoReadView(variable.Schema)));
        Assert.AreEqual("Features", e.ColumnName);
        StringAssert.Contains(e.Message, "Could not find input column 'Features'");

        e = Assert.ThrowsExactly<SchemaMismatchException>(() => trainer.Fit(new NoReadView(variable.Schema)));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Pixels': expected Vector<Single> of known shape [C, H, W], got Vector<Single>");

        // Through a chain: the estimator's output schema check fails before MapValueToKey is fitted.
        var chain = ml.Transforms.Conversion.MapValueToKey("Key", "Label").Append(trainer);
        Assert.ThrowsExactly<SchemaMismatchException>(() => chain.Fit(new NoReadView(text.Schema)));

        // bf16 autocast needs a GPU: refused up front on the CPU. A CUDA device is accepted (initialised when training starts).
        var bf16 = new ConvNetTrainer.Options { Device = Device.Cpu, MixedPrecision = MixedPrecision.BFloat16 };
        var ne = Assert.ThrowsExactly<NotSupportedException>(() => ml.MulticlassClassification.Trainers.ConvNet(bf16));
        StringAssert.Contains(ne.Message, "BFloat16 needs a CUDA device, got cpu");
        Assert.IsNotNull(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options { Device = Device.Cuda() }));
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void TwoClassProblemTrainsThroughMulticlassTrainerAndBinaryEvaluation()
    {
        var ml = new ConvNetContext(2);
        var train = ml.Data.LoadFromImageDataset(TwoClass(Fashion(DatasetSplit.Train, 1500)));
        var test = ml.Data.LoadFromImageDataset(TwoClass(Fashion(DatasetSplit.Test, 500)));
        using var model = ml.MulticlassClassification.Trainers.ConvNet(Tiny(1)).Fit(train);
        Assert.AreEqual(2, model.ClassCount);
        var scored = model.Transform(test);
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Console.WriteLine($"AUC {metrics.AreaUnderRocCurve:F4}, accuracy {metrics.Accuracy:F4}");
        Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve);
        var multi = ml.MulticlassClassification.Evaluate(scored);
        Assert.AreEqual(multi.MicroAccuracy, metrics.Accuracy, 1e-12, "argmax of two probabilities = threshold 0.5");

        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.BinaryClassification.Evaluate(ml.Data.LoadFromFashionMnist(FashionMnistTests.BundledFolder(), DatasetSplit.Test, new FashionMnistOptions { Limit = 10 })));
        StringAssert.Contains(e.Message, "two categories");
    }

    public sealed class BoolRow
    {
        public bool Label { get; set; }

        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];
    }

    public sealed class BoolPrediction
    {
        public bool Label { get; set; }

        public bool PredictedBool { get; set; }

        public float[] Score { get; set; } = [];
    }

    private static BoolRow[] BoolRows(ImageDataset twoClass) =>
        [.. Enumerable.Range(0, twoClass.Count).Select(i => new BoolRow { Label = twoClass.Labels[i] == 1, Pixels = twoClass.GetImage(i).ToArray() })];

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void BooleanLabelTrainsThroughTheBinaryCatalogAndEvaluatesWithTrueAsPositive()
    {
        // T-shirt/top (false) against Trouser (true), with a Boolean label as ML.NET's binary trainers take.
        var ml = new ConvNetContext(2);
        var train = ml.Data.LoadFromEnumerable(BoolRows(TwoClass(Fashion(DatasetSplit.Train, 1500))));
        var testRows = BoolRows(TwoClass(Fashion(DatasetSplit.Test, 500)));
        var test = ml.Data.LoadFromEnumerable(testRows);
        var pipeline = ml.BinaryClassification.Trainers.ConvNet(Tiny(1))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedBool", "PredictedLabel"));
        Assert.AreEqual(BooleanDataViewType.Instance, pipeline.GetOutputSchema(train.Schema)["PredictedBool"].Type, "checked before training");
        using var model = pipeline.Fit(train);
        var classifier = model.OfType<ConvNetTransformer>().Single();
        CollectionAssert.AreEqual(new[] { "False", "True" }, classifier.ClassNames.ToArray());

        var scored = model.Transform(test);
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Console.WriteLine($"AUC {metrics.AreaUnderRocCurve:F4}, accuracy {metrics.Accuracy:F4}, F1 {metrics.F1Score:F4}");
        Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve);

        // The same numbers from the calculator: true is positive, Score[1] is p(true); PredictedBool is Score[1] > 0.5.
        var rows = ml.Data.CreateEnumerable<BoolPrediction>(scored, reuseRowObject: false).ToList();
        var expected = Microsoft.ML.ConvNet.Evaluation.BinaryMetricsCalculator.Compute([.. rows.Select(r => r.Label)], [.. rows.Select(r => r.Score[1])]);
        Assert.AreEqual(expected.Accuracy, metrics.Accuracy);
        Assert.AreEqual(expected.AreaUnderRocCurve, metrics.AreaUnderRocCurve);
        Assert.AreEqual(expected.F1Score, metrics.F1Score);
        Assert.AreEqual(expected.PositivePrecision, metrics.PositivePrecision);
        Assert.AreEqual(expected.PositiveRecall, metrics.PositiveRecall);
        CollectionAssert.AreEqual(testRows.Select(r => r.Label).ToArray(), rows.Select(r => r.Label).ToArray());
        foreach (var r in rows)
        {
            Assert.AreEqual(r.Score[1] > r.Score[0], r.PredictedBool);
        }
        var multi = ml.MulticlassClassification.Evaluate(scored);
        Assert.AreEqual(multi.MicroAccuracy, metrics.Accuracy, 1e-12, "a Boolean label evaluates as two classes too");

        // The Boolean key values survive saving.
        using var stream = new MemoryStream();
        ml.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out _);
        using (loaded as IDisposable)
        {
            var again = ml.Data.CreateEnumerable<BoolPrediction>(loaded.Transform(test), reuseRowObject: false).ToList();
            CollectionAssert.AreEqual(rows.Select(r => r.PredictedBool).ToArray(), again.Select(r => r.PredictedBool).ToArray());
        }

        // The binary catalog's trainer refuses a label of more than two classes, naming it, before reading any data.
        var tenClasses = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Test, 20));
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => ml.BinaryClassification.Trainers.ConvNet(Tiny(1)).Fit(new NoReadView(tenClasses.Schema)));
        Assert.AreEqual("Schema mismatch for input column 'Label': expected Boolean or Key of 2 categories (a two-class label), got Key<UInt32, 0-9>", e.Message);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void EarlyStoppingStopsAndCheckpointsLandInTheWorkspace()
    {
        var ml = new ConvNetContext(3);
        var data = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 256));
        string workspace = Path.Combine(Path.GetTempPath(), $"convnet-ws-{Guid.NewGuid():N}");
        var reports = new List<EpochReport>();
        try
        {
            var o = Tiny(10);
            o.ValidationFraction = 0.25;
            o.EarlyStopping = new EarlyStoppingOptions { Patience = 1, MinDelta = 1e6 };
            o.WorkspaceFolder = workspace;
            o.MetricsCallback = reports.Add;
            using var model = ml.MulticlassClassification.Trainers.ConvNet(o).Fit(data);
            Assert.HasCount(2, reports, "epoch 1 sets the best; epoch 2 cannot beat it by 1e6");
            Assert.IsTrue(model.TrainingHistory!.StoppedEarly);
            Assert.AreEqual(1, model.TrainingHistory.BestEpoch);
            Assert.IsNotNull(reports[0].ValidationLoss);
            Assert.AreEqual(192, reports[0].Samples);
            string checkpoint = Path.Combine(workspace, TrainingOptions.BestCheckpointFileName);
            Assert.IsTrue(File.Exists(checkpoint));
            CollectionAssert.AreEquivalent(new[] { checkpoint }, Directory.GetFiles(workspace), "no temporary files are left");
            using var restored = ModelZoo.Create("smallcnn", new ModelOptions(10, 1));
            restored.LoadStateDict(checkpoint);
        }
        finally
        {
            if (Directory.Exists(workspace))
            {
                Directory.Delete(workspace, true);
            }
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void CrossValidateReturnsOneResultPerFold()
    {
        var ml = new ConvNetContext(4);
        var data = ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Train, 300));
        var results = ml.MulticlassClassification.CrossValidate(data, ml.MulticlassClassification.Trainers.ConvNet(Tiny(1)), numberOfFolds: 3, seed: 5);
        try
        {
            Assert.HasCount(3, results);
            CollectionAssert.AreEqual(new[] { 0, 1, 2 }, results.Select(r => r.Fold).ToArray());
            Assert.AreEqual(300, results.Sum(r => r.ScoredHoldOutSet.GetRowCount()));
            foreach (var r in results)
            {
                Assert.IsGreaterThan(0.2, r.Metrics.MicroAccuracy, "better than chance (0.1) after one epoch on 200 images");
                Assert.IsNotNull(r.ScoredHoldOutSet.Schema.GetColumnOrNull("Score"));
            }
        }
        finally
        {
            foreach (var r in results)
            {
                (r.Model as IDisposable)?.Dispose();
            }
        }
    }

    public sealed class ConvRow
    {
        public string Label { get; set; } = "";

        public float A { get; set; }

        [VectorType(2)]
        public float[] V { get; set; } = [];
    }

    public sealed class ConvOut
    {
        public uint Key { get; set; }

        public string Back { get; set; } = "";

        public float[] All { get; set; } = [];

        public float B { get; set; }
    }

    private sealed class Unsaveable : ITransformer
    {
        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;
    }

    [TestMethod]
    public void ConversionTransformsSaveAndLoadAndUnsaveableStepsAreNamed()
    {
        var ml = new ConvNetContext(5);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new ConvRow { Label = "b", A = 1, V = [1, 2] },
            new ConvRow { Label = "a", A = 2, V = [3, 4] },
            new ConvRow { Label = "b", A = 3, V = [5, 6] },
        });
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Key", "Label", keyOrdinality: KeyOrdinality.ByValue)
            .Append(ml.Transforms.Conversion.MapKeyToValue("Back", "Key"))
            .Append(ml.Transforms.Concatenate("All", "A", "V"))
            .Append(ml.Transforms.CopyColumns("B", "A"));
        var model = pipeline.Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out var schema);
        Assert.AreEqual(data.Schema.ToString(), schema.ToString());
        var expected = ml.Data.CreateEnumerable<ConvOut>(model.Transform(data), false, true).ToList();
        var actual = ml.Data.CreateEnumerable<ConvOut>(loaded.Transform(data), false, true).ToList();
        CollectionAssert.AreEqual(new uint[] { 2, 1, 2 }, actual.Select(r => r.Key).ToArray());
        CollectionAssert.AreEqual(expected.Select(r => r.Back).ToArray(), actual.Select(r => r.Back).ToArray());
        CollectionAssert.AreEqual(expected.SelectMany(r => r.All).ToArray(), actual.SelectMany(r => r.All).ToArray());
        CollectionAssert.AreEqual(expected.Select(r => r.B).ToArray(), actual.Select(r => r.B).ToArray());
        Assert.AreEqual(model.GetOutputSchema(data.Schema)["Key"].Type, loaded.GetOutputSchema(schema)["Key"].Type);

        var bad = model.Append(new Unsaveable());
        var e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.Save(bad, data.Schema, new MemoryStream()));
        StringAssert.Contains(e.Message, "step 4 (Unsaveable)");

        using var custom = ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            ModelFactory = (classes, channels) => ModelZoo.Create("smallcnn", new ModelOptions(classes, channels)),
            Epochs = 0,
            Seed = 1,
        }).Fit(ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Test, 20)));
        e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.Save(custom, ml.Data.LoadFromImageDataset(Fashion(DatasetSplit.Test, 1)).Schema, new MemoryStream()));
        StringAssert.Contains(e.Message, "ModelFactory");
    }
}
