using System.Runtime.InteropServices;

namespace Microsoft.ML.ConvNet.Backends.Cuda.Interop;

/// <summary>The NVRTC run-time compiler through function pointers: CUDA C source to CUBIN (or PTX).</summary>
internal sealed unsafe class Nvrtc
{
    private readonly delegate* unmanaged<int*, int*, int> _version;
    private readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> _createProgram;
    private readonly delegate* unmanaged<nint, int, byte**, int> _compileProgram;
    private readonly delegate* unmanaged<nint, nuint*, int> _getLogSize;
    private readonly delegate* unmanaged<nint, byte*, int> _getLog;
    private readonly delegate* unmanaged<nint, nuint*, int> _getCubinSize;
    private readonly delegate* unmanaged<nint, byte*, int> _getCubin;
    private readonly delegate* unmanaged<nint, nuint*, int> _getPtxSize;
    private readonly delegate* unmanaged<nint, byte*, int> _getPtx;
    private readonly delegate* unmanaged<nint*, int> _destroyProgram;
    private readonly delegate* unmanaged<int, byte*> _getErrorString;

    public Nvrtc(nint library)
    {
        var e = new NativeExports("NVRTC", library);
        _version = (delegate* unmanaged<int*, int*, int>)e.Get("nvrtcVersion");
        _createProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)e.Get("nvrtcCreateProgram");
        _compileProgram = (delegate* unmanaged<nint, int, byte**, int>)e.Get("nvrtcCompileProgram");
        _getLogSize = (delegate* unmanaged<nint, nuint*, int>)e.Get("nvrtcGetProgramLogSize");
        _getLog = (delegate* unmanaged<nint, byte*, int>)e.Get("nvrtcGetProgramLog");
        _getCubinSize = (delegate* unmanaged<nint, nuint*, int>)e.Get("nvrtcGetCUBINSize");
        _getCubin = (delegate* unmanaged<nint, byte*, int>)e.Get("nvrtcGetCUBIN");
        _getPtxSize = (delegate* unmanaged<nint, nuint*, int>)e.Get("nvrtcGetPTXSize");
        _getPtx = (delegate* unmanaged<nint, byte*, int>)e.Get("nvrtcGetPTX");
        _destroyProgram = (delegate* unmanaged<nint*, int>)e.Get("nvrtcDestroyProgram");
        _getErrorString = (delegate* unmanaged<int, byte*>)e.Get("nvrtcGetErrorString");
    }

    /// <summary>The compiler's version, e.g. "13.0".</summary>
    public string Version
    {
        get
        {
            int major, minor;
            Check(_version(&major, &minor), "nvrtcVersion");
            return $"{major}.{minor}";
        }
    }

    private void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new CudaException($"{call} failed: {NativeText.FromUtf8(_getErrorString(result))}") { Status = result };
        }
    }

    /// <summary>
    /// Compiles <paramref name="source"/> with <paramref name="options"/>; returns the CUBIN when the options name a real
    /// architecture (sm_XX), else the PTX (zero-terminated). Compilation errors throw with the compiler's log.
    /// </summary>
    public byte[] Compile(string source, string name, IReadOnlyList<string> options, bool cubin)
    {
        nint program;
        byte* src = NativeText.ToUtf8(source);
        byte* nm = NativeText.ToUtf8(name);
        var opts = new nint[options.Count];
        try
        {
            Check(_createProgram(&program, src, nm, 0, null, null), "nvrtcCreateProgram");
            try
            {
                for (int i = 0; i < opts.Length; i++)
                {
                    opts[i] = (nint)NativeText.ToUtf8(options[i]);
                }
                int result;
                fixed (nint* o = opts)
                {
                    result = _compileProgram(program, opts.Length, (byte**)o);
                }
                if (result != 0)
                {
                    throw new CudaException($"NVRTC could not compile {name} ({string.Join(' ', options)}): {NativeText.FromUtf8(_getErrorString(result))}\n{Log(program)}") { Status = result };
                }
                nuint size;
                Check(cubin ? _getCubinSize(program, &size) : _getPtxSize(program, &size), cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize");
                var image = new byte[(int)size];
                fixed (byte* p = image)
                {
                    Check(cubin ? _getCubin(program, p) : _getPtx(program, p), cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX");
                }
                return image;
            }
            finally
            {
                _destroyProgram(&program);
            }
        }
        finally
        {
            foreach (var o in opts)
            {
                Marshal.FreeHGlobal(o);
            }
            Marshal.FreeHGlobal((nint)src);
            Marshal.FreeHGlobal((nint)nm);
        }
    }

    private string Log(nint program)
    {
        nuint size;
        if (_getLogSize(program, &size) != 0 || size <= 1)
        {
            return string.Empty;
        }
        var buf = new byte[(int)size];
        fixed (byte* p = buf)
        {
            _getLog(program, p);
            return NativeText.FromUtf8(p);
        }
    }
}
