using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Backends.Cuda.Interop;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>Whether CUDA can be used in this process, and if not, why.</summary>
/// <param name="IsAvailable">True when the driver, a GPU and every library were found and initialised.</param>
/// <param name="Reason">Why CUDA is not available (null when it is).</param>
/// <param name="DeviceCount">Number of GPUs the driver reports (0 when unavailable).</param>
/// <param name="Description">Driver version, GPU names and library versions, for logs.</param>
public sealed record CudaAvailability(bool IsAvailable, string? Reason, int DeviceCount, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => IsAvailable ? Description : $"CUDA unavailable: {Reason}";
}

/// <summary>The CUDA libraries of the process, loaded once: driver, NVRTC, cuBLAS and cuDNN.</summary>
internal sealed class CudaRuntime
{
    private static readonly Lazy<CudaRuntime> LazyInstance = new(() => Load(CudaLibraryLocator.Default), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<CudaAvailability> LazyAvailability = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    private CudaRuntime(CudaDriver driver, Nvrtc nvrtc, Cublas cublas, Cudnn cudnn, int deviceCount)
    {
        Driver = driver;
        Nvrtc = nvrtc;
        Cublas = cublas;
        Cudnn = cudnn;
        DeviceCount = deviceCount;
    }

    public CudaDriver Driver { get; }

    public Nvrtc Nvrtc { get; }

    public Cublas Cublas { get; }

    public Cudnn Cudnn { get; }

    public int DeviceCount { get; }

    /// <summary>The loaded runtime; throws <see cref="CudaLibraryNotFoundException"/> or <see cref="CudaException"/> (every time) when CUDA is unusable.</summary>
    public static CudaRuntime Instance => LazyInstance.Value;

    /// <summary>The result of trying to load CUDA once; never throws.</summary>
    public static CudaAvailability Availability => LazyAvailability.Value;

    private static CudaAvailability Probe()
    {
        try
        {
            var rt = Instance;
            var names = Enumerable.Range(0, rt.DeviceCount).Select(i => $"cuda:{i} {rt.Driver.DeviceName(rt.Driver.DeviceGet(i))}");
            int v = rt.Driver.DriverVersion();
            string description = $"CUDA driver {v / 1000}.{v % 1000 / 10}, NVRTC {rt.Nvrtc.Version}, cuDNN {rt.Cudnn.Version}; {string.Join(", ", names)}";
            return new CudaAvailability(true, null, rt.DeviceCount, description);
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or CudaException or DllNotFoundException or EntryPointNotFoundException
            or BadImageFormatException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return new CudaAvailability(false, e.Message, 0, string.Empty);
        }
    }

    private static CudaRuntime Load(CudaLibraryLocator locator)
    {
        var driver = new CudaDriver(locator.Load(CudaLibrarySpec.Driver));
        int init = driver.Init();
        if (init != 0)
        {
            throw new CudaException($"the CUDA driver did not initialise (cuInit: {driver.ErrorText(init)}); is a GPU present and the driver loaded?") { Status = init };
        }
        int count = driver.DeviceCount();
        if (count == 0)
        {
            throw new CudaException("the CUDA driver reports no GPU.");
        }
        var nvrtc = new Nvrtc(locator.Load(CudaLibrarySpec.Nvrtc));
        var cublas = new Cublas(locator.Load(CudaLibrarySpec.Cublas));
        nint cudnnLib = locator.Load(CudaLibrarySpec.Cudnn);
        var subLibraries = new List<nint>();
        if (locator.Find(CudaLibrarySpec.Cudnn) is { } cudnnPath)
        {
            foreach (var companion in CudaLibraryLocator.FindCompanions(CudaLibrarySpec.Cudnn, cudnnPath))
            {
                if (NativeLibrary.TryLoad(companion, out var h))
                {
                    subLibraries.Add(h);
                }
            }
        }
        return new CudaRuntime(driver, nvrtc, cublas, new Cudnn(cudnnLib, subLibraries), count);
    }
}

/// <summary>A native CUDA object (stream, event, module, library handle, pinned buffer) released exactly once.</summary>
internal sealed class CudaHandle : SafeHandle
{
    private readonly Func<nint, int> _release;

    public CudaHandle(nint handle, Func<nint, int> release) : base(0, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw handle (valid while this object is alive and not disposed).</summary>
    public nint Value => handle;

    protected override bool ReleaseHandle() => _release(handle) == 0;
}
