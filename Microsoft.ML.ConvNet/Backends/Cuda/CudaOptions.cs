namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// Process-wide settings of the CUDA backend. Set them before the first CUDA tensor is created (the libraries are
/// loaded and each device is initialised once); later changes to <see cref="LibraryPath"/> are not seen.
/// </summary>
public static class CudaOptions
{
    /// <summary>
    /// Folders searched first for the CUDA libraries (separated by the platform's path separator); each may be a library
    /// folder, a CUDA installation, a <c>site-packages</c> folder or a Python environment. See <see cref="CudaLibraryLocator"/>.
    /// </summary>
    public static string? LibraryPath { get; set; }

    /// <summary>
    /// Allows TF32 tensor-core math for float32 GEMMs (cuBLAS) and convolutions (cuDNN): about 10 mantissa bits per
    /// product, float32 accumulation. Default false (full float32, matching the CPU backend within float rounding).
    /// </summary>
    public static bool AllowTf32 { get; set; }

    /// <summary>
    /// The folder of compiled kernels (default: <c>CONVNET_KERNEL_CACHE</c>, else <c>$XDG_CACHE_HOME/convnetml/kernels</c>,
    /// else <c>~/.cache/convnetml/kernels</c>). Null or empty disables the disk cache.
    /// </summary>
    public static string? KernelCacheFolder { get; set; } = KernelCache.DefaultFolder(Environment.GetEnvironmentVariable);

    /// <summary>
    /// The most workspace (bytes) a convolution algorithm may use (default 1 GiB); algorithms needing more are skipped.
    /// </summary>
    public static long MaxConvolutionWorkspaceBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Chooses convolution algorithms by timing them once per shape (cudnnFind, default true) rather than by cuDNN's
    /// heuristics (cudnnGet…_v7). Either way the choice is cached per shape.
    /// </summary>
    public static bool BenchmarkConvolutionAlgorithms { get; set; } = true;
}
