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

    private static readonly ConditionalWeakTable<Tensor, ConcurrentDictionary<(string Transform, int Variant), Entry>> Table = new();

    /// <summary>Whether filters are kept transformed (tests compare both paths).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The filters w [K, C/groups, R, S] packed group after group as GEMM left operands (<see cref="Sgemm.PackedSize"/>
    /// (K/groups, depth) floats each), or null when they are packed per call.
    /// </summary>
    public static float[]? ForGemm(Tensor w, int groups, int kg, int depth)
    {
        var kind = ("gemm", groups);
        int floats = Sgemm.PackedSize(kg, depth) * groups;
        return !Keeps(w) ? null : Kept(w, kind, floats) ?? PackForGemm(w, kind, floats, groups, kg, depth);
    }

    /// <summary>
    /// The ungrouped filters w [K, C, R, S] packed as the GEMM's right operand Wᵀ [C·R·S, K] (<see cref="PackedB"/>),
    /// or null when they are not kept.
    /// </summary>
    public static float[]? ForGemmColumns(Tensor w, int k, int depth)
    {
        var kind = ("gemm columns", 1);
        int floats = Sgemm.PackedSizeB(depth, k);
        return !Keeps(w) ? null : Kept(w, kind, floats) ?? PackForGemmColumns(w, kind, floats, k, depth);
    }

    /// <summary>The filters transformed for Winograd's forward pass on <paramref name="g"/>, or null when they are transformed per call.</summary>
    public static float[]? ForWinograd(Tensor w, in ConvGeometry g)
    {
        bool large = Winograd.UsesLargeTiles(g);
        var kind = ("winograd", large ? 4 : 2);
        int floats = Winograd.TransformedSize(g, large);
        return !Keeps(w) ? null : Kept(w, kind, floats) ?? TransformForWinograd(w, kind, floats, g, large);
    }

    // The transforms are built in methods of their own, so that the delegates capturing their arguments are
    // allocated when a transform is built, not on every call that finds it kept.
    private static float[] PackForGemm(Tensor w, (string, int) kind, int floats, int groups, int kg, int depth)
        => Keep(w, kind, floats, (pw, pd) =>
        {
            for (int gi = 0; gi < groups; gi++)
            {
                Sgemm.PackWhole(pw + (nint)gi * kg * depth, depth, kg, depth, pd + (nint)gi * (floats / groups));
            }
        });

    private static float[] PackForGemmColumns(Tensor w, (string, int) kind, int floats, int k, int depth)
        => Keep(w, kind, floats, (pw, pd) =>
        {
            var columns = new DenseB(pw, depth, trans: true);
            Sgemm.PackWholeB(ref columns, depth, k, pd);
        });

    private static float[] TransformForWinograd(Tensor w, (string, int) kind, int floats, ConvGeometry g, bool large)
        => Keep(w, kind, floats, (pw, pd) => Winograd.TransformForward(pw, pd, g, large));

    /// <summary>Whether w's transforms are kept: it needs no gradient and keeping is on.</summary>
    private static bool Keeps(Tensor w) => Enabled && !w.RequiresGrad;

    /// <summary>The kept transform of <paramref name="w"/> named by <paramref name="kind"/>, or null when there is none for its current version.</summary>
    private static float[]? Kept(Tensor w, (string Transform, int Variant) kind, int floats)
        => Table.TryGetValue(w, out var entries) && entries.TryGetValue(kind, out var entry) && entry.Version == w.Version && entry.Data.Length == floats
            ? entry.Data
            : null;

    /// <summary>Computes the transform of <paramref name="w"/> (<paramref name="floats"/> floats, in a pinned array) and keeps it for its current version.</summary>
    private static float[] Keep(Tensor w, (string Transform, int Variant) kind, int floats, Transform transform)
    {
        var data = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        fixed (float* pw = w.Span)
        fixed (float* pd = data)
        {
            transform(pw, pd);
        }
        Table.GetValue(w, _ => new ConcurrentDictionary<(string Transform, int Variant), Entry>())[kind] = new Entry(w.Version, data);
        return data;
    }
}
