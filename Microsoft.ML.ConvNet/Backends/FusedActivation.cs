namespace Microsoft.ML.ConvNet.Backends;

/// <summary>
/// The activations fused into other operations: into a convolution's write-back after its folded batch norm and
/// residual (the CPU backend's convolution epilogue), and into a training-mode batch norm.
/// </summary>
internal enum FusedActivation
{
    /// <summary>None.</summary>
    None,

    /// <summary>max(0, x).</summary>
    Relu,

    /// <summary>min(max(0, x), 6).</summary>
    Relu6,

    /// <summary>x·σ(x).</summary>
    Silu,
}
