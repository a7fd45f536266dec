using System.Runtime.InteropServices;

namespace Microsoft.ML.ConvNet.Backends.Cuda.Interop;

/// <summary>One result of cuDNN's algorithm search (the layout of cudnnConvolution*AlgoPerf_t).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CudnnAlgoPerf
{
    public int Algo;
    public int Status;
    public float Time;
    public nuint Memory;
    public int Determinism;
    public int MathType;
    public int Reserved0;
    public int Reserved1;
    public int Reserved2;
}

/// <summary>
/// cuDNN 9's legacy (v7-style) API through function pointers: tensor/filter/convolution/pooling descriptors,
/// convolutions with algorithm search, pooling, batch normalisation and softmax.
/// </summary>
internal sealed unsafe class Cudnn
{
    public const int FormatNchw = 0;
    public const int DataFloat = 0;
    public const int DataBFloat16 = 9;
    public const int CrossCorrelation = 1;
    public const int DefaultMath = 0;
    public const int TensorOpMath = 1;
    public const int TensorOpMathAllowConversion = 2;
    public const int FmaMath = 3;
    public const int PoolingMax = 0;
    public const int PoolingAverageIncludePadding = 1;
    public const int PoolingAverageExcludePadding = 2;
    public const int PropagateNan = 1;
    public const int BatchNormSpatial = 1;
    public const int SoftmaxAccurate = 1;
    public const int SoftmaxLog = 2;
    public const int SoftmaxModeChannel = 1;
    public const double BatchNormMinEpsilon = 1e-5;

    private readonly delegate* unmanaged<nuint> _getVersion;
    private readonly delegate* unmanaged<nint*, int> _create;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, nint, int> _setStream;
    private readonly delegate* unmanaged<int, byte*> _errorString;
    private readonly delegate* unmanaged<nint*, int> _createTensor;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, int> _setTensor4d;
    private readonly delegate* unmanaged<nint, int> _destroyTensor;
    private readonly delegate* unmanaged<nint*, int> _createFilter;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, int> _setFilter4d;
    private readonly delegate* unmanaged<nint, int> _destroyFilter;
    private readonly delegate* unmanaged<nint*, int> _createConv;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int> _setConv2d;
    private readonly delegate* unmanaged<nint, int, int> _setConvGroupCount;
    private readonly delegate* unmanaged<nint, int, int> _setConvMathType;
    private readonly delegate* unmanaged<nint, int> _destroyConv;
    private readonly delegate* unmanaged<nint*, int> _createPooling;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int> _setPooling2d;
    private readonly delegate* unmanaged<nint, int> _destroyPooling;

    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int> _getFwdAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int> _findFwdAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int> _fwdWorkspace;
    private readonly delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> _convFwd;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int> _getBwdDataAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int> _findBwdDataAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int> _bwdDataWorkspace;
    private readonly delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> _convBwdData;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int> _getBwdFilterAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int> _findBwdFilterAlgo;
    private readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int> _bwdFilterWorkspace;
    private readonly delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> _convBwdFilter;
    private readonly delegate* unmanaged<nint, float*, nint, nint, float*, nint, nint, int> _addTensor;

    private readonly delegate* unmanaged<nint, nint, float*, nint, nint, float*, nint, nint, int> _poolFwd;
    private readonly delegate* unmanaged<nint, nint, float*, nint, nint, nint, nint, nint, nint, float*, nint, nint, int> _poolBwd;

    private readonly delegate* unmanaged<nint, int, float*, float*, nint, nint, nint, nint, nint, nint, nint, double, nint, nint, double, nint, nint, int> _bnFwdTraining;
    private readonly delegate* unmanaged<nint, int, float*, float*, nint, nint, nint, nint, nint, nint, nint, nint, nint, double, int> _bnFwdInference;
    private readonly delegate* unmanaged<nint, int, float*, float*, float*, float*, nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, double, nint, nint, int> _bnBwd;

    private readonly delegate* unmanaged<nint, int, int, float*, nint, nint, float*, nint, nint, int> _softmaxFwd;
    private readonly delegate* unmanaged<nint, int, int, float*, nint, nint, nint, nint, float*, nint, nint, int> _softmaxBwd;

    public Cudnn(nint library, IReadOnlyList<nint> subLibraries)
    {
        var e = new NativeExports("cuDNN", [library, .. subLibraries]);
        _getVersion = (delegate* unmanaged<nuint>)e.Get("cudnnGetVersion");
        _create = (delegate* unmanaged<nint*, int>)e.Get("cudnnCreate");
        _destroy = (delegate* unmanaged<nint, int>)e.Get("cudnnDestroy");
        _setStream = (delegate* unmanaged<nint, nint, int>)e.Get("cudnnSetStream");
        _errorString = (delegate* unmanaged<int, byte*>)e.Get("cudnnGetErrorString");
        _createTensor = (delegate* unmanaged<nint*, int>)e.Get("cudnnCreateTensorDescriptor");
        _setTensor4d = (delegate* unmanaged<nint, int, int, int, int, int, int, int>)e.Get("cudnnSetTensor4dDescriptor");
        _destroyTensor = (delegate* unmanaged<nint, int>)e.Get("cudnnDestroyTensorDescriptor");
        _createFilter = (delegate* unmanaged<nint*, int>)e.Get("cudnnCreateFilterDescriptor");
        _setFilter4d = (delegate* unmanaged<nint, int, int, int, int, int, int, int>)e.Get("cudnnSetFilter4dDescriptor");
        _destroyFilter = (delegate* unmanaged<nint, int>)e.Get("cudnnDestroyFilterDescriptor");
        _createConv = (delegate* unmanaged<nint*, int>)e.Get("cudnnCreateConvolutionDescriptor");
        _setConv2d = (delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int>)e.Get("cudnnSetConvolution2dDescriptor");
        _setConvGroupCount = (delegate* unmanaged<nint, int, int>)e.Get("cudnnSetConvolutionGroupCount");
        _setConvMathType = (delegate* unmanaged<nint, int, int>)e.Get("cudnnSetConvolutionMathType");
        _destroyConv = (delegate* unmanaged<nint, int>)e.Get("cudnnDestroyConvolutionDescriptor");
        _createPooling = (delegate* unmanaged<nint*, int>)e.Get("cudnnCreatePoolingDescriptor");
        _setPooling2d = (delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int>)e.Get("cudnnSetPooling2dDescriptor");
        _destroyPooling = (delegate* unmanaged<nint, int>)e.Get("cudnnDestroyPoolingDescriptor");
        _getFwdAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int>)e.Get("cudnnGetConvolutionForwardAlgorithm_v7");
        _findFwdAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int>)e.Get("cudnnFindConvolutionForwardAlgorithmEx");
        _fwdWorkspace = (delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int>)e.Get("cudnnGetConvolutionForwardWorkspaceSize");
        _convFwd = (delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)e.Get("cudnnConvolutionForward");
        _getBwdDataAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int>)e.Get("cudnnGetConvolutionBackwardDataAlgorithm_v7");
        _findBwdDataAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int>)e.Get("cudnnFindConvolutionBackwardDataAlgorithmEx");
        _bwdDataWorkspace = (delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int>)e.Get("cudnnGetConvolutionBackwardDataWorkspaceSize");
        _convBwdData = (delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)e.Get("cudnnConvolutionBackwardData");
        _getBwdFilterAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, int>)e.Get("cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        _findBwdFilterAlgo = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, int, int*, CudnnAlgoPerf*, nint, nuint, int>)e.Get("cudnnFindConvolutionBackwardFilterAlgorithmEx");
        _bwdFilterWorkspace = (delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int>)e.Get("cudnnGetConvolutionBackwardFilterWorkspaceSize");
        _convBwdFilter = (delegate* unmanaged<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)e.Get("cudnnConvolutionBackwardFilter");
        _addTensor = (delegate* unmanaged<nint, float*, nint, nint, float*, nint, nint, int>)e.Get("cudnnAddTensor");
        _poolFwd = (delegate* unmanaged<nint, nint, float*, nint, nint, float*, nint, nint, int>)e.Get("cudnnPoolingForward");
        _poolBwd = (delegate* unmanaged<nint, nint, float*, nint, nint, nint, nint, nint, nint, float*, nint, nint, int>)e.Get("cudnnPoolingBackward");
        _bnFwdTraining = (delegate* unmanaged<nint, int, float*, float*, nint, nint, nint, nint, nint, nint, nint, double, nint, nint, double, nint, nint, int>)e.Get("cudnnBatchNormalizationForwardTraining");
        _bnFwdInference = (delegate* unmanaged<nint, int, float*, float*, nint, nint, nint, nint, nint, nint, nint, nint, nint, double, int>)e.Get("cudnnBatchNormalizationForwardInference");
        _bnBwd = (delegate* unmanaged<nint, int, float*, float*, float*, float*, nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, double, nint, nint, int>)e.Get("cudnnBatchNormalizationBackward");
        _softmaxFwd = (delegate* unmanaged<nint, int, int, float*, nint, nint, float*, nint, nint, int>)e.Get("cudnnSoftmaxForward");
        _softmaxBwd = (delegate* unmanaged<nint, int, int, float*, nint, nint, nint, nint, float*, nint, nint, int>)e.Get("cudnnSoftmaxBackward");
    }

    public long Version => (long)_getVersion();

    public void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException($"{call} failed: {NativeText.FromUtf8(_errorString(status))}") { Status = status };
        }
    }

    public nint Create()
    {
        nint h;
        Check(_create(&h), "cudnnCreate");
        return h;
    }

    public int Destroy(nint handle) => _destroy(handle);

    public void SetStream(nint handle, nint stream) => Check(_setStream(handle, stream), "cudnnSetStream");

    // ---- descriptors --------------------------------------------------------------------------------

    public nint CreateTensor(int n, int c, int h, int w, int dataType = DataFloat)
    {
        nint d;
        Check(_createTensor(&d), "cudnnCreateTensorDescriptor");
        int r = _setTensor4d(d, FormatNchw, dataType, n, c, h, w);
        if (r != 0)
        {
            _destroyTensor(d);
            Check(r, $"cudnnSetTensor4dDescriptor({n}, {c}, {h}, {w})");
        }
        return d;
    }

    public int DestroyTensor(nint d) => _destroyTensor(d);

    public nint CreateFilter(int k, int c, int h, int w, int dataType = DataFloat)
    {
        nint d;
        Check(_createFilter(&d), "cudnnCreateFilterDescriptor");
        int r = _setFilter4d(d, dataType, FormatNchw, k, c, h, w);
        if (r != 0)
        {
            _destroyFilter(d);
            Check(r, $"cudnnSetFilter4dDescriptor({k}, {c}, {h}, {w})");
        }
        return d;
    }

    public int DestroyFilter(nint d) => _destroyFilter(d);

    public nint CreateConvolution(in ConvGeometry g, int mathType)
    {
        nint d;
        Check(_createConv(&d), "cudnnCreateConvolutionDescriptor");
        try
        {
            Check(_setConv2d(d, g.PadH, g.PadW, g.StrideH, g.StrideW, g.DilationH, g.DilationW, CrossCorrelation, DataFloat), "cudnnSetConvolution2dDescriptor");
            Check(_setConvGroupCount(d, g.Groups), "cudnnSetConvolutionGroupCount");
            Check(_setConvMathType(d, mathType), "cudnnSetConvolutionMathType");
        }
        catch
        {
            _destroyConv(d);
            throw;
        }
        return d;
    }

    public int DestroyConvolution(nint d) => _destroyConv(d);

    public nint CreatePooling(int mode, int kh, int kw, int ph, int pw, int sh, int sw)
    {
        nint d;
        Check(_createPooling(&d), "cudnnCreatePoolingDescriptor");
        int r = _setPooling2d(d, mode, PropagateNan, kh, kw, ph, pw, sh, sw);
        if (r != 0)
        {
            _destroyPooling(d);
            Check(r, "cudnnSetPooling2dDescriptor");
        }
        return d;
    }

    public int DestroyPooling(nint d) => _destroyPooling(d);

    // ---- convolution --------------------------------------------------------------------------------

    public int GetForwardAlgorithms(nint h, nint x, nint w, nint conv, nint y, Span<CudnnAlgoPerf> results)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_getFwdAlgo(h, x, w, conv, y, results.Length, &n, p), "cudnnGetConvolutionForwardAlgorithm_v7");
        }
        return n;
    }

    public int FindForwardAlgorithms(nint h, nint xd, nint x, nint wd, nint w, nint conv, nint yd, nint y, Span<CudnnAlgoPerf> results, nint ws, long wsBytes)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_findFwdAlgo(h, xd, x, wd, w, conv, yd, y, results.Length, &n, p, ws, (nuint)wsBytes), "cudnnFindConvolutionForwardAlgorithmEx");
        }
        return n;
    }

    public long ForwardWorkspace(nint h, nint x, nint w, nint conv, nint y, int algo)
    {
        nuint s;
        Check(_fwdWorkspace(h, x, w, conv, y, algo, &s), "cudnnGetConvolutionForwardWorkspaceSize");
        return (long)s;
    }

    public void ConvolutionForward(nint h, float alpha, nint xd, nint x, nint wd, nint w, nint conv, int algo, nint ws, long wsBytes, float beta, nint yd, nint y)
        => Check(_convFwd(h, &alpha, xd, x, wd, w, conv, algo, ws, (nuint)wsBytes, &beta, yd, y), "cudnnConvolutionForward");

    public int GetBackwardDataAlgorithms(nint h, nint w, nint dy, nint conv, nint dx, Span<CudnnAlgoPerf> results)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_getBwdDataAlgo(h, w, dy, conv, dx, results.Length, &n, p), "cudnnGetConvolutionBackwardDataAlgorithm_v7");
        }
        return n;
    }

    public int FindBackwardDataAlgorithms(nint h, nint wd, nint w, nint dyd, nint dy, nint conv, nint dxd, nint dx, Span<CudnnAlgoPerf> results, nint ws, long wsBytes)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_findBwdDataAlgo(h, wd, w, dyd, dy, conv, dxd, dx, results.Length, &n, p, ws, (nuint)wsBytes), "cudnnFindConvolutionBackwardDataAlgorithmEx");
        }
        return n;
    }

    public long BackwardDataWorkspace(nint h, nint w, nint dy, nint conv, nint dx, int algo)
    {
        nuint s;
        Check(_bwdDataWorkspace(h, w, dy, conv, dx, algo, &s), "cudnnGetConvolutionBackwardDataWorkspaceSize");
        return (long)s;
    }

    public void ConvolutionBackwardData(nint h, float alpha, nint wd, nint w, nint dyd, nint dy, nint conv, int algo, nint ws, long wsBytes, float beta, nint dxd, nint dx)
        => Check(_convBwdData(h, &alpha, wd, w, dyd, dy, conv, algo, ws, (nuint)wsBytes, &beta, dxd, dx), "cudnnConvolutionBackwardData");

    public int GetBackwardFilterAlgorithms(nint h, nint x, nint dy, nint conv, nint dw, Span<CudnnAlgoPerf> results)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_getBwdFilterAlgo(h, x, dy, conv, dw, results.Length, &n, p), "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        }
        return n;
    }

    public int FindBackwardFilterAlgorithms(nint h, nint xd, nint x, nint dyd, nint dy, nint conv, nint dwd, nint dw, Span<CudnnAlgoPerf> results, nint ws, long wsBytes)
    {
        int n;
        fixed (CudnnAlgoPerf* p = results)
        {
            Check(_findBwdFilterAlgo(h, xd, x, dyd, dy, conv, dwd, dw, results.Length, &n, p, ws, (nuint)wsBytes), "cudnnFindConvolutionBackwardFilterAlgorithmEx");
        }
        return n;
    }

    public long BackwardFilterWorkspace(nint h, nint x, nint dy, nint conv, nint dw, int algo)
    {
        nuint s;
        Check(_bwdFilterWorkspace(h, x, dy, conv, dw, algo, &s), "cudnnGetConvolutionBackwardFilterWorkspaceSize");
        return (long)s;
    }

    public void ConvolutionBackwardFilter(nint h, float alpha, nint xd, nint x, nint dyd, nint dy, nint conv, int algo, nint ws, long wsBytes, float beta, nint dwd, nint dw)
        => Check(_convBwdFilter(h, &alpha, xd, x, dyd, dy, conv, algo, ws, (nuint)wsBytes, &beta, dwd, dw), "cudnnConvolutionBackwardFilter");

    public void AddTensor(nint h, float alpha, nint ad, nint a, float beta, nint cd, nint c)
        => Check(_addTensor(h, &alpha, ad, a, &beta, cd, c), "cudnnAddTensor");

    // ---- pooling, batch norm, softmax -------------------------------------------------------------

    public void PoolingForward(nint h, nint pool, nint xd, nint x, nint yd, nint y)
    {
        float alpha = 1f, beta = 0f;
        Check(_poolFwd(h, pool, &alpha, xd, x, &beta, yd, y), "cudnnPoolingForward");
    }

    public void PoolingBackward(nint h, nint pool, nint yd, nint y, nint dyd, nint dy, nint xd, nint x, nint dxd, nint dx)
    {
        float alpha = 1f, beta = 0f;
        Check(_poolBwd(h, pool, &alpha, yd, y, dyd, dy, xd, x, &beta, dxd, dx), "cudnnPoolingBackward");
    }

    public void BatchNormForwardTraining(nint h, nint xd, nint x, nint yd, nint y, nint bnd, nint scale, nint bias, double factor,
        nint runningMean, nint runningVar, double eps, nint saveMean, nint saveInvStd)
    {
        float alpha = 1f, beta = 0f;
        Check(_bnFwdTraining(h, BatchNormSpatial, &alpha, &beta, xd, x, yd, y, bnd, scale, bias, factor, runningMean, runningVar, eps, saveMean, saveInvStd),
            "cudnnBatchNormalizationForwardTraining");
    }

    public void BatchNormForwardInference(nint h, nint xd, nint x, nint yd, nint y, nint bnd, nint scale, nint bias, nint mean, nint variance, double eps)
    {
        float alpha = 1f, beta = 0f;
        Check(_bnFwdInference(h, BatchNormSpatial, &alpha, &beta, xd, x, yd, y, bnd, scale, bias, mean, variance, eps), "cudnnBatchNormalizationForwardInference");
    }

    public void BatchNormBackward(nint h, nint xd, nint x, nint dyd, nint dy, nint dxd, nint dx, nint bnd, nint scale, nint dscale, nint dbias,
        double eps, nint saveMean, nint saveInvStd)
    {
        float one = 1f, zero = 0f;
        Check(_bnBwd(h, BatchNormSpatial, &one, &zero, &one, &zero, xd, x, dyd, dy, dxd, dx, bnd, scale, dscale, dbias, eps, saveMean, saveInvStd),
            "cudnnBatchNormalizationBackward");
    }

    public void SoftmaxForward(nint h, bool log, nint xd, nint x, nint yd, nint y)
    {
        float alpha = 1f, beta = 0f;
        Check(_softmaxFwd(h, log ? SoftmaxLog : SoftmaxAccurate, SoftmaxModeChannel, &alpha, xd, x, &beta, yd, y), "cudnnSoftmaxForward");
    }

    public void SoftmaxBackward(nint h, bool log, nint yd, nint y, nint dyd, nint dy, nint dxd, nint dx)
    {
        float alpha = 1f, beta = 0f;
        Check(_softmaxBwd(h, log ? SoftmaxLog : SoftmaxAccurate, SoftmaxModeChannel, &alpha, yd, y, dyd, dy, &beta, dxd, dx), "cudnnSoftmaxBackward");
    }
}
