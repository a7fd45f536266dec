using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// Convolution filters packed once as the GEMM's left operand (<see cref="PackedA"/>), or transformed once for
/// Winograd, and reused while they do not change. Every forward convolution otherwise packs its filters again: for each
/// image on large maps, for each block of images on small ones; and at batch 1 the packing or transform of a late
/// layer's filters (512×4608 floats for ResNet-18's last layers) costs about as much as its product. Only filters that need no gradient are kept, that is those of inference
/// with batch norm folded and of frozen layers, since trained filters change at every step. An entry is keyed by the
/// filter tensor, lives as long as it does, and is rebuilt when the tensor's version changes.
/// </summary>
internal static unsafe class PackedFilters
{
    /// <summary>Writes the transformed filters to <paramref name="destination"/>.</summary>
    public delegate void Transform(float* filters, float* destination);

    private sealed record Entry(int Version, float[] Data);

    private static readonly ConditionalWeakTable<Tensor, ConcurrentDictionary<string, Entry>> Table = new();

    /// <summary>Whether filters are kept transformed (tests compare both paths).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The filters w [K, C/groups, R, S] packed group after group as GEMM left operands (<see cref="Sgemm.PackedSize"/>
    /// (K/groups, depth) floats each), or null when they are packed per call.
    /// </summary>
    public static float[]? ForGemm(Tensor w, int groups, int kg, int depth)
    {
        int size = Sgemm.PackedSize(kg, depth);
        return Get(w, $"gemm {groups}", size * groups, (pw, pd) =>
        {
            for (int gi = 0; gi < groups; gi++)
            {
                Sgemm.PackWhole(pw + (nint)gi * kg * depth, depth, kg, depth, pd + (nint)gi * size);
            }
        });
    }

    /// <summary>The filters transformed for Winograd's forward pass on <paramref name="g"/>, or null when they are transformed per call.</summary>
    public static float[]? ForWinograd(Tensor w, in ConvGeometry g)
    {
        bool large = Winograd.UsesLargeTiles(g);
        var geometry = g;
        return Get(w, large ? "winograd 4x4" : "winograd 2x2", Winograd.TransformedSize(g, large),
            (pw, pd) => Winograd.TransformForward(pw, pd, geometry, large));
    }

    /// <summary>
    /// The transform of <paramref name="w"/> named <paramref name="kind"/> (<paramref name="floats"/> floats, in a pinned
    /// array), computed on first use and whenever the tensor's version changed; null when w requires a gradient or
    /// keeping is off.
    /// </summary>
    private static float[]? Get(Tensor w, string kind, int floats, Transform transform)
    {
        if (!Enabled || w.RequiresGrad)
        {
            return null;
        }
        var entries = Table.GetValue(w, _ => new ConcurrentDictionary<string, Entry>());
        if (entries.TryGetValue(kind, out var entry) && entry.Version == w.Version && entry.Data.Length == floats)
        {
            return entry.Data;
        }
        var data = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        fixed (float* pw = w.Span)
        fixed (float* pd = data)
        {
            transform(pw, pd);
        }
        entries[kind] = new Entry(w.Version, data);
        return data;
    }
}
