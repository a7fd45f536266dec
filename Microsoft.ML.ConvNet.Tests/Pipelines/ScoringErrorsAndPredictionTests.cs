namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;

/// <summary>
/// Errors of a fitted ConvNet model: schema checks that name the column and both types, model files that cannot be
/// loaded, and prediction engines (reuse across calls, the reusing overload, wrong examples). One untrained LeNet-5
/// (0 epochs) serves them all: none of this depends on what the network learnt.
/// </summary>
[TestClass]
public sealed class ScoringErrorsAndPredictionTests
{
    private static ConvNetContext _ml = null!;
    private static IDataView _data = null!;
    private static ConvNetTransformer _model = null!;

    public sealed class Input
    {
        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];
    }

    public sealed class Output
    {
        public uint PredictedLabel { get; set; }

        public float[] Score { get; set; } = [];
    }

    public sealed class WrongShapeInput
    {
        [VectorType(1, 32, 32)]
        public float[] Pixels { get; set; } = [];
    }

    public sealed class WrongOutput
    {
        public string Score { get; set; } = "";
    }

    [ClassInitialize]
    public static void Init(TestContext context)
    {
        _ml = new ConvNetContext(seed: 9);
        _data = _ml.Data.LoadFromFashionMnist(FashionMnistTests.BundledFolder(), DatasetSplit.Test, new FashionMnistOptions { Limit = 300, Normalize = true });
        _model = _ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            Architecture = "lenet5", SmallInput = true, Epochs = 0, Seed = 9, CancellationToken = context.CancellationToken,
        }).Fit(_data);
    }

    [ClassCleanup]
    public static void Cleanup() => _model?.Dispose();

    [TestMethod]
    public void TransformerAndEvaluateSchemaErrorsNameTheColumnAndBothTypes()
    {
        var wrong = _ml.Data.LoadFromEnumerable([new WrongShapeInput { Pixels = new float[1024] }]);
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => _model.GetOutputSchema(wrong.Schema));
        Assert.AreEqual("Schema mismatch for input column 'Pixels': expected Vector<Single, 1, 28, 28>, got Vector<Single, 1, 32, 32>", e.Message);
        Assert.AreEqual("Pixels", e.ColumnName);
        Assert.AreEqual("Vector<Single, 1, 32, 32>", e.Actual!.ToString());
        Assert.ThrowsExactly<SchemaMismatchException>(() => _model.Transform(wrong));

        var renamed = _ml.Transforms.CopyColumns("Features", "Pixels").Fit(_data).Transform(_data);
        var noPixels = _ml.Data.LoadFromEnumerable([new Output { PredictedLabel = 1, Score = [1] }]);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _model.GetOutputSchema(noPixels.Schema));
        Assert.AreEqual("Could not find input column 'Pixels' (expected Vector<Single, 1, 28, 28>)", e.Message);
        Assert.IsNotNull(_model.GetOutputSchema(renamed.Schema), "extra columns are fine");

        // Evaluate checks the label, score and predicted label columns before reading.
        var unscored = _data;
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.MulticlassClassification.Evaluate(unscored));
        Assert.AreEqual("Could not find input column 'Score' (expected Vector<Single, 10>)", e.Message);
        var scored = _model.Transform(_data);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Pixels"));
        Assert.AreEqual("Schema mismatch for input column 'Pixels': expected Key or Boolean, got Vector<Single, 1, 28, 28>", e.Message);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.MulticlassClassification.Evaluate(scored, predictedLabelColumnName: "Score"));
        Assert.AreEqual("Schema mismatch for input column 'Score': expected Key, got Vector<Single, 10>", e.Message);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.BinaryClassification.Evaluate(scored));
        Assert.AreEqual("Schema mismatch for input column 'Label': expected Boolean or Key<UInt32, 0-1> (two categories), got Key<UInt32, 0-9>", e.Message);
    }

    private byte[] SavedModel()
    {
        using var stream = new MemoryStream();
        _ml.Model.Save(_model, _data.Schema, stream);
        return stream.ToArray();
    }

    private static byte[] Rewrite(byte[] model, Action<ModelFileContents, Dictionary<string, TensorData>> change)
    {
        var contents = ModelFile.Read(new MemoryStream(model));
        var tensors = contents.Tensors.ToDictionary(p => p.Key, p => p.Value);
        change(contents, tensors);
        using var stream = new MemoryStream();
        ModelFile.Write(stream, contents.Manifest, tensors);
        return stream.ToArray();
    }

    [TestMethod]
    public void LoadNamesAMissingTensorAnUnknownStepAndDamagedSettings()
    {
        var saved = SavedModel();
        string firstWeight = ModelFile.Read(new MemoryStream(saved)).Tensors.Keys.Order(StringComparer.Ordinal).First();
        StringAssert.StartsWith(firstWeight, "steps.0.model.");

        var missing = Rewrite(saved, (_, t) => t.Remove(firstWeight));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(new MemoryStream(missing), out _));
        StringAssert.Contains(e.Message, "stream: the tensors of the lenet5 network do not fit it");
        StringAssert.Contains(e.Message, firstWeight["steps.0.model.".Length..]);

        var unknown = Rewrite(saved, (c, _) => c.Manifest.Pipeline[0].Kind = "Sharpen");
        e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(new MemoryStream(unknown), out _));
        StringAssert.Contains(e.Message, "pipeline step 0 is of kind 'Sharpen', which has no registered loader");
        StringAssert.Contains(e.Message, "ConvNet");

        var damaged = Rewrite(saved, (c, _) => c.Manifest.Pipeline[0].Settings.Remove("ClassCount"));
        e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(new MemoryStream(damaged), out _));
        StringAssert.Contains(e.Message, "the settings of pipeline step 0 (ConvNet) are damaged");

        // A missing tensors entry, a truncated zip and a newer format version are refused through Model.Load from a file too.
        string path = Path.Combine(Path.GetTempPath(), $"convnet-truncated-{Guid.NewGuid():N}.zip");
        try
        {
            File.WriteAllBytes(path, saved[..(saved.Length - 100)]);
            e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(path, out _));
            StringAssert.Contains(e.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void PredictionEngineReusesItsViewAndMatchesBatchScoring()
    {
        var rows = _ml.Data.CreateEnumerable<Input>(_data, reuseRowObject: false).Take(40).ToArray();
        var batch = _ml.Data.CreateEnumerable<Output>(_model.Transform(_data), reuseRowObject: false).Take(40).ToArray();
        var engine = _ml.Model.CreatePredictionEngine<Input, Output>(_model);
        Assert.AreEqual("Vector<Single, 10>", engine.OutputSchema["Score"].Type.ToString());
        Output? reused = null;
        for (int i = 0; i < rows.Length; i++)
        {
            var p = engine.Predict(rows[i]);
            Assert.AreEqual(batch[i].PredictedLabel, p.PredictedLabel, $"row {i}");
            for (int k = 0; k < 10; k++)
            {
                Assert.AreEqual(batch[i].Score[k], p.Score[k], 1e-5f, $"row {i}, class {k}");
            }
            var before = reused;
            engine.Predict(rows[i], ref reused!);
            Assert.IsNotNull(reused);
            if (before != null)
            {
                Assert.AreSame(before, reused, "the overload with ref fills the object it is given");
            }
            CollectionAssert.AreEqual(p.Score, reused.Score);
        }
        var pixels = rows[0].Pixels.ToArray();
        engine.Predict(rows[0]);
        CollectionAssert.AreEqual(pixels, rows[0].Pixels, "the example is not changed");

        var e = Assert.ThrowsExactly<ArgumentException>(() => engine.Predict(new Input { Pixels = new float[10] }));
        StringAssert.Contains(e.Message, "'Pixels' of the example holds 10 values but is declared Vector<Single, 1, 28, 28>");
        Assert.AreEqual(batch[1].PredictedLabel, engine.Predict(rows[1]).PredictedLabel, "the engine still works after a bad example");
        Assert.ThrowsExactly<ArgumentNullException>(() => engine.Predict(null!));
    }

    [TestMethod]
    public void PredictionEngineTypesAreCheckedWhenItIsCreated()
    {
        var e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.Model.CreatePredictionEngine<WrongShapeInput, Output>(_model));
        Assert.AreEqual("Schema mismatch for input column 'Pixels': expected Vector<Single, 1, 28, 28>, got Vector<Single, 1, 32, 32>", e.Message);
        e = Assert.ThrowsExactly<SchemaMismatchException>(() => _ml.Model.CreatePredictionEngine<Input, WrongOutput>(_model));
        Assert.AreEqual("Schema mismatch for source column 'Score': expected a type whose values are String, got Vector<Single, 10>", e.Message);
    }
}
