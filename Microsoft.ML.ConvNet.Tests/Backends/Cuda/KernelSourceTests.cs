using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>The packaged CUDA C sources, the kernel names the backend launches, the compile cache and argument packing.</summary>
[TestClass]
public sealed partial class KernelSourceTests
{
    private static IEnumerable<string> LaunchedKernels()
        => typeof(KernelNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!);

    [TestMethod]
    public void EveryLaunchedKernelIsDefinedExactlyOnceInThePackagedSources()
    {
        var files = KernelSources.Files;
        CollectionAssert.AreEquivalent(new[] { "elementwise.cu", "norm.cu", "optim.cu", "pool.cu", "reduce.cu" }, files.Select(f => f.Name).ToArray());
        var defined = files.SelectMany(f => f.Kernels).ToList();
        Assert.AreEqual(defined.Count, defined.Distinct().Count(), "a kernel name is defined twice");
        foreach (var name in LaunchedKernels())
        {
            CollectionAssert.Contains(defined, name, $"kernel {name} is launched but no .cu resource defines it");
        }
        CollectionAssert.AreEquivalent(defined, LaunchedKernels().ToList(), "every packaged kernel is launched by the backend");
        foreach (var f in files)
        {
            StringAssert.StartsWith(f.Source, "// ---- common.cuh", "the shared prelude comes first");
            StringAssert.Contains(f.Source, "__device__ float block_sum");
        }
    }

    [TestMethod]
    public void KernelNameParserReadsExternCGlobalFunctionsOnly()
    {
        const string source = "extern \"C\" __global__ void a(int x) {}\n__global__ void b() {}\nextern \"C\"  __global__  void  c_2 (float* p)\n__device__ float d();";
        CollectionAssert.AreEqual(new[] { "a", "c_2" }, KernelSources.ParseKernelNames(source).ToArray());
    }

    [TestMethod]
    public void OperationCodesInTheSourcesMatchTheEnums()
    {
        string elementwise = KernelSources.ReadResource("elementwise.cu");
        string reduce = KernelSources.ReadResource("reduce.cu");
        AssertCodes<UnaryOp>(elementwise, "UNARY_");
        AssertCodes<BinaryOp>(elementwise, "BINARY_");
        AssertCodes<ReduceOp>(reduce, "REDUCE_");
    }

    private static void AssertCodes<T>(string source, string prefix) where T : struct, Enum
    {
        var defines = DefineLine().Matches(source).Where(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(m => m.Groups[1].Value[prefix.Length..], m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.HasCount(Enum.GetValues<T>().Length, defines, $"one {prefix}* define per {typeof(T).Name} value");
        foreach (var v in Enum.GetValues<T>())
        {
            Assert.IsTrue(defines.TryGetValue(v.ToString().ToUpperInvariant(), out int code), $"{prefix}{v} is not defined");
            Assert.AreEqual(Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture), code, $"{prefix}{v}");
        }
    }

    [GeneratedRegex(@"#define\s+(\w+)\s+(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex DefineLine();

    [TestMethod]
    public void CacheKeyChangesWithEverythingThatChangesTheImage()
    {
        string[] options = ["--gpu-architecture=sm_90", "--std=c++17"];
        string key = KernelCache.Key("src", "sm_90", options, "13.0");
        Assert.AreEqual(32, key.Length);
        Assert.AreEqual(key, KernelCache.Key("src", "sm_90", options, "13.0"), "deterministic");
        Assert.AreNotEqual(key, KernelCache.Key("src2", "sm_90", options, "13.0"));
        Assert.AreNotEqual(key, KernelCache.Key("src", "sm_100", options, "13.0"));
        Assert.AreNotEqual(key, KernelCache.Key("src", "sm_90", ["--gpu-architecture=sm_90"], "13.0"));
        Assert.AreNotEqual(key, KernelCache.Key("src", "sm_90", options, "12.9"));
        Assert.AreEqual(Path.Combine("/c", "sm_90", $"elementwise-{key}.cubin"), KernelCache.PathFor("/c", "sm_90", "elementwise.cu", key, cubin: true));
        Assert.AreEqual(Path.Combine("/c", "compute_90", $"norm-{key}.ptx"), KernelCache.PathFor("/c", "compute_90", "norm.cu", key, cubin: false));
    }

    [TestMethod]
    public void CacheFolderComesFromTheVariableThenXdgThenHome()
    {
        var env = new Dictionary<string, string> { ["HOME"] = "/home/u" };
        string? Get(string n) => env.TryGetValue(n, out var v) ? v : null;
        Assert.AreEqual(Path.Combine("/home/u", ".cache", "convnetml", "kernels"), KernelCache.DefaultFolder(Get));
        env["XDG_CACHE_HOME"] = "/xdg";
        Assert.AreEqual(Path.Combine("/xdg", "convnetml", "kernels"), KernelCache.DefaultFolder(Get));
        env[KernelCache.FolderVariable] = "/explicit";
        Assert.AreEqual("/explicit", KernelCache.DefaultFolder(Get));
    }

    [TestMethod]
    public void CacheFilesAreWrittenAtomicallyAndReadBack()
    {
        string folder = Directory.CreateTempSubdirectory("convnet-kernel-cache-").FullName;
        try
        {
            string path = KernelCache.PathFor(folder, "sm_80", "optim.cu", KernelCache.Key("x", "sm_80", [], "13.0"), cubin: true);
            Assert.IsNull(KernelCache.TryRead(path));
            Assert.IsTrue(KernelCache.TryWrite(path, [1, 2, 3]));
            CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, KernelCache.TryRead(path));
            Assert.IsTrue(KernelCache.TryWrite(path, [4]));
            CollectionAssert.AreEqual(new byte[] { 4 }, KernelCache.TryRead(path));
            Assert.HasCount(1, Directory.GetFiles(Path.GetDirectoryName(path)!), "no temporary files are left behind");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void KernelArgumentsFollowCAlignment()
    {
        var a = new KernelArgs(stackalloc byte[128]);
        a.Int(7);
        a.Ptr(0x1234);
        a.Float(1.5f);
        a.Dims([2, 3]);
        a.Long(9);
        var bytes = a.Bytes.ToArray();
        Assert.AreEqual(4 + 4 + 8 + 4 + 32 + 4 + 8, bytes.Length, "int, pad, pointer, float, Dims8, pad, long long");
        Assert.AreEqual(7, BitConverter.ToInt32(bytes, 0));
        Assert.AreEqual(0x1234L, BitConverter.ToInt64(bytes, 8));
        Assert.AreEqual(1.5f, BitConverter.ToSingle(bytes, 16));
        Assert.AreEqual(2, BitConverter.ToInt32(bytes, 20));
        Assert.AreEqual(3, BitConverter.ToInt32(bytes, 24));
        Assert.AreEqual(1, BitConverter.ToInt32(bytes, 28), "unused dims are 1");
        Assert.AreEqual(9L, BitConverter.ToInt64(bytes, 56));
    }

    [TestMethod]
    public void ReductionBlocksArePowersOfTwoFromOneWarpTo256Threads()
    {
        Assert.AreEqual(32, CudaBackend.ReductionThreads(1));
        Assert.AreEqual(32, CudaBackend.ReductionThreads(32));
        Assert.AreEqual(64, CudaBackend.ReductionThreads(33));
        Assert.AreEqual(128, CudaBackend.ReductionThreads(100));
        Assert.AreEqual(256, CudaBackend.ReductionThreads(257));
        Assert.AreEqual(256, CudaBackend.ReductionThreads(1L << 40));
    }
}
