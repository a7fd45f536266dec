using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>Short vectorised copies, clears and adds over raw float pointers, for the packing and col2im loops.</summary>
internal static unsafe class FloatBlocks
{
    /// <summary>dst[i] = src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(Vector512.Load(src + i), dst + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256.Load(src + i), dst + i);
            }
        }
        for (; i < n; i++)
        {
            dst[i] = src[i];
        }
    }

    /// <summary>dst[i] = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Clear(float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(Vector512<float>.Zero, dst + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256<float>.Zero, dst + i);
            }
        }
        for (; i < n; i++)
        {
            dst[i] = 0f;
        }
    }

    /// <summary>dst[i] += src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Add(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
            }
        }
        for (; i < n; i++)
        {
            dst[i] += src[i];
        }
    }
}
