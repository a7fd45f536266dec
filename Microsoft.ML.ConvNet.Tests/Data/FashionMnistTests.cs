using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Data;

namespace Microsoft.ML.ConvNet.Tests.Data;

[TestClass]
public sealed class FashionMnistTests
{
    private string _tmp = null!;

    [TestInitialize]
    public void Init()
    {
        _tmp = Path.Combine(Path.GetTempPath(), "convnet-fm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tmp);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_tmp, recursive: true);

    /// <summary>The bundled copy in samples/data/fashion-mnist, found from the test's working directory upwards.</summary>
    internal static string BundledFolder()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "samples", "data", "fashion-mnist");
            if (File.Exists(Path.Combine(p, "t10k-labels-idx1-ubyte.gz")))
            {
                return p;
            }
        }
        Assert.Fail("The bundled Fashion-MNIST copy (samples/data/fashion-mnist) was not found above " + AppContext.BaseDirectory);
        return null!;
    }

    [TestMethod]
    public void ClassNamesAreTheTenPublishedOnes()
    {
        CollectionAssert.AreEqual(
            new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" },
            FashionMnist.ClassNames.ToArray());
        Assert.AreEqual(10, FashionMnist.ClassCount);
    }

    [TestMethod]
    public void TestSplitLoadsVerifiedAndScaled()
    {
        var test = FashionMnist.Load(BundledFolder(), DatasetSplit.Test);
        Assert.AreEqual(10_000, test.Count);
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, test.SampleShape.Dims.ToArray());
        CollectionAssert.AreEqual(new[] { 10_000, 1, 28, 28 }, test.Shape.Dims.ToArray());
        // The test set is balanced: 1000 images per class.
        CollectionAssert.AreEqual(Enumerable.Repeat(1000, 10).ToArray(), test.ClassCounts());
        // Known first labels of t10k: Ankle boot, Pullover, Trouser, Trouser, Shirt.
        CollectionAssert.AreEqual(new[] { 9, 2, 1, 1, 6 }, test.Labels[..5]);
        Assert.AreEqual(0f, test.Images.Min());
        Assert.AreEqual(1f, test.Images.Max());
        double mean = test.Images.Average(v => (double)v);
        Assert.AreEqual(0.2868, mean, 0.002, "mean pixel of the test set");
        CollectionAssert.AreEqual(FashionMnist.ClassNames.ToArray(), test.ClassNames.ToArray());
    }

    [TestMethod]
    public void NormalisationUsesMeanAndStd()
    {
        string folder = BundledFolder();
        var raw = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 50 });
        var norm = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 50, Normalize = true });
        for (int i = 0; i < raw.Images.Length; i += 97)
        {
            Assert.AreEqual((raw.Images[i] - FashionMnist.PixelMean) / FashionMnist.PixelStd, norm.Images[i], 1e-5);
        }
    }

    [TestMethod]
    public void SubsetsFirstNAndSeededRandomN()
    {
        string folder = BundledFolder();
        var all = FashionMnist.Load(folder, DatasetSplit.Test);
        var first = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 100 });
        Assert.AreEqual(100, first.Count);
        CollectionAssert.AreEqual(all.Labels[..100], first.Labels);
        CollectionAssert.AreEqual(all.Images[..(100 * 784)], first.Images);

        var r1 = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 100, SubsetSeed = 3 });
        var r2 = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 100, SubsetSeed = 3 });
        var r3 = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 100, SubsetSeed = 4 });
        Assert.AreEqual(100, r1.Count);
        CollectionAssert.AreEqual(r1.Images, r2.Images, "same seed, same subset");
        CollectionAssert.AreNotEqual(r1.Labels, first.Labels);
        CollectionAssert.AreNotEqual(r1.Images, r3.Images, "different seed, different subset");

        // The random subset is the seeded sample of indices, in file order, with its labels.
        var indices = ImageDataset.SampleIndices(all.Count, 100, 3);
        Assert.IsTrue(indices.Distinct().Count() == 100 && indices.SequenceEqual(indices.Order()));
        for (int i = 0; i < r1.Count; i++)
        {
            Assert.AreEqual(all.Labels[indices[i]], r1.Labels[i]);
            CollectionAssert.AreEqual(all.GetImage(indices[i]).ToArray(), r1.GetImage(i).ToArray(), $"subset image {i}");
        }

        var big = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 20_000 });
        Assert.AreEqual(10_000, big.Count, "a limit above the split size loads everything");
    }

    [TestMethod]
    public void AllBundledChecksumsVerify()
    {
        string folder = BundledFolder();
        foreach (var name in FashionMnist.FileNames)
        {
            FashionMnist.VerifyChecksum(Path.Combine(folder, name));
        }
    }

    [TestMethod]
    public void TruncatedCopyIsReportedByName()
    {
        string folder = CopyTestSplit();
        string images = Path.Combine(folder, "t10k-images-idx3-ubyte.gz");
        using (var fs = new FileStream(images, FileMode.Open))
        {
            fs.SetLength(fs.Length / 3);
        }
        var e = Assert.ThrowsExactly<InvalidFileException>(() => FashionMnist.Load(folder, DatasetSplit.Test));
        StringAssert.Contains(e.Message, images);
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void CorruptCopyIsReportedByName()
    {
        string folder = CopyTestSplit();
        string labels = Path.Combine(folder, "t10k-labels-idx1-ubyte.gz");
        var bytes = File.ReadAllBytes(labels);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(labels, bytes);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => FashionMnist.Load(folder, DatasetSplit.Test));
        StringAssert.Contains(e.Message, labels);
        StringAssert.Contains(e.Message, "SHA-256");

        // Without verification the reader itself still notices: the gzip stream or its CRC is broken.
        var e2 = Assert.Throws<Exception>(() => FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { VerifyChecksums = false }));
        Assert.IsInstanceOfType<InvalidFileException>(e2);
        StringAssert.Contains(e2.Message, labels);
    }

    [TestMethod]
    public void RawFilesAreAcceptedAndVerified()
    {
        string folder = Path.Combine(_tmp, "raw");
        Directory.CreateDirectory(folder);
        string bundled = BundledFolder();
        foreach (var name in FashionMnist.FileNames.Where(n => n.StartsWith("t10k", StringComparison.Ordinal)))
        {
            using var src = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(bundled, name)), System.IO.Compression.CompressionMode.Decompress);
            using var dst = File.Create(Path.Combine(folder, name[..^3]));
            src.CopyTo(dst);
        }
        var test = FashionMnist.Load(folder, DatasetSplit.Test, new FashionMnistOptions { Limit = 10 });
        CollectionAssert.AreEqual(new[] { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }, test.Labels);

        string rawLabels = Path.Combine(folder, "t10k-labels-idx1-ubyte");
        var bytes = File.ReadAllBytes(rawLabels);
        bytes[100] = 3;
        bytes[101] = 3;
        File.WriteAllBytes(rawLabels, bytes);
        var e = Assert.ThrowsExactly<InvalidFileException>(() => FashionMnist.Load(folder, DatasetSplit.Test));
        StringAssert.Contains(e.Message, rawLabels);
    }

    [TestMethod]
    public void ExplicitFolderMissingFilesIsReported()
    {
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => FashionMnist.FindDataDirectory(_tmp));
        StringAssert.Contains(e.Message, _tmp);
        StringAssert.Contains(e.Message, "train-images-idx3-ubyte.gz");

        string missing = Path.Combine(_tmp, "does-not-exist");
        e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => FashionMnist.Load(missing, DatasetSplit.Test));
        StringAssert.Contains(e.Message, missing);

        // Load needs only its split's files: the test files alone load the test split, not the training split.
        string testOnly = CopyTestSplit();
        Assert.AreEqual(10_000, FashionMnist.Load(testOnly, DatasetSplit.Test).Count);
        e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => FashionMnist.Load(testOnly, DatasetSplit.Train));
        StringAssert.Contains(e.Message, "train-images-idx3-ubyte.gz");
    }

    [TestMethod]
    public void SearchFindsTheFolderFromEnvironmentAndListsWhereItLooked()
    {
        string? oldFolder = Environment.GetEnvironmentVariable(FashionMnist.FolderVariable);
        string? oldRoot = Environment.GetEnvironmentVariable(FashionMnist.DataRootVariable);
        string bundled = BundledFolder();
        try
        {
            // A data root holding fashion-mnist/ is found through CONVNET_DATA_DIR.
            Environment.SetEnvironmentVariable(FashionMnist.FolderVariable, null);
            Environment.SetEnvironmentVariable(FashionMnist.DataRootVariable, Path.GetDirectoryName(bundled));
            Assert.AreEqual(bundled, FashionMnist.FindDataDirectory());

            // FASHION_MNIST_DIR comes first; an environment folder lacking the files is skipped and the search goes on.
            string empty = Path.Combine(_tmp, "empty");
            Directory.CreateDirectory(empty);
            Environment.SetEnvironmentVariable(FashionMnist.FolderVariable, empty);
            Environment.SetEnvironmentVariable(FashionMnist.DataRootVariable, _tmp);
            string found = FashionMnist.FindDataDirectory();
            Assert.AreNotEqual(empty, found);
            Assert.IsTrue(File.Exists(Path.Combine(found, "t10k-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(found, "t10k-images-idx3-ubyte")));
            Environment.SetEnvironmentVariable(FashionMnist.FolderVariable, bundled);
            Assert.AreEqual(bundled, FashionMnist.FindDataDirectory());
            Environment.SetEnvironmentVariable(FashionMnist.FolderVariable, empty);

            // The search order: the variables, the working directory upwards, the executable, the system folder.
            var locations = FashionMnist.SearchLocations().ToList();
            Assert.AreEqual((empty, "$" + FashionMnist.FolderVariable), locations[0]);
            Assert.AreEqual(Path.Combine(_tmp, "fashion-mnist"), locations[1].Dir);
            Assert.AreEqual(_tmp, locations[2].Dir);
            Assert.AreEqual(Path.Combine(Directory.GetCurrentDirectory(), "samples", "data", "fashion-mnist"), locations[3].Dir);
            Assert.IsTrue(locations.Any(l => l.Dir == Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist")));
            Assert.AreEqual(FashionMnist.SystemFolder, locations[^1].Dir);

            // A failed search lists every place it looked at.
            string missing = Path.Combine(_tmp, "missing");
            var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => FashionMnist.Search([(empty, "first"), (missing, "second")]));
            StringAssert.Contains(e.Message, empty + " (first)");
            StringAssert.Contains(e.Message, missing + " (second)");
            StringAssert.Contains(e.Message, FashionMnist.FolderVariable);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FashionMnist.FolderVariable, oldFolder);
            Environment.SetEnvironmentVariable(FashionMnist.DataRootVariable, oldRoot);
        }
    }

    [TestMethod]
    public void ChecksumOfAnUnknownFileIsAnArgumentError()
    {
        string path = Path.Combine(_tmp, "other.gz");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => FashionMnist.VerifyChecksum(path));
        StringAssert.Contains(e.Message, path);
    }

    /// <summary>A new temporary folder with copies of the two test-split files.</summary>
    private string CopyTestSplit()
    {
        string folder = Path.Combine(_tmp, "copy-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        string bundled = BundledFolder();
        foreach (var name in FashionMnist.FileNames.Where(n => n.StartsWith("t10k", StringComparison.Ordinal)))
        {
            File.Copy(Path.Combine(bundled, name), Path.Combine(folder, name));
        }
        return folder;
    }
}
