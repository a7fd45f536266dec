using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// dd[u] = row[iw + 2u] (every other float of a row of w) for the leading u whose 16- or 8-float chunks lie inside
    /// the row, picked from vectors with AVX-512; returns how many were written (none without AVX-512 or when iw &lt; 0),
    /// the caller does the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int GatherEven(float* row, int iw, int len, int w, float* dd)
    {
        if (!Avx512F.IsSupported || iw < 0)
        {
            return 0;
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        int u = 0;
        for (; u + 16 <= len && iw + 2 * u + 32 <= w; u += 16)
        {
            float* src = row + iw + 2 * u;
            Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(src), even, Vector512.Load(src + 16)), dd + u);
        }
        if (u + 8 <= len && iw + 2 * u + 16 <= w)
        {
            Vector256.Store(Avx512F.PermuteVar16x32(Vector512.Load(row + iw + 2 * u), even).GetLower(), dd + u);
            u += 8;
        }
        return u;
    }

    /// <summary>
    /// dd[u] = row[iw + stride·u] for u &lt; len, every one inside the row of w: a copy at stride 1, picked from vectors
    /// with <see cref="GatherEven"/> at stride 2, one by one otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void TakeStrided(float* row, int iw, int stride, int len, int w, float* dd)
    {
        if (stride == 1)
        {
            Copy(row + iw, dd, len);
            return;
        }
        for (int u = stride == 2 ? GatherEven(row, iw, len, w, dd) : 0; u < len; u++)
        {
            dd[u] = row[iw + u * stride];
        }
    }
}
