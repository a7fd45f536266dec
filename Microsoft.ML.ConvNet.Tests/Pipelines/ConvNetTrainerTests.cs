namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Evaluation;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Training;

/// <summary>
/// The ConvNet trainer in pipelines on a Fashion-MNIST subset: training, lazy batch scoring, evaluation, persistence,
/// prediction engines. One model is trained once for the class (about 3 000 images, 2 epochs) and shared.
/// </summary>
[TestClass]
public sealed class ConvNetTrainerTests
{
    /// <summary>
    /// Accuracy required on the first 1 000 test images after 2 epochs of smallcnn (Adam 1e-3, batch 64) on the first
    /// 3 000 training images; the same network trained by Trainer.Fit on 4 000 images reaches about 0.8 (chance 0.1).
    /// </summary>
    private const double RequiredAccuracy = 0.75;

    private static ConvNetContext _ml = null!;
    private static IDataView _train = null!;
    private static IDataView _test = null!;
    private static TransformerChain<KeyToValueMappingTransformer> _model = null!;
    private static List<EpochReport> _reports = null!;

    public sealed class Input
    {
        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];
    }

    public sealed class Output
    {
        public uint PredictedLabel { get; set; }

        public float[] Score { get; set; } = [];

        public string PredictedLabelValue { get; set; } = "";
    }

    [ClassInitialize]
    public static void TrainOnce(TestContext context)
    {
        _ml = new ConvNetContext(seed: 1);
        string folder = FashionMnistTests.BundledFolder();
        _train = _ml.Data.LoadFromFashionMnist(folder, DatasetSplit.Train, new FashionMnistOptions { Limit = 3000, Normalize = true });
        _test = _ml.Data.LoadFromFashionMnist(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 1000, Normalize = true });
        _reports = [];
        var pipeline = _ml.Transforms.CopyColumns("Features", "Pixels")
            .Append(_ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                FeatureColumnName = "Features",
                Architecture = "smallcnn",
                Epochs = 2,
                BatchSize = 64,
                Seed = 1,
                MetricsCallback = _reports.Add,
                CancellationToken = context.CancellationToken,
            }))
            .Append(_ml.Transforms.Conversion.MapKeyToValue("PredictedLabelValue", "PredictedLabel"));
        _model = pipeline.Fit(_train);
    }

    [ClassCleanup]
    public static void Cleanup() => _model?.Dispose();

    private static ConvNetTransformer Classifier => _model.OfType<ConvNetTransformer>().Single();

    private static (uint[] Keys, float[][] Scores) ReadScores(IDataView scored)
    {
        var rows = _ml.Data.CreateEnumerable<Output>(scored, reuseRowObject: false, ignoreMissingColumns: true).ToList();
        return (rows.Select(r => r.PredictedLabel).ToArray(), rows.Select(r => r.Score).ToArray());
    }

    [TestMethod]
    public void PipelineLearnsFashionMnistAndEvaluateMatchesCalculator()
    {
        Assert.HasCount(2, _reports);
        Assert.IsLessThan(_reports[0].TrainLoss, _reports[1].TrainLoss);
        var scored = _model.Transform(_test);
        Assert.AreEqual("Vector<Single, 10>", scored.Schema["Score"].Type.ToString());
        Assert.AreEqual(new KeyDataViewType(10), scored.Schema["PredictedLabel"].Type);
        Assert.IsTrue(scored.Schema["PredictedLabel"].HasKeyValues());

        var metrics = _ml.MulticlassClassification.Evaluate(scored, topKPredictionCount: 3);
        Console.WriteLine($"micro accuracy {metrics.MicroAccuracy:F4}, macro {metrics.MacroAccuracy:F4}, log-loss {metrics.LogLoss:F4}");
        Assert.IsGreaterThanOrEqualTo(RequiredAccuracy, metrics.MicroAccuracy, $"accuracy {metrics.MicroAccuracy:F4}");

        // The same numbers from the calculator on the scores read back.
        var labels = _ml.Data.CreateEnumerable<LabelRow>(_test, reuseRowObject: false, ignoreMissingColumns: true).Select(r => (int)r.Label - 1).ToArray();
        var (keys, scores) = ReadScores(scored);
        var flat = scores.SelectMany(s => s).ToArray();
        var expected = MulticlassMetricsCalculator.Compute(labels, flat, 3, Classifier.ClassNames);
        Assert.AreEqual(expected.MicroAccuracy, metrics.MicroAccuracy);
        Assert.AreEqual(expected.MacroAccuracy, metrics.MacroAccuracy);
        Assert.AreEqual(expected.LogLoss, metrics.LogLoss);
        Assert.AreEqual(expected.TopKAccuracy, metrics.TopKAccuracy);

        // Scores are probabilities and PredictedLabel is their argmax; PredictedLabelValue is the class name.
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.AreEqual(1.0, scores[i].Sum(), 1e-5);
            Assert.AreEqual((uint)Array.IndexOf(scores[i], scores[i].Max()) + 1, keys[i]);
        }
        var values = _ml.Data.CreateEnumerable<Output>(scored, reuseRowObject: true, ignoreMissingColumns: true).Take(3).Select(o => o.PredictedLabelValue).ToList();
        CollectionAssert.IsSubsetOf(values, Classifier.ClassNames.ToList());
    }

    private sealed class FailingView(DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => false;

        public long? GetRowCount() => null;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            throw new InvalidOperationException("data was read");
    }

    public sealed class LabelRow
    {
        public uint Label { get; set; }
    }

    [TestMethod]
    public void TransformIsLazyAndBatchesGiveTheSameScoresAsSingleRows()
    {
        // Transform opens no cursor: a source that fails when read is fine until the result is read.
        var lazy = Classifier.Transform(new FailingView(_ml.Transforms.CopyColumns("Features", "Pixels").Fit(_test).Transform(_test).Schema));
        Assert.AreEqual("Score", lazy.Schema[^2].Name);
        Assert.ThrowsExactly<InvalidOperationException>(() => lazy.GetRowCursor(lazy.Schema).Dispose());

        var scored = Classifier.Transform(_ml.Data.TakeRows(_test, 300).Let(v => _ml.Transforms.CopyColumns("Features", "Pixels").Fit(v).Transform(v)));
        var (_, all) = ReadScores(scored);
        Assert.HasCount(300, all);
        // Row 260 lies in the second batch of 256.
        var one = ReadScores(Classifier.Transform(_ml.Transforms.CopyColumns("Features", "Pixels").Fit(_test).Transform(_ml.Data.SkipRows(_ml.Data.TakeRows(_test, 261), 260)))).Scores.Single();
        TensorAssertArrays(all[260], one, 1e-5f);
    }

    [TestMethod]
    public void SaveAndLoadScoreIdentically()
    {
        string path = Path.Combine(Path.GetTempPath(), $"convnet-pipeline-{Guid.NewGuid():N}.zip");
        try
        {
            _ml.Model.Save(_model, _train.Schema, path);
            var manifest = ModelFile.Read(path).Manifest;
            CollectionAssert.AreEqual(new[] { "CopyColumns", "ConvNet", "MapKeyToValue" }, manifest.Pipeline.Select(s => s.Kind).ToArray());
            Assert.AreEqual("smallcnn", manifest.Architecture!.Name);
            CollectionAssert.AreEqual(Classifier.ClassNames.ToList(), manifest.ClassNames.ToList());
            CollectionAssert.AreEqual(new[] { 1, 28, 28 }, manifest.InputShape!.ToArray());

            var loaded = _ml.Model.Load(path, out var schema);
            using var disposable = (IDisposable)loaded;
            Assert.AreEqual(_train.Schema.ToString(), schema.ToString());
            Assert.IsTrue(schema["Label"].HasKeyValues());
            var data = _ml.Data.TakeRows(_test, 300);
            var (k1, s1) = ReadScores(_model.Transform(data));
            var (k2, s2) = ReadScores(loaded.Transform(data));
            CollectionAssert.AreEqual(k1, k2);
            for (int i = 0; i < s1.Length; i++)
            {
                CollectionAssert.AreEqual(s1[i], s2[i], $"row {i}, bit for bit");
            }
            var names = _ml.Data.CreateEnumerable<Output>(loaded.Transform(data), false, ignoreMissingColumns: true).Select(o => o.PredictedLabelValue).ToList();
            Assert.AreEqual(Classifier.ClassNames[(int)k1[0] - 1], names[0]);

            using var stream = new MemoryStream();
            _ml.Model.Save(_model, _train.Schema, stream);
            stream.Position = 0;
            using var fromStream = (IDisposable)_ml.Model.Load(stream, out _);
            CollectionAssert.AreEqual(s1[0], ReadScores(((ITransformer)fromStream).Transform(data)).Scores[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LoadReportsTruncatedAndNewerFilesThroughModelFile()
    {
        using var stream = new MemoryStream();
        _ml.Model.Save(_model, _train.Schema, stream);
        var bytes = stream.ToArray();
        using var truncated = new MemoryStream(bytes[..(bytes.Length / 2)]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(truncated, out _));
        StringAssert.Contains(e.Message, "truncated");

        var manifest = ModelFile.Read(new MemoryStream(bytes)).Manifest;
        using var newer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(newer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry(ModelFile.ManifestEntryName).Open()))
            {
                w.Write($"{{\"FormatVersion\": {ModelFile.CurrentFormatVersion + 1}}}");
            }
            zip.CreateEntry(ModelFile.TensorsEntryName);
        }
        newer.Position = 0;
        e = Assert.ThrowsExactly<InvalidDataException>(() => _ml.Model.Load(newer, out _));
        StringAssert.Contains(e.Message, "newer version");
        Assert.IsNotEmpty(manifest.Pipeline);
    }

    [TestMethod]
    public void PredictionEngineMatchesBatchScoresAndPoolIsThreadSafe()
    {
        var rows = _ml.Data.CreateEnumerable<PixelsRow>(_ml.Data.TakeRows(_test, 40), reuseRowObject: false)
            .Select(r => new Input { Pixels = r.Pixels }).ToArray();
        var (keys, scores) = ReadScores(_model.Transform(_ml.Data.TakeRows(_test, 40)));
        var engine = _ml.Model.CreatePredictionEngine<Input, Output>(_model);
        for (int i = 0; i < 5; i++)
        {
            var p = engine.Predict(rows[i]);
            Assert.AreEqual(keys[i], p.PredictedLabel);
            TensorAssertArrays(scores[i], p.Score, 1e-5f);
            Assert.AreEqual(Classifier.ClassNames[(int)p.PredictedLabel - 1], p.PredictedLabelValue);
        }

        var pool = _ml.Model.CreatePredictionEnginePool<Input, Output>(_model);
        var results = new Output[rows.Length];
        Parallel.For(0, rows.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = pool.Predict(rows[i]));
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(keys[i], results[i].PredictedLabel, $"row {i}");
            TensorAssertArrays(scores[i], results[i].Score, 1e-5f);
        }
    }

    public sealed class PixelsRow
    {
        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];
    }

    private static void TensorAssertArrays(float[] expected, float[] actual, float atol)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], atol, $"item {i}");
        }
    }
}

/// <summary>Small helpers for fluent test code.</summary>
internal static class FluentExtensions
{
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> f) => f(value);
}
