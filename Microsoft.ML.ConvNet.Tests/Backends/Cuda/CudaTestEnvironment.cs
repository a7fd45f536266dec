using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>GPU tests call <see cref="RequireGpu"/> first: without a usable GPU they end Inconclusive with the reason.</summary>
internal static class CudaTestEnvironment
{
    /// <summary>The CUDA backend of GPU 0, or Assert.Inconclusive naming why CUDA is unavailable.</summary>
    public static CudaBackend RequireGpu()
    {
        var availability = CudaBackend.Availability;
        if (!availability.IsAvailable)
        {
            Assert.Inconclusive($"No usable CUDA device, so this GPU test did not run: {availability.Reason}");
        }
        return (CudaBackend)Device.Cuda(0).Backend;
    }
}
