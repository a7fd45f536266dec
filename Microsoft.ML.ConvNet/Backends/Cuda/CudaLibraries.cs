using System.Runtime.InteropServices;
using System.Text;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// One native library of the CUDA stack: the file names it may have (newest first), the folder of its Python
/// wheel under <c>site-packages/nvidia/</c>, and companion libraries loaded from the same folder before it.
/// </summary>
/// <param name="DisplayName">The name used in messages, e.g. "cuBLAS".</param>
/// <param name="FileNames">File names to look for, in order of preference (e.g. <c>libcublas.so.13</c>).</param>
/// <param name="WheelFolder">The folder of the NVIDIA Python wheel under <c>site-packages/nvidia/</c> (null: none).</param>
/// <param name="CompanionPatterns">
/// File patterns (<c>*</c> wildcards) of libraries preloaded from the folder where the library was found, so that
/// its own dependencies (cuBLASLt, NVRTC's builtins, cuDNN's sub-libraries) resolve to the same installation.
/// </param>
public sealed record CudaLibrarySpec(string DisplayName, IReadOnlyList<string> FileNames, string? WheelFolder, IReadOnlyList<string> CompanionPatterns)
{
    /// <summary>The driver API (<c>libcuda.so.1</c>, installed with the NVIDIA driver, never in a wheel).</summary>
    public static CudaLibrarySpec Driver { get; } = new("CUDA driver",
        OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"], null, []);

    /// <summary>The run-time compiler (CUDA 13, then 12).</summary>
    public static CudaLibrarySpec Nvrtc { get; } = new("NVRTC",
        OperatingSystem.IsWindows() ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"] : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
        "cuda_nvrtc", OperatingSystem.IsWindows() ? ["nvrtc-builtins64_*.dll"] : ["libnvrtc-builtins.so.*"]);

    /// <summary>cuBLAS with cuBLASLt beside it (CUDA 13, then 12).</summary>
    public static CudaLibrarySpec Cublas { get; } = new("cuBLAS",
        OperatingSystem.IsWindows() ? ["cublas64_13.dll", "cublas64_12.dll"] : ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
        "cublas", OperatingSystem.IsWindows() ? ["cublasLt64_*.dll"] : ["libcublasLt.so.*"]);

    /// <summary>cuDNN 9 (its sub-libraries are preloaded from the same folder).</summary>
    public static CudaLibrarySpec Cudnn { get; } = new("cuDNN",
        OperatingSystem.IsWindows() ? ["cudnn64_9.dll"] : ["libcudnn.so.9", "libcudnn.so"],
        "cudnn", OperatingSystem.IsWindows()
            ? ["cudnn_graph64_9.dll", "cudnn_ops64_9.dll", "cudnn_cnn64_9.dll"]
            : ["libcudnn_graph.so.9", "libcudnn_engines_runtime_compiled.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9"]);

    /// <summary>Every library the CUDA backend loads, in load order.</summary>
    public static IReadOnlyList<CudaLibrarySpec> All { get; } = [Driver, Nvrtc, Cublas, Cudnn];
}

/// <summary>A folder searched for CUDA libraries and why it is searched (the option or variable it comes from).</summary>
/// <param name="Path">The folder, or a pattern that matched no folder.</param>
/// <param name="Source">Where it comes from, e.g. "CONVNET_CUDA_PATH" or "system".</param>
/// <param name="Exists">False for a folder (or pattern) that does not exist; it is still listed in errors.</param>
public readonly record struct CudaSearchDirectory(string Path, string Source, bool Exists);

/// <summary>Thrown when a CUDA library cannot be found or loaded; the message names it and every folder searched.</summary>
public sealed class CudaLibraryNotFoundException : DllNotFoundException
{
    /// <summary>Creates the exception.</summary>
    public CudaLibraryNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public CudaLibraryNotFoundException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public CudaLibraryNotFoundException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// Where the CUDA backend looks for its native libraries, in this order:
/// <list type="number">
/// <item><see cref="CudaOptions.LibraryPath"/> (folders separated by the platform's path separator);</item>
/// <item>the <c>CONVNET_CUDA_PATH</c> environment variable (same form);</item>
/// <item>the folders of <c>LD_LIBRARY_PATH</c> (<c>PATH</c> on Windows);</item>
/// <item>Python environments: <c>CONVNET_PYTHON</c> (an environment folder or its python executable), <c>VIRTUAL_ENV</c>,
/// <c>CONDA_PREFIX</c>, <c>~/.local/lib/python3*/site-packages</c>, <c>/usr/local/lib/python3*/dist-packages</c>,
/// <c>/usr/lib/python3*/dist-packages</c> — each one's <c>nvidia/*/lib</c> wheel folders;</item>
/// <item>CUDA installations: <c>CUDA_HOME</c>, <c>CUDA_PATH</c>, <c>/usr/local/cuda/lib64</c>, <c>/usr/local/cuda-*/lib64</c>;</item>
/// <item>system folders: <c>/usr/lib/x86_64-linux-gnu</c>, <c>/usr/lib/wsl/lib</c>, <c>/usr/lib64</c>, <c>/usr/lib</c>;</item>
/// <item>finally the system loader's own search (ld.so.cache), by file name.</item>
/// </list>
/// A folder given explicitly (option or <c>CONVNET_CUDA_PATH</c>) may be a library folder, a CUDA installation, a
/// <c>site-packages</c> folder or a Python environment: its <c>lib64</c>, <c>lib</c> and <c>nvidia/*/lib</c> sub-folders
/// are searched too. No program is run to find them.
/// </summary>
public sealed class CudaLibraryLocator
{
    /// <summary>The environment variable naming extra library folders.</summary>
    public const string PathVariable = "CONVNET_CUDA_PATH";

    /// <summary>The environment variable naming a Python environment (folder or python executable).</summary>
    public const string PythonVariable = "CONVNET_PYTHON";

    private static readonly string[] DefaultSystemPatterns = OperatingSystem.IsWindows()
        ? [@"C:\Windows\System32"]
        : ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda-*/lib64",
           "/usr/lib/x86_64-linux-gnu", "/usr/lib/wsl/lib", "/usr/lib64", "/usr/lib"];

    private static readonly string[] DefaultPythonSitePatterns =
        ["/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages", "/usr/lib/python3/dist-packages"];

    private readonly Func<string, string?> _environment;

    /// <summary>
    /// Creates a locator. Every input is injectable so the search can be tested on fake folder trees; the defaults
    /// read the process environment, the user's home folder and the usual system folders.
    /// </summary>
    /// <param name="explicitPath">Folders given in code (<see cref="CudaOptions.LibraryPath"/>).</param>
    /// <param name="environment">Reads an environment variable (default: the process environment).</param>
    /// <param name="homeDirectory">The user's home folder (default: the current user's).</param>
    /// <param name="systemPatterns">CUDA installation and system folders, with <c>*</c> wildcards in folder names.</param>
    /// <param name="pythonSitePatterns">System-wide Python package folders, with wildcards.</param>
    /// <param name="useSystemLoader">Whether to try the system loader's own search by file name as the last resort.</param>
    public CudaLibraryLocator(string? explicitPath = null, Func<string, string?>? environment = null, string? homeDirectory = null,
        IReadOnlyList<string>? systemPatterns = null, IReadOnlyList<string>? pythonSitePatterns = null, bool useSystemLoader = true)
    {
        ExplicitPath = explicitPath;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        HomeDirectory = homeDirectory ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        SystemPatterns = systemPatterns ?? DefaultSystemPatterns;
        PythonSitePatterns = pythonSitePatterns ?? DefaultPythonSitePatterns;
        UseSystemLoader = useSystemLoader;
    }

    /// <summary>Folders given in code, searched first.</summary>
    public string? ExplicitPath { get; }

    /// <summary>The home folder (for <c>~/.local</c>).</summary>
    public string HomeDirectory { get; }

    /// <summary>System folder patterns.</summary>
    public IReadOnlyList<string> SystemPatterns { get; }

    /// <summary>System-wide Python package folder patterns.</summary>
    public IReadOnlyList<string> PythonSitePatterns { get; }

    /// <summary>Whether the system loader's search by file name is the last resort.</summary>
    public bool UseSystemLoader { get; }

    /// <summary>A locator for the current process: <see cref="CudaOptions.LibraryPath"/> and the real environment.</summary>
    public static CudaLibraryLocator Default => new(CudaOptions.LibraryPath);

    /// <summary>
    /// The folders searched for <paramref name="library"/>, in order, with duplicates removed (the first source wins).
    /// </summary>
    public IReadOnlyList<CudaSearchDirectory> SearchDirectories(CudaLibrarySpec library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var result = new List<CudaSearchDirectory>();
        var seen = new HashSet<string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        void Add(string pattern, string source)
        {
            var matches = PathPattern.Expand(pattern);
            if (matches.Count == 0)
            {
                if (seen.Add(pattern))
                {
                    result.Add(new CudaSearchDirectory(pattern, source, false));
                }
                return;
            }
            foreach (var m in matches)
            {
                if (seen.Add(m))
                {
                    result.Add(new CudaSearchDirectory(m, source, true));
                }
            }
        }
        void AddRoot(string root, string source)
        {
            Add(root, source);
            Add(Path.Combine(root, "lib64"), source);
            Add(Path.Combine(root, "lib"), source);
            AddWheels(root, source);
            AddEnvironment(root, source);
        }
        // Every wheel folder is searched: the CUDA 12 wheels use nvidia/<component>/lib, the CUDA 13 ones may share
        // one folder (nvidia/cu13/lib).
        void AddWheels(string sitePackages, string source) => Add(Path.Combine(sitePackages, "nvidia", "*", "lib"), source);
        void AddEnvironment(string env, string source)
            => AddWheels(OperatingSystem.IsWindows() ? Path.Combine(env, "Lib", "site-packages") : Path.Combine(env, "lib", "python3*", "site-packages"), source);

        foreach (var dir in SplitPath(ExplicitPath))
        {
            AddRoot(dir, "CudaOptions.LibraryPath");
        }
        foreach (var dir in SplitPath(_environment(PathVariable)))
        {
            AddRoot(dir, PathVariable);
        }
        string loaderVariable = OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH";
        foreach (var dir in SplitPath(_environment(loaderVariable)))
        {
            Add(dir, loaderVariable);
        }
        if (_environment(PythonVariable) is { Length: > 0 } python)
        {
            // A python executable (env/bin/python3) names its environment two levels up.
            string env = File.Exists(python) ? Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(python))) ?? python : python;
            AddEnvironment(env, PythonVariable);
        }
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            if (_environment(variable) is { Length: > 0 } env)
            {
                AddEnvironment(env, variable);
            }
        }
        if (HomeDirectory.Length > 0)
        {
            AddWheels(Path.Combine(HomeDirectory, ".local", "lib", "python3*", "site-packages"), "user site-packages");
        }
        foreach (var site in PythonSitePatterns)
        {
            AddWheels(site, "system Python");
        }
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            if (_environment(variable) is { Length: > 0 } cuda)
            {
                Add(Path.Combine(cuda, "lib64"), variable);
                Add(Path.Combine(cuda, "lib"), variable);
                Add(Path.Combine(cuda, "targets", "x86_64-linux", "lib"), variable);
                Add(Path.Combine(cuda, "bin"), variable);
            }
        }
        foreach (var pattern in SystemPatterns)
        {
            Add(pattern, "system");
        }
        return result;
    }

    /// <summary>
    /// The full path of the first file of <paramref name="library"/> found in <see cref="SearchDirectories"/>, or null
    /// when none of those folders has it (the system loader's own search is then the last resort, see <see cref="Load"/>).
    /// </summary>
    public string? Find(CudaLibrarySpec library)
    {
        foreach (var dir in SearchDirectories(library))
        {
            if (!dir.Exists)
            {
                continue;
            }
            foreach (var name in library.FileNames)
            {
                string candidate = Path.Combine(dir.Path, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    /// <summary>The companion libraries found beside <paramref name="libraryPath"/>, in the spec's order.</summary>
    public static IReadOnlyList<string> FindCompanions(CudaLibrarySpec library, string libraryPath)
    {
        ArgumentNullException.ThrowIfNull(library);
        string? dir = Path.GetDirectoryName(libraryPath);
        if (dir == null || !Directory.Exists(dir))
        {
            return [];
        }
        var result = new List<string>();
        foreach (var pattern in library.CompanionPatterns)
        {
            result.AddRange(Directory.EnumerateFiles(dir, pattern).Order(StringComparer.Ordinal));
        }
        return result;
    }

    /// <summary>
    /// Loads <paramref name="library"/>: from the first folder that has it (companions first), else through the system
    /// loader by file name when <see cref="UseSystemLoader"/> is set.
    /// </summary>
    /// <exception cref="CudaLibraryNotFoundException">Not found or not loadable; the message lists every folder searched.</exception>
    public nint Load(CudaLibrarySpec library)
    {
        ArgumentNullException.ThrowIfNull(library);
        string? path = Find(library);
        if (path != null)
        {
            PreloadCompanions(library, path);
            try
            {
                return NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new CudaLibraryNotFoundException($"{library.DisplayName} was found at {path} but could not be loaded: {e.Message}", e);
            }
            catch (BadImageFormatException e)
            {
                throw new CudaLibraryNotFoundException($"{library.DisplayName} was found at {path} but could not be loaded: {e.Message}", e);
            }
        }
        if (UseSystemLoader)
        {
            foreach (var name in library.FileNames)
            {
                if (NativeLibrary.TryLoad(name, out var handle))
                {
                    return handle;
                }
            }
        }
        throw new CudaLibraryNotFoundException(NotFoundMessage(library));
    }

    /// <summary>The error text for a library that is nowhere: its file names and every folder searched, with its source.</summary>
    public string NotFoundMessage(CudaLibrarySpec library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var sb = new StringBuilder();
        sb.Append(library.DisplayName).Append(" not found: looked for ").Append(string.Join(", ", library.FileNames)).Append(" in:");
        foreach (var dir in SearchDirectories(library))
        {
            sb.Append("\n  ").Append(dir.Path).Append(" (").Append(dir.Source).Append(dir.Exists ? ")" : ", missing)");
        }
        if (UseSystemLoader)
        {
            sb.Append("\n  and the system loader's default search path");
        }
        sb.Append("\nSet ").Append(PathVariable).Append(" (or CudaOptions.LibraryPath) to the folder holding it, or to a Python environment with the NVIDIA wheels (")
          .Append(library.WheelFolder == null ? "the driver comes with the NVIDIA driver installation" : $"site-packages/nvidia/{library.WheelFolder}/lib")
          .Append(").");
        return sb.ToString();
    }

    private static void PreloadCompanions(CudaLibrarySpec library, string path)
    {
        // Dependencies among companions are unknown here: load in passes until no more succeed; a companion that
        // cannot be loaded is left to the library itself, which reports what it misses.
        var pending = FindCompanions(library, path).ToList();
        bool progress = true;
        while (pending.Count > 0 && progress)
        {
            progress = false;
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                if (NativeLibrary.TryLoad(pending[i], out _))
                {
                    pending.RemoveAt(i);
                    progress = true;
                }
            }
        }
    }

    private static IEnumerable<string> SplitPath(string? value)
        => string.IsNullOrWhiteSpace(value) ? [] : value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Expands folder patterns whose segments may contain <c>*</c> wildcards (no recursion).</summary>
internal static class PathPattern
{
    /// <summary>The existing folders matching <paramref name="pattern"/>; wildcard matches in descending name order (newest version first).</summary>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return Directory.Exists(pattern) ? [pattern] : [];
        }
        string root = Path.GetPathRoot(pattern) ?? string.Empty;
        var segments = pattern[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> current = [root.Length == 0 ? "." : root];
        foreach (var segment in segments)
        {
            current = segment.Contains('*', StringComparison.Ordinal)
                ? current.SelectMany(dir => SafeEnumerate(dir, segment).OrderDescending(VersionAwareComparer.Instance)).ToList()
                : current.Select(dir => Path.Combine(dir, segment)).Where(Directory.Exists).ToList();
        }
        return current.Select(p => root.Length == 0 && p.StartsWith("." + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? p[2..] : p).ToList();
    }

    private static IEnumerable<string> SafeEnumerate(string dir, string pattern)
    {
        try
        {
            return Directory.Exists(dir) ? Directory.EnumerateDirectories(dir, pattern).ToList() : [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Orders names comparing runs of digits as numbers, so python3.12 sorts after python3.9.</summary>
    private sealed class VersionAwareComparer : IComparer<string>
    {
        public static readonly VersionAwareComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x == null || y == null)
            {
                return string.CompareOrdinal(x, y);
            }
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
                {
                    int si = i, sj = j;
                    while (i < x.Length && char.IsAsciiDigit(x[i]))
                    {
                        i++;
                    }
                    while (j < y.Length && char.IsAsciiDigit(y[j]))
                    {
                        j++;
                    }
                    var a = x.AsSpan(si, i - si).TrimStart('0');
                    var b = y.AsSpan(sj, j - sj).TrimStart('0');
                    int c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
                    if (c != 0)
                    {
                        return c;
                    }
                }
                else
                {
                    int c = x[i].CompareTo(y[j]);
                    if (c != 0)
                    {
                        return c;
                    }
                    i++;
                    j++;
                }
            }
            return (x.Length - i).CompareTo(y.Length - j);
        }
    }
}
