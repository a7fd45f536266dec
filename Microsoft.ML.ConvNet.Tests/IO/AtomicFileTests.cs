using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Tests.IO;

/// <summary>Atomic writes: a temporary file in the target's folder, then a rename; a failure keeps the old file and removes the temporary one.</summary>
[TestClass]
public sealed class AtomicFileTests
{
    private string _dir = null!;

    [TestInitialize]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("convnet-atomic-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void WritesANewFileAndCreatesItsFolder()
    {
        string path = Path.Combine(_dir, "sub", "deeper", "data.bin");
        AtomicFile.Write(path, s => s.Write([1, 2, 3]));

        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        CollectionAssert.AreEqual(new[] { "data.bin" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void WritesBesideTheTargetAndRenamesOnlyAtTheEnd()
    {
        string path = Path.Combine(_dir, "data.bin");
        File.WriteAllBytes(path, [9]);
        string? temporary = null;
        AtomicFile.Write(path, s =>
        {
            temporary = Assert.IsInstanceOfType<FileStream>(s).Name;
            s.Write([4, 5]);
            s.Flush();
            CollectionAssert.AreEqual(new byte[] { 9 }, File.ReadAllBytes(path), "the target is unchanged while writing");
        });

        Assert.IsNotNull(temporary);
        Assert.AreEqual(_dir, Path.GetDirectoryName(temporary), "the temporary file is in the target's folder, so the rename stays on one volume");
        StringAssert.StartsWith(Path.GetFileName(temporary), "data.bin.");
        StringAssert.EndsWith(temporary, ".tmp");
        Assert.IsFalse(File.Exists(temporary));
        CollectionAssert.AreEqual(new byte[] { 4, 5 }, File.ReadAllBytes(path), "the new content replaces the old");
    }

    [TestMethod]
    public void AFailedWriteKeepsTheOldFileAndRemovesTheTemporaryFile()
    {
        string path = Path.Combine(_dir, "data.bin");
        File.WriteAllBytes(path, [7, 7, 7]);

        var e = Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1, 2]);
            throw new IOException("disk full");
        }));

        Assert.AreEqual("disk full", e.Message, "the writer's exception reaches the caller unchanged");
        CollectionAssert.AreEqual(new byte[] { 7, 7, 7 }, File.ReadAllBytes(path), "the old file is intact");
        CollectionAssert.AreEqual(new[] { "data.bin" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray(), "no *.tmp left behind");
    }

    [TestMethod]
    public void AFailedFirstWriteLeavesNoFile()
    {
        string path = Path.Combine(_dir, "fresh.bin");
        Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException("no data")));

        Assert.IsFalse(File.Exists(path));
        Assert.IsEmpty(Directory.GetFiles(_dir));
    }

    [TestMethod]
    public void ANullWriterIsRejectedBeforeAnyFileIsTouched()
    {
        string path = Path.Combine(_dir, "data.bin");
        Assert.ThrowsExactly<ArgumentNullException>(() => AtomicFile.Write(path, null!));
        Assert.IsEmpty(Directory.GetFiles(_dir));
    }

    [TestMethod]
    public void StaleTemporaryFilesOfKilledSavesAreRemovedAtTheNextSaveAndLockedOnesKept()
    {
        string path = Path.Combine(_dir, "model.zip");
        string stale = path + ".0123abcd.tmp", busy = path + ".89abcdef.tmp", other = path + ".notours.tmp", otherName = Path.Combine(_dir, "other.zip.0123abcd.tmp");
        foreach (string f in new[] { stale, busy, other, otherName })
        {
            File.WriteAllBytes(f, new byte[1000]);
        }
        using (new FileStream(busy, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            AtomicFile.Write(path, s => s.Write([7]));
        }
        CollectionAssert.AreEquivalent(
            new[] { "model.zip", Path.GetFileName(busy), Path.GetFileName(other), Path.GetFileName(otherName) },
            Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray(),
            "the stale file of this path is removed; one still being written, and files of other names, stay");
        AtomicFile.Write(path, s => s.Write([8]));
        Assert.IsFalse(File.Exists(busy), "once released it is stale too");
    }

    [TestMethod]
    public void CheckWritableNamesAPathThatCannotBeWrittenAndLeavesNothing()
    {
        string file = Path.Combine(_dir, "plain.txt");
        File.WriteAllText(file, "x");
        var e = Assert.ThrowsExactly<IOException>(() => AtomicFile.CheckWritable(Path.Combine(file, "model.zip")));
        StringAssert.Contains(e.Message, Path.Combine(file, "model.zip"));
        e = Assert.ThrowsExactly<IOException>(() => AtomicFile.CheckWritable(_dir));
        StringAssert.Contains(e.Message, "is a folder");
        if (OperatingSystem.IsLinux())
        {
            e = Assert.ThrowsExactly<IOException>(() => AtomicFile.CheckWritable("/proc/x.zip"));
            StringAssert.Contains(e.Message, "/proc/x.zip");
        }
        string ok = Path.Combine(_dir, "new", "model.zip");
        AtomicFile.CheckWritable(ok);
        Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(ok)!), "the probe file is removed");
    }
}
