namespace Microsoft.ML.ConvNet.Backends;

/// <summary>
/// Mixed-precision autocast for the current thread. Inside <see cref="BFloat16"/>, GPU backends run convolutions and
/// GEMMs (Linear, MatMul) with bfloat16 operands and float32 accumulation; tensors, weights, gradients and optimizer
/// state stay float32 (the master copy), and every other operation runs in float32. Convolutions also round their
/// output to bfloat16 (cuDNN's bf16 mode), GEMM outputs stay float32. The CPU backend has no bf16 path: it ignores the
/// scope, and the trainers refuse the option on the CPU rather than silently training in float32.
/// </summary>
public static class Autocast
{
    [ThreadStatic]
    private static int _bf16Depth;

    /// <summary>True inside a <see cref="BFloat16"/> scope on this thread.</summary>
    public static bool IsBFloat16Enabled => _bf16Depth > 0;

    /// <summary>Enables bf16 autocast on this thread until the returned object is disposed (scopes nest).</summary>
    public static IDisposable BFloat16()
    {
        _bf16Depth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _bf16Depth--;
            }
        }
    }
}
