namespace Microsoft.ML.ConvNet.Backends.Cuda.Interop;

/// <summary>cuBLAS through function pointers (column-major; the backend maps row-major GEMMs onto it).</summary>
internal sealed unsafe class Cublas
{
    public const int OpN = 0;
    public const int OpT = 1;
    public const int DefaultMath = 0;
    public const int Tf32TensorOpMath = 3;
    public const int DataFloat = 0;       // CUDA_R_32F
    public const int DataBFloat16 = 14;   // CUDA_R_16BF
    public const int ComputeFloat = 68;   // CUBLAS_COMPUTE_32F
    public const int ComputeFloatFastTf32 = 77; // CUBLAS_COMPUTE_32F_FAST_TF32
    public const int GemmDefault = -1;

    private readonly delegate* unmanaged<nint*, int> _create;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, nint, int> _setStream;
    private readonly delegate* unmanaged<nint, int, int> _setMathMode;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int> _sgemm;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, void*, nint, int, int, nint, int, int, void*, nint, int, int, int, int, int> _gemmEx;
    private readonly delegate* unmanaged<int, byte*> _statusString;

    public Cublas(nint library)
    {
        var e = new NativeExports("cuBLAS", library);
        _create = (delegate* unmanaged<nint*, int>)e.Get("cublasCreate_v2");
        _destroy = (delegate* unmanaged<nint, int>)e.Get("cublasDestroy_v2");
        _setStream = (delegate* unmanaged<nint, nint, int>)e.Get("cublasSetStream_v2");
        _setMathMode = (delegate* unmanaged<nint, int, int>)e.Get("cublasSetMathMode");
        _sgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int>)e.Get("cublasSgemm_v2");
        _gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, void*, nint, int, int, nint, int, int, void*, nint, int, int, int, int, int>)e.Get("cublasGemmEx");
        _statusString = (delegate* unmanaged<int, byte*>)e.TryGet("cublasGetStatusString");
    }

    public void Check(int status, string call)
    {
        if (status != 0)
        {
            string text = _statusString != null ? NativeText.FromUtf8(_statusString(status)) : $"status {status}";
            throw new CudaException($"{call} failed: {text}") { Status = status };
        }
    }

    public nint Create()
    {
        nint h;
        Check(_create(&h), "cublasCreate");
        return h;
    }

    public int Destroy(nint handle) => _destroy(handle);

    public void SetStream(nint handle, nint stream) => Check(_setStream(handle, stream), "cublasSetStream");

    public void SetMathMode(nint handle, int mode) => Check(_setMathMode(handle, mode), "cublasSetMathMode");

    public void Sgemm(nint handle, int transA, int transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc)
        => Check(_sgemm(handle, transA, transB, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc), "cublasSgemm");

    public void GemmEx(nint handle, int transA, int transB, int m, int n, int k, float alpha, nint a, int aType, int lda, nint b, int bType, int ldb,
        float beta, nint c, int cType, int ldc, int computeType)
        => Check(_gemmEx(handle, transA, transB, m, n, k, &alpha, a, aType, lda, b, bType, ldb, &beta, c, cType, ldc, computeType, GemmDefault), "cublasGemmEx");
}
