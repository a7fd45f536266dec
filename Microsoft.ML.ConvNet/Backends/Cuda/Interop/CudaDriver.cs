namespace Microsoft.ML.ConvNet.Backends.Cuda.Interop;

/// <summary>
/// The CUDA driver API (<c>libcuda.so.1</c>) through function pointers. Contexts, streams, events, device and pinned
/// memory, module loading and kernel launches all go through it; cuBLAS and cuDNN share the device's primary context.
/// </summary>
internal sealed unsafe class CudaDriver
{
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const uint StreamNonBlocking = 1;
    public const uint EventDisableTiming = 2;
    public const uint HostAllocPortable = 1;
    private const int ErrorNotReady = 600;

    private readonly delegate* unmanaged<uint, int> _init;
    private readonly delegate* unmanaged<int*, int> _driverGetVersion;
    private readonly delegate* unmanaged<int*, int> _deviceGetCount;
    private readonly delegate* unmanaged<int*, int, int> _deviceGet;
    private readonly delegate* unmanaged<byte*, int, int, int> _deviceGetName;
    private readonly delegate* unmanaged<int*, int, int, int> _deviceGetAttribute;
    private readonly delegate* unmanaged<nuint*, int, int> _deviceTotalMem;
    private readonly delegate* unmanaged<nint*, int, int> _primaryCtxRetain;
    private readonly delegate* unmanaged<int, int> _primaryCtxRelease;
    private readonly delegate* unmanaged<nint, int> _ctxSetCurrent;
    private readonly delegate* unmanaged<nint*, nuint, int> _memAlloc;
    private readonly delegate* unmanaged<nint, int> _memFree;
    private readonly delegate* unmanaged<nint*, nuint, uint, int> _memHostAlloc;
    private readonly delegate* unmanaged<nint, int> _memFreeHost;
    private readonly delegate* unmanaged<nint, void*, nuint, nint, int> _memcpyHtoDAsync;
    private readonly delegate* unmanaged<void*, nint, nuint, nint, int> _memcpyDtoHAsync;
    private readonly delegate* unmanaged<nint, nint, nuint, nint, int> _memcpyDtoDAsync;
    private readonly delegate* unmanaged<nint, uint, nuint, nint, int> _memsetD32Async;
    private readonly delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;
    private readonly delegate* unmanaged<nint*, uint, int> _streamCreate;
    private readonly delegate* unmanaged<nint, int> _streamDestroy;
    private readonly delegate* unmanaged<nint, int> _streamSynchronize;
    private readonly delegate* unmanaged<nint, nint, uint, int> _streamWaitEvent;
    private readonly delegate* unmanaged<nint*, uint, int> _eventCreate;
    private readonly delegate* unmanaged<nint, nint, int> _eventRecord;
    private readonly delegate* unmanaged<nint, int> _eventSynchronize;
    private readonly delegate* unmanaged<nint, int> _eventQuery;
    private readonly delegate* unmanaged<nint, int> _eventDestroy;
    private readonly delegate* unmanaged<nint*, void*, int> _moduleLoadData;
    private readonly delegate* unmanaged<nint, int> _moduleUnload;
    private readonly delegate* unmanaged<nint*, nint, byte*, int> _moduleGetFunction;
    private readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> _launchKernel;
    private readonly delegate* unmanaged<int, byte**, int> _getErrorName;
    private readonly delegate* unmanaged<int, byte**, int> _getErrorString;

    public CudaDriver(nint library)
    {
        var e = new NativeExports("CUDA driver", library);
        _init = (delegate* unmanaged<uint, int>)e.Get("cuInit");
        _driverGetVersion = (delegate* unmanaged<int*, int>)e.Get("cuDriverGetVersion");
        _deviceGetCount = (delegate* unmanaged<int*, int>)e.Get("cuDeviceGetCount");
        _deviceGet = (delegate* unmanaged<int*, int, int>)e.Get("cuDeviceGet");
        _deviceGetName = (delegate* unmanaged<byte*, int, int, int>)e.Get("cuDeviceGetName");
        _deviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)e.Get("cuDeviceGetAttribute");
        _deviceTotalMem = (delegate* unmanaged<nuint*, int, int>)e.Get("cuDeviceTotalMem_v2");
        _primaryCtxRetain = (delegate* unmanaged<nint*, int, int>)e.Get("cuDevicePrimaryCtxRetain");
        _primaryCtxRelease = (delegate* unmanaged<int, int>)e.Get("cuDevicePrimaryCtxRelease_v2");
        _ctxSetCurrent = (delegate* unmanaged<nint, int>)e.Get("cuCtxSetCurrent");
        _memAlloc = (delegate* unmanaged<nint*, nuint, int>)e.Get("cuMemAlloc_v2");
        _memFree = (delegate* unmanaged<nint, int>)e.Get("cuMemFree_v2");
        _memHostAlloc = (delegate* unmanaged<nint*, nuint, uint, int>)e.Get("cuMemHostAlloc");
        _memFreeHost = (delegate* unmanaged<nint, int>)e.Get("cuMemFreeHost");
        _memcpyHtoDAsync = (delegate* unmanaged<nint, void*, nuint, nint, int>)e.Get("cuMemcpyHtoDAsync_v2");
        _memcpyDtoHAsync = (delegate* unmanaged<void*, nint, nuint, nint, int>)e.Get("cuMemcpyDtoHAsync_v2");
        _memcpyDtoDAsync = (delegate* unmanaged<nint, nint, nuint, nint, int>)e.Get("cuMemcpyDtoDAsync_v2");
        _memsetD32Async = (delegate* unmanaged<nint, uint, nuint, nint, int>)e.Get("cuMemsetD32Async");
        _memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)e.Get("cuMemGetInfo_v2");
        _streamCreate = (delegate* unmanaged<nint*, uint, int>)e.Get("cuStreamCreate");
        _streamDestroy = (delegate* unmanaged<nint, int>)e.Get("cuStreamDestroy_v2");
        _streamSynchronize = (delegate* unmanaged<nint, int>)e.Get("cuStreamSynchronize");
        _streamWaitEvent = (delegate* unmanaged<nint, nint, uint, int>)e.Get("cuStreamWaitEvent");
        _eventCreate = (delegate* unmanaged<nint*, uint, int>)e.Get("cuEventCreate");
        _eventRecord = (delegate* unmanaged<nint, nint, int>)e.Get("cuEventRecord");
        _eventSynchronize = (delegate* unmanaged<nint, int>)e.Get("cuEventSynchronize");
        _eventQuery = (delegate* unmanaged<nint, int>)e.Get("cuEventQuery");
        _eventDestroy = (delegate* unmanaged<nint, int>)e.Get("cuEventDestroy_v2");
        _moduleLoadData = (delegate* unmanaged<nint*, void*, int>)e.Get("cuModuleLoadData");
        _moduleUnload = (delegate* unmanaged<nint, int>)e.Get("cuModuleUnload");
        _moduleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)e.Get("cuModuleGetFunction");
        _launchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)e.Get("cuLaunchKernel");
        _getErrorName = (delegate* unmanaged<int, byte**, int>)e.Get("cuGetErrorName");
        _getErrorString = (delegate* unmanaged<int, byte**, int>)e.Get("cuGetErrorString");
    }

    public void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new CudaException($"{call} failed: {ErrorText(result)}") { Status = result };
        }
    }

    public string ErrorText(int result)
    {
        byte* name = null, text = null;
        _getErrorName(result, &name);
        _getErrorString(result, &text);
        return name == null ? $"CUresult {result}" : $"{NativeText.FromUtf8(name)} ({NativeText.FromUtf8(text)})";
    }

    public int Init() => _init(0);

    public int DriverVersion()
    {
        int v;
        Check(_driverGetVersion(&v), "cuDriverGetVersion");
        return v;
    }

    public int DeviceCount()
    {
        int n;
        Check(_deviceGetCount(&n), "cuDeviceGetCount");
        return n;
    }

    public int DeviceGet(int ordinal)
    {
        int d;
        Check(_deviceGet(&d, ordinal), "cuDeviceGet");
        return d;
    }

    public string DeviceName(int device)
    {
        byte* buf = stackalloc byte[256];
        Check(_deviceGetName(buf, 256, device), "cuDeviceGetName");
        return NativeText.FromUtf8(buf);
    }

    public int DeviceAttribute(int attribute, int device)
    {
        int v;
        Check(_deviceGetAttribute(&v, attribute, device), "cuDeviceGetAttribute");
        return v;
    }

    public long DeviceTotalMemory(int device)
    {
        nuint v;
        Check(_deviceTotalMem(&v, device), "cuDeviceTotalMem");
        return (long)v;
    }

    public nint PrimaryContextRetain(int device)
    {
        nint ctx;
        Check(_primaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
        return ctx;
    }

    public int PrimaryContextRelease(int device) => _primaryCtxRelease(device);

    public void SetCurrent(nint context) => Check(_ctxSetCurrent(context), "cuCtxSetCurrent");

    /// <summary>Device memory; 0 when out of memory (other errors throw).</summary>
    public nint MemAlloc(long bytes)
    {
        nint p;
        int r = _memAlloc(&p, (nuint)bytes);
        if (r == 2)
        {
            return 0; // CUDA_ERROR_OUT_OF_MEMORY
        }
        Check(r, "cuMemAlloc");
        return p;
    }

    public int MemFree(nint p) => _memFree(p);

    public nint MemHostAlloc(long bytes)
    {
        nint p;
        Check(_memHostAlloc(&p, (nuint)bytes, HostAllocPortable), "cuMemHostAlloc");
        return p;
    }

    public int MemFreeHost(nint p) => _memFreeHost(p);

    public void CopyHtoDAsync(nint dst, void* src, long bytes, nint stream) => Check(_memcpyHtoDAsync(dst, src, (nuint)bytes, stream), "cuMemcpyHtoDAsync");

    public void CopyDtoHAsync(void* dst, nint src, long bytes, nint stream) => Check(_memcpyDtoHAsync(dst, src, (nuint)bytes, stream), "cuMemcpyDtoHAsync");

    public void CopyDtoDAsync(nint dst, nint src, long bytes, nint stream) => Check(_memcpyDtoDAsync(dst, src, (nuint)bytes, stream), "cuMemcpyDtoDAsync");

    public void MemsetD32Async(nint dst, uint value, long count, nint stream) => Check(_memsetD32Async(dst, value, (nuint)count, stream), "cuMemsetD32Async");

    public (long Free, long Total) MemInfo()
    {
        nuint free, total;
        Check(_memGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    public nint StreamCreate()
    {
        nint s;
        Check(_streamCreate(&s, StreamNonBlocking), "cuStreamCreate");
        return s;
    }

    public int StreamDestroy(nint s) => _streamDestroy(s);

    public void StreamSynchronize(nint s) => Check(_streamSynchronize(s), "cuStreamSynchronize");

    public void StreamWaitEvent(nint stream, nint ev) => Check(_streamWaitEvent(stream, ev, 0), "cuStreamWaitEvent");

    public nint EventCreate()
    {
        nint e;
        Check(_eventCreate(&e, EventDisableTiming), "cuEventCreate");
        return e;
    }

    public void EventRecord(nint ev, nint stream) => Check(_eventRecord(ev, stream), "cuEventRecord");

    public void EventSynchronize(nint ev) => Check(_eventSynchronize(ev), "cuEventSynchronize");

    /// <summary>True when the work before the event has finished.</summary>
    public bool EventQuery(nint ev)
    {
        int r = _eventQuery(ev);
        if (r == ErrorNotReady)
        {
            return false;
        }
        Check(r, "cuEventQuery");
        return true;
    }

    public int EventDestroy(nint ev) => _eventDestroy(ev);

    public nint ModuleLoadData(ReadOnlySpan<byte> image)
    {
        nint m;
        fixed (byte* p = image)
        {
            Check(_moduleLoadData(&m, p), "cuModuleLoadData");
        }
        return m;
    }

    public int ModuleUnload(nint module) => _moduleUnload(module);

    public nint ModuleGetFunction(nint module, string name)
    {
        nint f;
        byte* n = NativeText.ToUtf8(name);
        try
        {
            Check(_moduleGetFunction(&f, module, n), $"cuModuleGetFunction({name})");
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal((nint)n);
        }
        return f;
    }

    /// <summary>Launches with the arguments packed in one buffer (CU_LAUNCH_PARAM_BUFFER_POINTER).</summary>
    public void Launch(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedBytes,
        nint stream, void* argBuffer, nuint argBytes, string name)
    {
        nuint size = argBytes;
        void** extra = stackalloc void*[5];
        extra[0] = (void*)1; // CU_LAUNCH_PARAM_BUFFER_POINTER
        extra[1] = argBuffer;
        extra[2] = (void*)2; // CU_LAUNCH_PARAM_BUFFER_SIZE
        extra[3] = &size;
        extra[4] = null; // CU_LAUNCH_PARAM_END
        Check(_launchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, null, extra), $"cuLaunchKernel({name})");
    }
}
