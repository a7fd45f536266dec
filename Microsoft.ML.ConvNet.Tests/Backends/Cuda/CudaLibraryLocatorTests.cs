using Microsoft.ML.ConvNet.Backends.Cuda;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>
/// Library discovery on fake folder trees: empty files named like the libraries stand in for them (nothing is loaded),
/// and the environment, home folder and system folders are injected.
/// </summary>
[TestClass]
public sealed class CudaLibraryLocatorTests
{
    private string _root = null!;

    [TestInitialize]
    public void CreateRoot() => _root = Directory.CreateTempSubdirectory("convnet-cuda-locator-").FullName;

    [TestCleanup]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private string Touch(params string[] parts)
    {
        string path = Path.Combine([_root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    private string Dir(params string[] parts) => Path.Combine([_root, .. parts]);

    private CudaLibraryLocator Locator(Dictionary<string, string>? env = null, string? explicitPath = null, string[]? system = null, string[]? sites = null)
        => new(explicitPath, name => env != null && env.TryGetValue(name, out var v) ? v : null, Dir("home"),
            system ?? [Dir("usr", "local", "cuda", "lib64"), Dir("usr", "local", "cuda-*", "lib64"), Dir("usr", "lib", "x86_64-linux-gnu")],
            sites ?? [Dir("usr", "lib", "python3*", "dist-packages")], useSystemLoader: false);

    [TestMethod]
    public void FindsTheWheelLibrariesOfTheActiveVirtualEnvironment()
    {
        string cublas = Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cublas", "lib", "libcublas.so.13");
        Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cublas", "lib", "libcublasLt.so.13");
        string cudnn = Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cudnn", "lib", "libcudnn.so.9");
        string ops = Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cudnn", "lib", "libcudnn_ops.so.9");
        string nvrtc = Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.13");
        string builtins = Touch("venv", "lib", "python3.12", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc-builtins.so.13.0");
        var locator = Locator(new() { ["VIRTUAL_ENV"] = Dir("venv") });

        Assert.AreEqual(cublas, locator.Find(CudaLibrarySpec.Cublas));
        Assert.AreEqual(cudnn, locator.Find(CudaLibrarySpec.Cudnn));
        Assert.AreEqual(nvrtc, locator.Find(CudaLibrarySpec.Nvrtc));
        Assert.IsNull(locator.Find(CudaLibrarySpec.Driver), "the driver never comes from a wheel");
        CollectionAssert.AreEqual(new[] { Path.Combine(Path.GetDirectoryName(cublas)!, "libcublasLt.so.13") },
            CudaLibraryLocator.FindCompanions(CudaLibrarySpec.Cublas, cublas).ToArray());
        CollectionAssert.AreEqual(new[] { ops }, CudaLibraryLocator.FindCompanions(CudaLibrarySpec.Cudnn, cudnn).ToArray());
        CollectionAssert.AreEqual(new[] { builtins }, CudaLibraryLocator.FindCompanions(CudaLibrarySpec.Nvrtc, nvrtc).ToArray());
    }

    [TestMethod]
    public void ExplicitPathThenEnvironmentVariableThenLoaderPathThenPythonThenSystem()
    {
        string inExplicit = Touch("explicit", "libcudnn.so.9");
        string inVariable = Touch("variable", "lib64", "libcudnn.so.9");
        string inLoaderPath = Touch("ld", "libcudnn.so.9");
        string inVenv = Touch("venv", "lib", "python3.11", "site-packages", "nvidia", "cudnn", "lib", "libcudnn.so.9");
        string inSystem = Touch("usr", "lib", "x86_64-linux-gnu", "libcudnn.so.9");
        var env = new Dictionary<string, string>
        {
            [CudaLibraryLocator.PathVariable] = Dir("variable"),
            ["LD_LIBRARY_PATH"] = Dir("ld"),
            ["VIRTUAL_ENV"] = Dir("venv"),
        };

        Assert.AreEqual(inExplicit, Locator(env, Dir("explicit")).Find(CudaLibrarySpec.Cudnn));
        Assert.AreEqual(inVariable, Locator(env).Find(CudaLibrarySpec.Cudnn), "CONVNET_CUDA_PATH's lib64 sub-folder is searched");
        env.Remove(CudaLibraryLocator.PathVariable);
        Assert.AreEqual(inLoaderPath, Locator(env).Find(CudaLibrarySpec.Cudnn));
        env.Remove("LD_LIBRARY_PATH");
        Assert.AreEqual(inVenv, Locator(env).Find(CudaLibrarySpec.Cudnn));
        env.Remove("VIRTUAL_ENV");
        Assert.AreEqual(inSystem, Locator(env).Find(CudaLibrarySpec.Cudnn));
    }

    [TestMethod]
    public void AnExplicitFolderMayBeAVirtualEnvironmentOrASitePackagesFolder()
    {
        string lib = Touch("env", "lib", "python3.12", "site-packages", "nvidia", "cu13", "lib", "libnvrtc.so.13");
        Assert.AreEqual(lib, Locator(explicitPath: Dir("env")).Find(CudaLibrarySpec.Nvrtc), "venv root");
        Assert.AreEqual(lib, Locator(explicitPath: Dir("env", "lib", "python3.12", "site-packages")).Find(CudaLibrarySpec.Nvrtc), "site-packages");
        string twoFolders = Dir("nothing-here") + Path.PathSeparator + Dir("env");
        Assert.AreEqual(lib, Locator(new() { [CudaLibraryLocator.PathVariable] = twoFolders }).Find(CudaLibrarySpec.Nvrtc), "a list of folders");
    }

    [TestMethod]
    public void ConvnetPythonMayNameThePythonExecutable()
    {
        string python = Touch("tools", "venv", "bin", "python3");
        string lib = Touch("tools", "venv", "lib", "python3.12", "site-packages", "nvidia", "cublas", "lib", "libcublas.so.13");
        Assert.AreEqual(lib, Locator(new() { [CudaLibraryLocator.PythonVariable] = python }).Find(CudaLibrarySpec.Cublas));
        Assert.AreEqual(lib, Locator(new() { [CudaLibraryLocator.PythonVariable] = Dir("tools", "venv") }).Find(CudaLibrarySpec.Cublas));
    }

    [TestMethod]
    public void UserSitePackagesAndSystemPythonAreSearched()
    {
        string user = Touch("home", ".local", "lib", "python3.10", "site-packages", "nvidia", "cublas", "lib", "libcublas.so.12");
        Assert.AreEqual(user, Locator().Find(CudaLibrarySpec.Cublas));
        File.Delete(user);
        string system = Touch("usr", "lib", "python3.12", "dist-packages", "nvidia", "cublas", "lib", "libcublas.so.13");
        Assert.AreEqual(system, Locator().Find(CudaLibrarySpec.Cublas));
    }

    [TestMethod]
    public void NewerVersionsComeFirstAndNewerSonamesArePreferredInAFolder()
    {
        Touch("usr", "local", "cuda-12.9", "lib64", "libcublas.so.12");
        string newest = Touch("usr", "local", "cuda-13.0", "lib64", "libcublas.so.13");
        Touch("usr", "local", "cuda-9.2", "lib64", "libcublas.so.9");
        Assert.AreEqual(newest, Locator().Find(CudaLibrarySpec.Cublas), "cuda-13.0 sorts before cuda-12.9 and cuda-9.2");
        Touch("usr", "lib", "x86_64-linux-gnu", "libnvrtc.so.12");
        string thirteen = Touch("usr", "lib", "x86_64-linux-gnu", "libnvrtc.so.13");
        Assert.AreEqual(thirteen, Locator().Find(CudaLibrarySpec.Nvrtc));
        var dirs = Locator().SearchDirectories(CudaLibrarySpec.Cublas).Select(d => d.Path).ToList();
        Assert.IsTrue(dirs.IndexOf(Dir("usr", "local", "cuda-13.0", "lib64")) < dirs.IndexOf(Dir("usr", "local", "cuda-12.9", "lib64")));
        Assert.IsTrue(dirs.IndexOf(Dir("usr", "local", "cuda-12.9", "lib64")) < dirs.IndexOf(Dir("usr", "local", "cuda-9.2", "lib64")));
    }

    [TestMethod]
    public void MissingLibraryErrorNamesTheFilesAndEveryFolderSearched()
    {
        Directory.CreateDirectory(Dir("venv"));
        var env = new Dictionary<string, string>
        {
            [CudaLibraryLocator.PathVariable] = Dir("given"),
            ["VIRTUAL_ENV"] = Dir("venv"),
            ["CUDA_HOME"] = Dir("cuda-home"),
        };
        var locator = Locator(env);
        var e = Assert.ThrowsExactly<CudaLibraryNotFoundException>(() => locator.Load(CudaLibrarySpec.Cudnn));
        StringAssert.Contains(e.Message, "cuDNN not found");
        StringAssert.Contains(e.Message, "libcudnn.so.9");
        StringAssert.Contains(e.Message, Dir("given") + " (CONVNET_CUDA_PATH, missing)");
        StringAssert.Contains(e.Message, Path.Combine(Dir("venv"), "lib", "python3*", "site-packages", "nvidia", "*", "lib") + " (VIRTUAL_ENV, missing)");
        StringAssert.Contains(e.Message, Path.Combine(Dir("cuda-home"), "lib64") + " (CUDA_HOME, missing)");
        StringAssert.Contains(e.Message, Dir("usr", "lib", "x86_64-linux-gnu") + " (system, missing)");
        StringAssert.Contains(e.Message, Path.Combine(Dir("home"), ".local", "lib", "python3*", "site-packages", "nvidia", "*", "lib"));
        StringAssert.Contains(e.Message, "site-packages/nvidia/cudnn/lib");
        foreach (var d in locator.SearchDirectories(CudaLibrarySpec.Cudnn))
        {
            StringAssert.Contains(e.Message, d.Path, "every searched folder is listed");
        }
        var driver = Assert.ThrowsExactly<CudaLibraryNotFoundException>(() => locator.Load(CudaLibrarySpec.Driver));
        StringAssert.Contains(driver.Message, "libcuda.so.1");
        StringAssert.Contains(driver.Message, "NVIDIA driver");
    }

    [TestMethod]
    public void ExistingFoldersAreMarkedAndDuplicatesListedOnce()
    {
        Directory.CreateDirectory(Dir("usr", "lib", "x86_64-linux-gnu"));
        var env = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = Dir("usr", "lib", "x86_64-linux-gnu") };
        var dirs = Locator(env).SearchDirectories(CudaLibrarySpec.Driver);
        var hits = dirs.Where(d => d.Path == Dir("usr", "lib", "x86_64-linux-gnu")).ToList();
        Assert.HasCount(1, hits);
        Assert.AreEqual("LD_LIBRARY_PATH", hits[0].Source, "the first source wins");
        Assert.IsTrue(hits[0].Exists);
    }
}
