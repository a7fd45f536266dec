using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.ML.ConvNet.Backends.Cuda.Interop;
using Microsoft.ML.ConvNet.Backends.Cuda.Memory;

namespace Microsoft.ML.ConvNet.Backends.Cuda;

/// <summary>
/// One GPU's state: its primary context, the compute stream every operation is queued on, a copy stream for batch
/// uploads, the cuBLAS and cuDNN handles bound to the compute stream, the caching allocator and the kernel modules.
/// </summary>
internal sealed class CudaDevice
{
    [ThreadStatic]
    private static nint _currentContext;

    private readonly ConcurrentDictionary<string, nint> _functions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CudaHandle> _modules = new(StringComparer.Ordinal);
    private readonly object _compileLock = new();
    private readonly CudaHandle _stream;
    private readonly CudaHandle _copyStream;
    private readonly CudaHandle _cublas;
    private readonly CudaHandle _cudnn;
    private int _cublasMathMode = -1;

    public CudaDevice(CudaRuntime runtime, int ordinal)
    {
        Runtime = runtime;
        Ordinal = ordinal;
        var d = runtime.Driver;
        Handle = d.DeviceGet(ordinal);
        Context = d.PrimaryContextRetain(Handle);
        MakeCurrent();
        Name = d.DeviceName(Handle);
        ComputeCapability = (d.DeviceAttribute(CudaDriver.AttributeComputeCapabilityMajor, Handle), d.DeviceAttribute(CudaDriver.AttributeComputeCapabilityMinor, Handle));
        MultiprocessorCount = d.DeviceAttribute(CudaDriver.AttributeMultiprocessorCount, Handle);
        _stream = new CudaHandle(d.StreamCreate(), s => Release(() => d.StreamDestroy(s)));
        _copyStream = new CudaHandle(d.StreamCreate(), s => Release(() => d.StreamDestroy(s)));
        _cublas = new CudaHandle(runtime.Cublas.Create(), h => Release(() => runtime.Cublas.Destroy(h)));
        runtime.Cublas.SetStream(_cublas.Value, Stream);
        _cudnn = new CudaHandle(runtime.Cudnn.Create(), h => Release(() => runtime.Cudnn.Destroy(h)));
        runtime.Cudnn.SetStream(_cudnn.Value, Stream);
        Allocator = new CachingAllocator(new RawMemory(this));
    }

    public CudaRuntime Runtime { get; }

    public CudaDriver Driver => Runtime.Driver;

    public int Ordinal { get; }

    public int Handle { get; }

    public nint Context { get; }

    public string Name { get; }

    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>The architecture name NVRTC compiles for, e.g. <c>sm_90</c>.</summary>
    public string Architecture => string.Create(CultureInfo.InvariantCulture, $"sm_{ComputeCapability.Major}{ComputeCapability.Minor}");

    public int MultiprocessorCount { get; }

    public nint Stream => _stream.Value;

    public nint CopyStream => _copyStream.Value;

    public nint CudnnHandle => _cudnn.Value;

    public CachingAllocator Allocator { get; }

    /// <summary>The cuBLAS handle with the math mode set (TF32 tensor cores or plain float32).</summary>
    public nint CublasHandle(bool tf32)
    {
        int mode = tf32 ? Cublas.Tf32TensorOpMath : Cublas.DefaultMath;
        if (_cublasMathMode != mode)
        {
            Runtime.Cublas.SetMathMode(_cublas.Value, mode);
            _cublasMathMode = mode;
        }
        return _cublas.Value;
    }

    /// <summary>Makes this device's context current on the calling thread (cheap when it already is).</summary>
    public void MakeCurrent()
    {
        if (_currentContext != Context)
        {
            Driver.SetCurrent(Context);
            _currentContext = Context;
        }
    }

    /// <summary>Waits until every queued operation has finished.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        Driver.StreamSynchronize(Stream);
    }

    /// <summary>The kernel <paramref name="name"/>, compiling (or loading from the disk cache) its file on first use.</summary>
    public nint Function(string name)
    {
        if (_functions.TryGetValue(name, out var f))
        {
            return f;
        }
        var file = KernelSources.FileOf(name);
        lock (_compileLock)
        {
            if (!_modules.TryGetValue(file.Name, out var module))
            {
                MakeCurrent();
                var image = CompileOrLoad(file);
                module = new CudaHandle(Driver.ModuleLoadData(image), m => Release(() => Driver.ModuleUnload(m)));
                _modules[file.Name] = module;
            }
            MakeCurrent();
            f = Driver.ModuleGetFunction(module.Value, name);
            _functions[name] = f;
            return f;
        }
    }

    private byte[] CompileOrLoad(KernelFile file)
    {
        var nvrtc = Runtime.Nvrtc;
        string version = nvrtc.Version;
        // A CUBIN for this GPU's architecture; when NVRTC does not know it (a GPU newer than the compiler), PTX
        // for the virtual architecture, which the driver compiles at load time.
        foreach (bool cubin in new[] { true, false })
        {
            string arch = cubin ? Architecture : Architecture.Replace("sm_", "compute_", StringComparison.Ordinal);
            string[] options = [$"--gpu-architecture={arch}", "--std=c++17", "-default-device", "--fmad=true"];
            string key = KernelCache.Key(file.Source, arch, options, version);
            string? folder = CudaOptions.KernelCacheFolder;
            string? path = string.IsNullOrEmpty(folder) ? null : KernelCache.PathFor(folder, arch, file.Name, key, cubin);
            if (path != null && KernelCache.TryRead(path) is { Length: > 0 } cached)
            {
                return cached;
            }
            byte[] image;
            try
            {
                image = nvrtc.Compile(file.Source, file.Name, options, cubin);
            }
            catch (CudaException) when (cubin)
            {
                continue;
            }
            if (path != null)
            {
                KernelCache.TryWrite(path, image);
            }
            return image;
        }
        throw new CudaException($"NVRTC {version} cannot compile {file.Name} for {Architecture}.");
    }

    private int Release(Func<int> release)
    {
        try
        {
            MakeCurrent();
            return release();
        }
        catch (CudaException)
        {
            return 1;
        }
    }

    /// <summary>The driver's allocation calls, with this device's context current.</summary>
    private sealed class RawMemory(CudaDevice device) : IRawDeviceMemory
    {
        public nint Allocate(long bytes)
        {
            device.MakeCurrent();
            return device.Driver.MemAlloc(bytes);
        }

        public void Free(nint pointer)
        {
            device.MakeCurrent();
            // Queued work may still use the segment: wait for it before the memory leaves the process.
            device.Driver.StreamSynchronize(device.Stream);
            device.Driver.MemFree(pointer);
        }
    }
}
