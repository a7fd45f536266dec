namespace Microsoft.ML.ConvNet.Tests.Pipelines;

using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Pipelines;
using Microsoft.ML.ConvNet.Tests.Data;

public sealed class AllTypesRow
{
    public string Text { get; set; } = "";

    public float Single { get; set; }

    public double Double { get; set; }

    public int Int { get; set; }

    public long Long { get; set; }

    public bool Flag { get; set; }

    [VectorType(2, 3)]
    public float[] Features { get; set; } = [];

    public byte[] Bytes { get; set; } = [];

    [KeyType(5)]
    public uint Category { get; set; }

    [NoColumn]
    public string Ignored { get; set; } = "x";
}

[TestClass]
public sealed class DataViewTests
{
    private static AllTypesRow[] Rows() =>
    [
        new() { Text = "a", Single = 1.5f, Double = 2.25, Int = -3, Long = 1L << 40, Flag = true, Features = [1, 2, 3, 4, 5, 6], Bytes = [1, 2], Category = 3 },
        new() { Text = "bé", Single = float.NaN, Double = -1, Int = 7, Long = -5, Flag = false, Features = [0, 0, 0, 0, 0, 1], Bytes = [], Category = 0 },
    ];

    [TestMethod]
    public void LoadFromEnumerableMapsTypesAndRoundTrips()
    {
        var ml = new ConvNetContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var s = data.Schema;
        Assert.AreEqual(9, s.Count);
        Assert.AreSame(TextDataViewType.Instance, s["Text"].Type);
        Assert.AreSame(NumberDataViewType.Single, s["Single"].Type);
        Assert.AreSame(NumberDataViewType.Double, s["Double"].Type);
        Assert.AreSame(NumberDataViewType.Int32, s["Int"].Type);
        Assert.AreSame(NumberDataViewType.Int64, s["Long"].Type);
        Assert.AreSame(BooleanDataViewType.Instance, s["Flag"].Type);
        Assert.AreEqual("Vector<Single, 2, 3>", s["Features"].Type.ToString());
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Byte), s["Bytes"].Type);
        Assert.AreEqual("Key<UInt32, 0-4>", s["Category"].Type.ToString());
        Assert.IsNull(s.GetColumnOrNull("Ignored"));
        Assert.AreEqual(2L, data.GetRowCount());

        var back = ml.Data.CreateEnumerable<AllTypesRow>(data, reuseRowObject: false).ToList();
        var rows = Rows();
        Assert.HasCount(2, back);
        for (int i = 0; i < 2; i++)
        {
            Assert.AreEqual(rows[i].Text, back[i].Text);
            Assert.AreEqual(rows[i].Single, back[i].Single);
            Assert.AreEqual(rows[i].Double, back[i].Double);
            Assert.AreEqual(rows[i].Int, back[i].Int);
            Assert.AreEqual(rows[i].Long, back[i].Long);
            Assert.AreEqual(rows[i].Flag, back[i].Flag);
            CollectionAssert.AreEqual(rows[i].Features, back[i].Features);
            CollectionAssert.AreEqual(rows[i].Bytes, back[i].Bytes);
            Assert.AreEqual(rows[i].Category, back[i].Category);
        }
        Assert.AreNotSame(back[0], back[1]);
        var reused = ml.Data.CreateEnumerable<AllTypesRow>(data, reuseRowObject: true).Select(r => r).ToList();
        Assert.AreSame(reused[0], reused[1]);
    }

    [TestMethod]
    public void VectorLengthMustMatchDeclaredShape()
    {
        var ml = new ConvNetContext();
        var bad = Rows();
        bad[1].Features = [1, 2];
        var e = Assert.Throws<ArgumentException>(() => ml.Data.LoadFromEnumerable(bad));
        StringAssert.Contains(e.Message, "'Features' holds 2 values but is declared Vector<Single, 2, 3>");
    }

    [TestMethod]
    public void CursorGettersReadValuesAndCopyVectors()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var text = data.Schema["Text"];
        var feats = data.Schema["Features"];
        using var cursor = data.GetRowCursor([text, feats]);
        Assert.IsTrue(cursor.IsColumnActive(text));
        Assert.IsFalse(cursor.IsColumnActive(data.Schema["Int"]));
        var getText = cursor.GetGetter<string>(text);
        var getFeats = cursor.GetGetter<float[]>(feats);
        Assert.AreEqual(-1L, cursor.Position);
        Assert.IsTrue(cursor.MoveNext());
        string t = "";
        float[] f = new float[6];
        var buffer = f;
        getText(ref t);
        getFeats(ref f);
        Assert.AreEqual("a", t);
        Assert.AreSame(buffer, f, "a buffer of the right length is reused");
        f[0] = 99;
        Assert.IsTrue(cursor.MoveNext());
        Assert.AreEqual(1L, cursor.Position);
        getText(ref t);
        Assert.AreEqual("bé", t);
        Assert.IsFalse(cursor.MoveNext());

        using var again = data.GetRowCursor([feats]);
        again.MoveNext();
        float[] g = [];
        again.GetGetter<float[]>(feats)(ref g);
        Assert.AreEqual(1f, g[0], "the stored vector was not changed through a copy");
    }

    [TestMethod]
    public void GetterTypeMismatchNamesColumnAndBothTypes()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        var cat = data.Schema["Category"];
        using var cursor = data.GetRowCursor(data.Schema);
        var e = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(cat));
        Assert.AreEqual("Invalid TValue in GetGetter for column 'Category': expected type 'UInt32' (column type Key<UInt32, 0-4>), got 'Single'.", e.Message);
        var e2 = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<double[]>(data.Schema["Features"]));
        StringAssert.Contains(e2.Message, "'Features': expected type 'Single[]' (column type Vector<Single, 2, 3>), got 'Double[]'");

        using var partial = data.GetRowCursor([cat]);
        var e3 = Assert.Throws<InvalidOperationException>(() => partial.GetGetter<string>(data.Schema["Text"]));
        StringAssert.Contains(e3.Message, "Column 'Text' is not active");
    }

    [TestMethod]
    public void CreateEnumerableChecksColumns()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new TextOnly { Name = "x" } });
        var e = Assert.Throws<SchemaMismatchException>(() => ml.Data.CreateEnumerable<AllTypesRow>(data, false));
        StringAssert.Contains(e.Message, "Could not find source column");
        var wrong = ml.Data.LoadFromEnumerable(new[] { new NameAsFloat { Name = 1f } });
        var e2 = Assert.Throws<SchemaMismatchException>(() => ml.Data.CreateEnumerable<TextOnly>(wrong, false));
        Assert.AreEqual("Schema mismatch for source column 'Name': expected a type whose values are String, got Single", e2.Message);
        var some = ml.Data.CreateEnumerable<AllTypesRow>(ml.Data.LoadFromEnumerable(new[] { new TextOnly { Name = "n" } }), false, ignoreMissingColumns: true).Single();
        Assert.AreEqual("", some.Text);
    }

    public sealed class TextOnly
    {
        public string Name { get; set; } = "";
    }

    public sealed class NameAsFloat
    {
        public float Name { get; set; }
    }

    [TestMethod]
    public void SchemaBuilderLookupAndDuplicates()
    {
        var b = new DataViewSchema.Builder();
        b.AddColumn("A", NumberDataViewType.Single);
        b.AddColumn("B", new ImageDataViewType(32, 48));
        var s = b.ToSchema();
        Assert.AreEqual(1, s["B"].Index);
        Assert.AreEqual("Image<32, 48>", s["B"].Type.ToString());
        Assert.IsNull(s.GetColumnOrNull("C"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s["C"]);
        StringAssert.Contains(e.Message, "Column 'C' not found; the schema has A: Single, B: Image<32, 48>");
        b.AddColumn("A", NumberDataViewType.Double);
        Assert.Throws<ArgumentException>(b.ToSchema);
    }

    [TestMethod]
    public void ImageColumnsAcceptAnyReferenceType()
    {
        var b = new DataViewSchema.Builder();
        b.AddColumn("Image", new ImageDataViewType());
        var data = new InMemoryDataView(b.ToSchema(), [new object[] { new Uri("file:///a.png") }]);
        using var c = data.GetRowCursor(data.Schema);
        c.MoveNext();
        Uri u = null!;
        c.GetGetter<Uri>(data.Schema[0])(ref u);
        Assert.AreEqual("file:///a.png", u.ToString());
        string s = null!;
        var getter = c.GetGetter<string>(data.Schema[0]);
        Assert.Throws<InvalidCastException>(() => getter(ref s));
        Assert.Throws<InvalidOperationException>(() => c.GetGetter<int>(data.Schema[0]));
    }

    [TestMethod]
    public void ShuffleRowsIsSeededPermutation()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 50).Select(i => new IntRow { Value = i }));
        int[] Read(IDataView d) => ml.Data.CreateEnumerable<IntRow>(d, false).Select(r => r.Value).ToArray();
        var a = Read(ml.Data.ShuffleRows(data, seed: 3));
        var b = Read(ml.Data.ShuffleRows(data, seed: 3));
        var c = Read(ml.Data.ShuffleRows(data, seed: 4));
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 50).ToArray(), a);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 50).ToArray(), a);
        // A context seed makes unseeded shuffles reproducible across contexts.
        var m1 = new ConvNetContext(seed: 9);
        var m2 = new ConvNetContext(seed: 9);
        CollectionAssert.AreEqual(Read(m1.Data.ShuffleRows(data)), Read(m2.Data.ShuffleRows(data)));
    }

    [TestMethod]
    public void TakeAndSkipRows()
    {
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new IntRow { Value = i }));
        int[] Read(IDataView d) => ml.Data.CreateEnumerable<IntRow>(d, false).Select(r => r.Value).ToArray();
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, Read(ml.Data.TakeRows(data, 3)));
        CollectionAssert.AreEqual(new[] { 7, 8, 9 }, Read(ml.Data.SkipRows(data, 7)));
        CollectionAssert.AreEqual(new[] { 3, 4 }, Read(ml.Data.TakeRows(ml.Data.SkipRows(data, 3), 2)));
        Assert.AreEqual(3L, ml.Data.TakeRows(data, 3).GetRowCount());
        Assert.AreEqual(0L, ml.Data.SkipRows(data, 30).GetRowCount());
        Assert.IsEmpty(Read(ml.Data.SkipRows(data, 30)));
    }

    public sealed class IntRow
    {
        public int Value { get; set; }
    }

    public sealed class LabelRow
    {
        public int Id { get; set; }

        public string Label { get; set; } = "";

        public int Group { get; set; }
    }

    private static LabelRow[] Labelled()
    {
        // 60 "a", 30 "b", 10 "c" (an imbalanced set); groups of 4 consecutive rows.
        return Enumerable.Range(0, 100).Select(i => new LabelRow { Id = i, Label = i < 60 ? "a" : i < 90 ? "b" : "c", Group = i / 4 }).ToArray();
    }

    [TestMethod]
    public void TrainTestSplitSizesAndSeeds()
    {
        var ml = new ConvNetContext(seed: 5);
        var data = ml.Data.LoadFromEnumerable(Labelled());
        int[] Ids(IDataView d) => ml.Data.CreateEnumerable<LabelRow>(d, false).Select(r => r.Id).ToArray();
        var s1 = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var s2 = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var s3 = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 8);
        Assert.AreEqual(80L, s1.TrainSet.GetRowCount());
        Assert.AreEqual(20L, s1.TestSet.GetRowCount());
        var train = Ids(s1.TrainSet);
        var test = Ids(s1.TestSet);
        Assert.HasCount(80, train);
        Assert.HasCount(20, test);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).ToArray(), train.Concat(test).ToArray());
        CollectionAssert.AreEqual(train.Order().ToArray(), train, "the original order is kept");
        CollectionAssert.AreEqual(test, Ids(s2.TestSet));
        CollectionAssert.AreNotEqual(test, Ids(s3.TestSet));
    }

    [TestMethod]
    public void TrainTestSplitStratifiesByLabel()
    {
        var ml = new ConvNetContext(seed: 5);
        var data = ml.Data.LoadFromEnumerable(Labelled());
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1, stratificationColumnName: "Label");
        var test = ml.Data.CreateEnumerable<LabelRow>(split.TestSet, false).ToList();
        Assert.AreEqual(12, test.Count(r => r.Label == "a"));
        Assert.AreEqual(6, test.Count(r => r.Label == "b"));
        Assert.AreEqual(2, test.Count(r => r.Label == "c"));
        var train = ml.Data.CreateEnumerable<LabelRow>(split.TrainSet, false).ToList();
        Assert.AreEqual(48, train.Count(r => r.Label == "a"));
        Assert.AreEqual(8, train.Count(r => r.Label == "c"));
    }

    [TestMethod]
    public void TrainTestSplitKeepsSamplingKeyGroupsTogether()
    {
        var ml = new ConvNetContext(seed: 5);
        var data = ml.Data.LoadFromEnumerable(Labelled());
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.3, seed: 2, samplingKeyColumnName: "Group");
        var trainGroups = ml.Data.CreateEnumerable<LabelRow>(split.TrainSet, false).Select(r => r.Group).ToHashSet();
        var testGroups = ml.Data.CreateEnumerable<LabelRow>(split.TestSet, false).Select(r => r.Group).ToList();
        Assert.IsFalse(testGroups.Any(trainGroups.Contains), "no group is on both sides");
        Assert.AreEqual(32, testGroups.Count, "whole groups of 4 until at least 30 rows");
    }

    [TestMethod]
    public void FashionMnistAsDataView()
    {
        var ml = new ConvNetContext();
        string folder = FashionMnistTests.BundledFolder();
        var options = new FashionMnistOptions { Limit = 20 };
        var data = ml.Data.LoadFromFashionMnist(folder, DatasetSplit.Test, options);
        var reference = FashionMnist.Load(folder, DatasetSplit.Test, options);
        Assert.AreEqual("Vector<Single, 1, 28, 28>", data.Schema["Pixels"].Type.ToString());
        var label = data.Schema["Label"];
        Assert.AreEqual("Key<UInt32, 0-9>", label.Type.ToString());
        string[] names = [];
        label.GetKeyValues(ref names);
        CollectionAssert.AreEqual(FashionMnist.ClassNames.ToArray(), names);
        Assert.AreEqual(20L, data.GetRowCount());
        using var c = data.GetRowCursor(data.Schema);
        var px = c.GetGetter<float[]>(data.Schema["Pixels"]);
        var lb = c.GetGetter<uint>(label);
        for (int i = 0; i < 3; i++)
        {
            Assert.IsTrue(c.MoveNext());
            float[] p = [];
            uint k = 0;
            px(ref p);
            lb(ref k);
            Assert.AreEqual((uint)reference.Labels[i] + 1, k);
            CollectionAssert.AreEqual(reference.GetImage(i).ToArray(), p);
        }
        Assert.AreEqual("Ankle boot", names[reference.Labels[0]]);
    }
}
