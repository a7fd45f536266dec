using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.ConvNet.IO;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>The names of the CUDA C kernels the backend launches (each an <c>extern "C" __global__</c> function of a .cu resource).</summary>
internal static class KernelNames
{
    public const string CopyBlocks = "copy_blocks";
    public const string Permute = "permute";
    public const string Unary = "unary";
    public const string UnaryBackward = "unary_backward";
    public const string BinarySame = "binary_same";
    public const string BinaryScalar = "binary_scalar";
    public const string BinaryBroadcast = "binary_broadcast";
    public const string Affine = "affine";
    public const string Axpy = "axpy";
    public const string FloatToBf16 = "float_to_bf16";
    public const string Bf16ToFloat = "bf16_to_float";
    public const string SumTo = "sum_to";
    public const string ReduceAxis = "reduce_axis";
    public const string ReduceExtremumBackward = "reduce_extremum_backward";
    public const string ArgMax = "argmax";
    public const string GatherColumns = "gather_columns";
    public const string ScatterColumns = "scatter_columns";
    public const string MaxPoolForward = "max_pool_forward";
    public const string MaxPoolBackward = "max_pool_backward";
    public const string AvgPoolForward = "avg_pool_forward";
    public const string AvgPoolBackward = "avg_pool_backward";
    public const string AdaptiveAvgPoolForward = "adaptive_avg_pool_forward";
    public const string AdaptiveAvgPoolBackward = "adaptive_avg_pool_backward";
    public const string GroupNormForward = "group_norm_forward";
    public const string GroupNormBackward = "group_norm_backward";
    public const string GroupNormParamGrads = "group_norm_param_grads";
    public const string LayerNormForward = "layer_norm_forward";
    public const string LayerNormBackward = "layer_norm_backward";
    public const string LayerNormParamGrads = "layer_norm_param_grads";
    public const string LrnForward = "lrn_forward";
    public const string LrnBackward = "lrn_backward";
    public const string BatchNormInferenceStats = "batch_norm_inference_stats";
    public const string SgdUpdate = "sgd_update";
    public const string AdamUpdate = "adam_update";
    public const string RmsPropUpdate = "rmsprop_update";
}

/// <summary>One kernel file: its name (e.g. <c>elementwise.cu</c>), the full text NVRTC compiles (shared prelude included) and its kernels.</summary>
internal sealed record KernelFile(string Name, string Source, IReadOnlyList<string> Kernels);

/// <summary>
/// The CUDA C sources packaged in the library as embedded resources (<c>Backends/Cuda/Kernels/*.cu</c>, with
/// <c>common.cuh</c> prepended to each), and which file defines which kernel.
/// </summary>
internal static partial class KernelSources
{
    private const string ResourcePrefix = "ConvNet.Kernels.";
    private const string Prelude = "common.cuh";
    private static readonly Lazy<IReadOnlyList<KernelFile>> LazyFiles = new(Load);

    /// <summary>Every kernel file, in name order.</summary>
    public static IReadOnlyList<KernelFile> Files => LazyFiles.Value;

    /// <summary>The file defining <paramref name="kernel"/>.</summary>
    public static KernelFile FileOf(string kernel)
        => Files.FirstOrDefault(f => f.Kernels.Contains(kernel, StringComparer.Ordinal))
           ?? throw new InvalidOperationException($"No packaged CUDA source defines the kernel '{kernel}'.");

    /// <summary>The names of the <c>extern "C" __global__</c> functions defined in <paramref name="source"/>.</summary>
    public static IReadOnlyList<string> ParseKernelNames(string source)
        => KernelDeclaration().Matches(source).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The text of one embedded resource (e.g. <c>elementwise.cu</c>).</summary>
    public static string ReadResource(string fileName)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new InvalidOperationException($"The CUDA source {fileName} is not packaged in {typeof(KernelSources).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static IReadOnlyList<KernelFile> Load()
    {
        string prelude = ReadResource(Prelude);
        return typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".cu", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..])
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                string body = ReadResource(name);
                return new KernelFile(name, $"// ---- {Prelude}\n{prelude}\n// ---- {name}\n{body}", ParseKernelNames(body));
            })
            .ToList();
    }

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+void\s+(\w+)\s*\(", RegexOptions.CultureInvariant)]
    private static partial Regex KernelDeclaration();
}

/// <summary>
/// The on-disk cache of compiled kernels: one file per (architecture, source, compiler options, compiler version),
/// <c>{folder}/{arch}/{file}-{hash}.{cubin|ptx}</c>, written atomically. A changed source or compiler gives a new
/// hash, so stale entries are never used.
/// </summary>
internal static class KernelCache
{
    /// <summary>The environment variable overriding the cache folder.</summary>
    public const string FolderVariable = "CONVNET_KERNEL_CACHE";

    /// <summary>The default folder: CONVNET_KERNEL_CACHE, else $XDG_CACHE_HOME/convnetml/kernels, else ~/.cache/convnetml/kernels.</summary>
    public static string? DefaultFolder(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(FolderVariable) is { Length: > 0 } explicitFolder)
        {
            return explicitFolder;
        }
        if (environment("XDG_CACHE_HOME") is { Length: > 0 } xdg)
        {
            return Path.Combine(xdg, "convnetml", "kernels");
        }
        string home = environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "convnetml", "kernels");
    }

    /// <summary>The hex SHA-256 of everything that determines the compiled image.</summary>
    public static string Key(string source, string architecture, IReadOnlyList<string> options, string compilerVersion)
    {
        var text = new StringBuilder().Append(architecture).Append('\n').Append(compilerVersion).Append('\n')
            .AppendJoin('\n', options).Append('\n').Append(source).ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
    }

    /// <summary>The cache file of a compiled kernel file.</summary>
    public static string PathFor(string folder, string architecture, string fileName, string key, bool cubin)
        => Path.Combine(folder, architecture, $"{Path.GetFileNameWithoutExtension(fileName)}-{key}.{(cubin ? "cubin" : "ptx")}");

    /// <summary>The cached image, or null when absent or unreadable.</summary>
    public static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes the image atomically; a read-only or full disk only loses the cache entry.</summary>
    public static bool TryWrite(string path, byte[] image)
    {
        try
        {
            AtomicFile.Write(path, s => s.Write(image));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
