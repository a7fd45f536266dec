using Microsoft.ML.ConvNet.Pipelines;

namespace Microsoft.ML.ConvNet.Tests.Pipelines;

[TestClass]
public sealed class LoaderTests
{
    private string _tmp = null!;

    [TestInitialize]
    public void Init()
    {
        _tmp = Path.Combine(Path.GetTempPath(), "convnet-pipe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tmp);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_tmp, recursive: true);

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public sealed class Listing
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";

        public float Weight { get; set; }
    }

    private void Touch(string relative)
    {
        string p = Path.Combine(_tmp, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, [0]);
    }

    [TestMethod]
    public void LoadFromImageFolderRecursesAndFilters()
    {
        Touch("cats/a.jpg");
        Touch("cats/b.PNG");
        Touch("dogs/puppies/c.jpeg");
        Touch("dogs/d.bmp");
        Touch("dogs/notes.txt");
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromImageFolder(_tmp);
        var rows = ml.Data.CreateEnumerable<ImageRow>(data, false).ToList();
        CollectionAssert.AreEqual(new[] { "cats/a.jpg", "cats/b.PNG", "dogs/d.bmp", "dogs/puppies/c.jpeg" }, rows.Select(r => r.ImagePath).ToArray());
        CollectionAssert.AreEqual(new[] { "cats", "cats", "dogs", "puppies" }, rows.Select(r => r.Label).ToArray());

        var jpgOnly = ml.Data.LoadFromImageFolder(_tmp, extensions: ["jpg", ".jpeg"]);
        Assert.AreEqual(2L, jpgOnly.GetRowCount());
        var noLabel = ml.Data.LoadFromImageFolder(_tmp, useFolderNameAsLabel: false);
        Assert.AreEqual(1, noLabel.Schema.Count);
        Assert.Throws<DirectoryNotFoundException>(() => ml.Data.LoadFromImageFolder(Path.Combine(_tmp, "missing")));
    }

    [TestMethod]
    public void LoadFromTextFileCsvByHeader()
    {
        string path = Path.Combine(_tmp, "list.csv");
        File.WriteAllText(path, "Label,ImagePath,Weight\ncat,cats/a.jpg,1.5\n\ndog,\"dogs/b,c.jpg\",\n");
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromTextFile<Listing>(path, separatorChar: ',', hasHeader: true, allowQuoting: true);
        var rows = ml.Data.CreateEnumerable<Listing>(data, false).ToList();
        Assert.HasCount(2, rows);
        Assert.AreEqual("cats/a.jpg", rows[0].ImagePath);
        Assert.AreEqual("dog", rows[1].Label);
        Assert.AreEqual("dogs/b,c.jpg", rows[1].ImagePath);
        Assert.AreEqual(1.5f, rows[0].Weight);
        Assert.IsTrue(float.IsNaN(rows[1].Weight), "an empty float field is NaN");

        File.WriteAllText(path, "Label,ImagePath,Weight\ncat,a.jpg,heavy\n");
        var e = Assert.Throws<InvalidDataException>(() => ml.Data.LoadFromTextFile<Listing>(path, ',', true));
        StringAssert.Contains(e.Message, "line 2, column 'Weight': cannot read 'heavy' as Single");
        File.WriteAllText(path, "Label,Path\ncat,a.jpg\n");
        var e2 = Assert.Throws<InvalidDataException>(() => ml.Data.LoadFromTextFile<Listing>(path, ',', true));
        StringAssert.Contains(e2.Message, "no header field named 'ImagePath'");
    }

    [TestMethod]
    public void LoadFromTextFileTsvWithColumns()
    {
        string path = Path.Combine(_tmp, "list.tsv");
        File.WriteAllText(path, "x/1.png\t3\ttrue\ny/2.png\t4\t0\n");
        var ml = new ConvNetContext();
        var data = ml.Data.LoadFromTextFile(path,
            [new TextLoader.Column("ImagePath", DataKind.String, 0), new TextLoader.Column("Label", DataKind.Int32, 1), new TextLoader.Column("Ok", DataKind.Boolean, 2)]);
        Assert.AreSame(NumberDataViewType.Int32, data.Schema["Label"].Type);
        using var c = data.GetRowCursor(data.Schema);
        var path0 = c.GetGetter<string>(data.Schema["ImagePath"]);
        var label = c.GetGetter<int>(data.Schema["Label"]);
        var ok = c.GetGetter<bool>(data.Schema["Ok"]);
        var got = new List<(string, int, bool)>();
        while (c.MoveNext())
        {
            string p = "";
            int l = 0;
            bool o = false;
            path0(ref p);
            label(ref l);
            ok(ref o);
            got.Add((p, l, o));
        }
        CollectionAssert.AreEqual(new[] { ("x/1.png", 3, true), ("y/2.png", 4, false) }, got);
    }
}
