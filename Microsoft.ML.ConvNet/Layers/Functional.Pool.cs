using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

// Placeholder signatures: pooling.
public static partial class Functional
{
    /// <summary>2-D max pooling (stride defaults to the kernel size).</summary>
    public static Tensor MaxPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => throw new NotImplementedException();

    /// <summary>2-D average pooling (stride defaults to the kernel size).</summary>
    public static Tensor AvgPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        => throw new NotImplementedException();

    /// <summary>1-D max pooling of x [N, C, L].</summary>
    public static Tensor MaxPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => throw new NotImplementedException();

    /// <summary>Adaptive average pooling to [N, C, outputH, outputW].</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outputH, int outputW)
        => throw new NotImplementedException();

    /// <summary>Global average pooling: [N, C, H, W] → [N, C, 1, 1].</summary>
    public static Tensor GlobalAvgPool2d(Tensor x) => AdaptiveAvgPool2d(x, 1, 1);
}
