namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Pipelines;

[TestClass]
public sealed class PipelineTests
{
    public sealed class Row
    {
        public string Label { get; set; } = "";

        public float A { get; set; }

        [VectorType(3)]
        public float[] V { get; set; } = [];
    }

    public sealed class KeyRow
    {
        [KeyType(3)]
        public uint Label { get; set; }
    }

    public sealed class LabelOut
    {
        public string Label { get; set; } = "";

        public uint Key { get; set; }
    }

    public sealed class ConcatOut
    {
        public float[] Features { get; set; } = [];

        public float[] Copy { get; set; } = [];
    }

    private static Row[] Rows() =>
    [
        new() { Label = "cat", A = 1, V = [1, 2, 3] },
        new() { Label = "dog", A = 2, V = [4, 5, 6] },
        new() { Label = "cat", A = 3, V = [7, 8, 9] },
        new() { Label = "ant", A = 4, V = [0, 0, 1] },
    ];

    /// <summary>An estimator and transformer that fail if any work is done; the schema passes through.</summary>
    private sealed class Tripwire : IEstimator<ITransformer>, ITransformer
    {
        public bool IsRowToRowMapper => true;

        public ITransformer Fit(IDataView input) => throw new InvalidOperationException("Fit ran");

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => throw new InvalidOperationException("Transform ran");
    }

    [TestMethod]
    public void MapValueToKeyByOccurrenceWithKeyValues()
    {
        var ml = new ConvNetContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var model = ml.Transforms.Conversion.MapValueToKey("Key", "Label").Fit(data);
        var output = model.Transform(data);
        var key = output.Schema["Key"];
        Assert.AreEqual(new KeyDataViewType(3), key.Type);
        string[] values = [];
        key.GetKeyValues(ref values);
        CollectionAssert.AreEqual(new[] { "cat", "dog", "ant" }, values);
        var keys = ml.Data.CreateEnumerable<LabelOut>(output, false).Select(r => r.Key).ToArray();
        CollectionAssert.AreEqual(new uint[] { 1, 2, 1, 3 }, keys);

        var sorted = ml.Transforms.Conversion.MapValueToKey("Key", "Label", keyOrdinality: KeyOrdinality.ByValue).Fit(data);
        CollectionAssert.AreEqual(new[] { "ant", "cat", "dog" }, (string[])sorted.GetKeyValues("Key"));

        // New data: unseen values map to the missing key 0.
        var fresh = ml.Data.LoadFromEnumerable(new[] { new Row { Label = "dog", V = [0, 0, 0] }, new Row { Label = "emu", V = [0, 0, 0] } });
        CollectionAssert.AreEqual(new uint[] { 2, 0 }, ml.Data.CreateEnumerable<LabelOut>(model.Transform(fresh), false).Select(r => r.Key).ToArray());
    }

    [TestMethod]
    public void MapKeyToValueRestoresValues()
    {
        var ml = new ConvNetContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.CopyColumns("Key", "Label"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("Label"));
        var output = pipeline.Fit(data).Transform(data);
        Assert.AreSame(TextDataViewType.Instance, output.Schema["Label"].Type);
        Assert.AreEqual(0, output.Schema["Label"].Index, "a replaced column keeps its place");
        var rows = ml.Data.CreateEnumerable<LabelOut>(output, false).ToList();
        CollectionAssert.AreEqual(new[] { "cat", "dog", "cat", "ant" }, rows.Select(r => r.Label).ToArray());
        CollectionAssert.AreEqual(new uint[] { 1, 2, 1, 3 }, rows.Select(r => r.Key).ToArray());

        // Key 0 (missing) maps to empty text; a key without values is a schema error.
        var fresh = ml.Data.LoadFromEnumerable(new[] { new Row { Label = "zebra", V = [0, 0, 0] } });
        var back = ml.Data.CreateEnumerable<LabelOut>(pipeline.Fit(data).Transform(fresh), false).Single();
        Assert.AreEqual("", back.Label);
        var keysOnly = ml.Data.LoadFromEnumerable(new[] { new KeyRow { Label = 1 } });
        var e = Assert.Throws<SchemaMismatchException>(() => ml.Transforms.Conversion.MapKeyToValue("Label").Fit(keysOnly));
        Assert.AreEqual("Schema mismatch for input column 'Label': expected Key with key values (KeyValues annotation), got Key<UInt32, 0-2>", e.Message);
    }

    [TestMethod]
    public void MapValueToKeyRejectsVectors()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var e = Assert.Throws<SchemaMismatchException>(() => ml.Transforms.Conversion.MapValueToKey("V").Fit(data));
        Assert.AreEqual("Schema mismatch for input column 'V': expected Text, numeric or Boolean scalar, got Vector<Single, 3>", e.Message);
        Assert.AreEqual("V", e.ColumnName);
        Assert.IsInstanceOfType<ArgumentOutOfRangeException>(e);
    }

    [TestMethod]
    public void ChainSchemaErrorsComeBeforeAnyWork()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var chain = new Tripwire()
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.Transforms.Concatenate("Features", "A", "Label"));
        // The schema check fails on the last step; neither the tripwire's Fit nor MapValueToKey's Fit ran.
        var e = Assert.Throws<SchemaMismatchException>(() => chain.Fit(data));
        Assert.AreEqual("Schema mismatch for input column 'Label': expected Single or Vector<Single> of known size, got Key<UInt32>", e.Message);
        Assert.Throws<SchemaMismatchException>(() => chain.GetOutputSchema(data.Schema));
        var missing = new Tripwire().Append(ml.Transforms.CopyColumns("X", "Nope"));
        var e2 = Assert.Throws<SchemaMismatchException>(() => missing.Fit(data));
        StringAssert.StartsWith(e2.Message, "Could not find input column 'Nope'");

        var transformers = new Tripwire().Append(new ColumnCopyingTransformer([new("X", "Nope")]));
        Assert.Throws<SchemaMismatchException>(() => transformers.Transform(data));
    }

    [TestMethod]
    public void TransformsAreLazy()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        int calls = 0;
        var counting = new CountingTransformer(() => calls++);
        var view = counting.Transform(data);
        Assert.AreEqual(0, calls, "Transform computes nothing");
        using (var c = view.GetRowCursor(view.Schema))
        {
            var g = c.GetGetter<int>(view.Schema["Length"]);
            Assert.AreEqual(0, calls, "making a getter computes nothing");
            c.MoveNext();
            c.MoveNext();
            int v = 0;
            g(ref v);
            Assert.AreEqual(1, calls, "only the value read is computed");
            Assert.AreEqual(3, v);
        }
        using (var c = view.GetRowCursor([view.Schema["A"]]))
        {
            while (c.MoveNext())
            {
            }
        }
        Assert.AreEqual(1, calls, "an inactive computed column is never computed");
    }

    /// <summary>Writes the length of Label, counting the computations (the example of <see cref="RowToRowTransformerBase"/>).</summary>
    private sealed class CountingTransformer(Action onCompute) : RowToRowTransformerBase
    {
        protected override IEnumerable<OutputColumn> GetOutputColumns(DataViewSchema inputSchema)
        {
            var col = SchemaMismatchException.Require(inputSchema, "Label", "String", t => t is TextDataViewType);
            yield return OutputColumn.Create<int>("Length", NumberDataViewType.Int32, [col.Name], row =>
            {
                var text = row.GetGetter<string>(row.Schema[col.Index]);
                string s = "";
                return (ref int value) =>
                {
                    onCompute();
                    text(ref s);
                    value = s.Length;
                };
            });
        }
    }

    [TestMethod]
    public void ConcatenateAndCopyColumns()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var pipeline = ml.Transforms.Concatenate("Features", "V", "A", "V")
            .Append(ml.Transforms.CopyColumns("Copy", "Features"));
        var schema = pipeline.GetOutputSchema(data.Schema);
        Assert.AreEqual("Vector<Single, 7>", schema["Features"].Type.ToString());
        Assert.AreEqual("Vector<Single, 7>", schema["Copy"].Type.ToString());
        var output = pipeline.Fit(data).Transform(data);
        var rows = ml.Data.CreateEnumerable<ConcatOut>(output, false).ToList();
        CollectionAssert.AreEqual(new float[] { 4, 5, 6, 2, 4, 5, 6 }, rows[1].Features);
        CollectionAssert.AreEqual(rows[1].Features, rows[1].Copy);
        Assert.AreNotSame(rows[0].Features, rows[1].Features);

        var e = Assert.Throws<SchemaMismatchException>(() => ml.Transforms.Concatenate("F", "A", "Label").GetOutputSchema(data.Schema));
        Assert.AreEqual("Schema mismatch for input column 'Label': expected Single or Vector<Single> of known size, got String", e.Message);
    }

    [TestMethod]
    public void ShuffledCursorOverTransformPassesThrough()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var view = ml.Transforms.CopyColumns("B", "A").Fit(data).Transform(data);
        Assert.IsTrue(view.CanShuffle);
        var seen = new List<float>();
        using var c = view.GetRowCursor([view.Schema["B"]], new Random(3));
        var g = c.GetGetter<float>(view.Schema["B"]);
        while (c.MoveNext())
        {
            float v = 0;
            g(ref v);
            seen.Add(v);
        }
        CollectionAssert.AreEquivalent(new float[] { 1, 2, 3, 4 }, seen);
    }
}
