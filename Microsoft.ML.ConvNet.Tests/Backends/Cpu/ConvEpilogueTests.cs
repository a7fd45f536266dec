using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>
/// The convolution's write-back epilogue, y = act(conv + bias + residual), on every CPU path against the oracle: the
/// seven-loop convolution, then the bias, the residual and the activation element by element.
/// </summary>
[TestClass]
public sealed class ConvEpilogueTests
{
    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int r, int s, int stride = 1, int pad = 0, int groups = 1)
        => ConvGeometry.Create(new Shape(n, c, h, w), new Shape(k, c / groups, r, s), stride, stride, pad, pad, 1, 1, groups);

    /// <summary>One geometry per path, each checked to take that path (else the test would not test it).</summary>
    private static readonly (string Path, ConvGeometry Geometry, ConvAlgorithm Algorithm, WinogradTiles Tiles)[] Paths =
    [
        ("depthwise", Geometry(2, 8, 9, 11, 8, 3, 3, pad: 1, groups: 8), ConvAlgorithm.Depthwise, WinogradTiles.Measured),
        ("depthwise stride 2", Geometry(3, 5, 10, 9, 5, 3, 3, stride: 2, pad: 1, groups: 5), ConvAlgorithm.Depthwise, WinogradTiles.Measured),
        ("full window", Geometry(3, 4, 5, 5, 6, 5, 5), ConvAlgorithm.FullWindow, WinogradTiles.Measured),
        ("Winograd F(2×2)", Geometry(2, 32, 13, 11, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Small),
        ("Winograd F(4×4)", Geometry(2, 32, 13, 11, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Large),
        ("Winograd F(2×2), wide rows", Geometry(2, 32, 5, 70, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Small),
        ("Winograd F(4×4), wide rows", Geometry(2, 32, 9, 70, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Large),
        (GatheredPrefix + "F(2×2)", Geometry(2, 32, 9, 40, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Small),
        (GatheredPrefix + "F(4×4)", Geometry(2, 32, 9, 40, 33, 3, 3, pad: 1), ConvAlgorithm.Winograd, WinogradTiles.Large),
        ("direct", Geometry(2, 5, 10, 9, 7, 3, 3, pad: 1), ConvAlgorithm.Direct, WinogradTiles.Measured),
        ("pointwise", Geometry(2, 16, 23, 24, 40, 1, 1), ConvAlgorithm.Pointwise, WinogradTiles.Measured),
        ("pointwise, images per GEMM", Geometry(2, 16, 9, 13, 40, 1, 1), ConvAlgorithm.Pointwise, WinogradTiles.Measured),
        ("im2col", Geometry(1, 4, 40, 36, 37, 3, 3, stride: 2, pad: 1), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        ("im2col, images per GEMM", Geometry(37, 30, 5, 3, 40, 3, 3, pad: 1), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        ("im2col, groups", Geometry(2, 8, 12, 12, 12, 3, 3, stride: 2, pad: 1, groups: 4), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        (RowsPrefix + "im2col", Geometry(1, 24, 7, 7, 40, 3, 3, pad: 1), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        (RowsPrefix + "im2col, stride 2 (gathered)", Geometry(1, 12, 14, 13, 40, 3, 3, stride: 2, pad: 1), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        (RowsPrefix + "im2col, 1×1 stride 2", Geometry(1, 16, 9, 9, 33, 1, 1, stride: 2), ConvAlgorithm.Im2Col, WinogradTiles.Measured),
        (RowsPrefix + "pointwise", Geometry(1, 40, 5, 6, 48, 1, 1), ConvAlgorithm.Pointwise, WinogradTiles.Measured),
    ];

    /// <summary>
    /// Paths whose name starts so multiply one image's output positions as rows by the kept filters as columns
    /// (<see cref="CpuBackend.MultipliesPositionsAsRows"/>), which their sizes would otherwise not take.
    /// </summary>
    private const string RowsPrefix = "positions as rows, ";

    /// <summary>Paths whose name starts so run with Winograd's patches gathered one by one and its outputs put tile by tile, as without AVX-512.</summary>
    private const string GatheredPrefix = "Winograd without AVX-512, ";

    public static IEnumerable<object[]> Cases()
    {
        UnaryOp?[] activations = [null, UnaryOp.Relu, UnaryOp.Relu6, UnaryOp.Silu, UnaryOp.Tanh];
        int seed = 0;
        foreach (var (path, _, _, _) in Paths)
        {
            foreach (var activation in activations)
            {
                yield return [path, activation?.ToString() ?? "none", true, true, seed++];
            }
            yield return [path, "Relu", false, true, seed++];
            yield return [path, "Relu6", true, false, seed++];
            yield return [path, "none", false, false, seed++];
        }
    }

    public static string CaseName(System.Reflection.MethodInfo method, object[] data)
        => $"{data[0]}, {data[1]}{((bool)data[2] ? ", bias" : "")}{((bool)data[3] ? ", residual" : "")}";

    [TestMethod]
    [DynamicData(nameof(Cases), DynamicDataDisplayName = nameof(CaseName))]
    public void EveryPathMatchesTheOracle(string path, string activationName, bool withBias, bool withResidual, int seed)
    {
        var (_, g, algorithm, tiles) = Paths.Single(p => p.Path == path);
        UnaryOp? activation = activationName == "none" ? null : Enum.Parse<UnaryOp>(activationName);
        var saved = Winograd.Tiles;
        Winograd.Tiles = tiles;
        Winograd.GatherPatches = path.StartsWith(GatheredPrefix, StringComparison.Ordinal);
        CpuBackend.PositionsAsRowsAtAnySize = path.StartsWith(RowsPrefix, StringComparison.Ordinal);
        try
        {
            Assert.AreEqual(algorithm, ConvAlgorithms.Choose(g, ConvDirection.Forward), $"{path} takes another path");
            Assert.AreEqual(path.StartsWith(RowsPrefix, StringComparison.Ordinal), CpuBackend.MultipliesPositionsAsRows(g), $"{path}: positions as rows");
            var rng = new Random(seed);
            using var scope = new TensorScope();
            var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
            var w = Tensor.RandomNormal(new Shape(g.K, g.CPerGroup, g.R, g.S), rng);
            var bias = withBias ? Tensor.RandomNormal(new Shape(g.K), rng) : null;
            var residual = withResidual ? Tensor.RandomNormal(new Shape(g.N, g.K, g.OH, g.OW), rng) : null;
            // The output starts as NaN: every element must be written.
            var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
            CpuBackend.Instance.Conv2dForward(x, w, bias, y, g, residual, activation);

            var expected = NaiveOps.Conv2dForward(x.ToArray(), w.ToArray(), bias?.ToArray(), g);
            var r = residual?.ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                double v = expected[i] + (r == null ? 0 : r[i]);
                expected[i] = (float)(activation switch
                {
                    UnaryOp.Relu => Math.Max(v, 0),
                    UnaryOp.Relu6 => Math.Clamp(v, 0, 6),
                    UnaryOp.Silu => v / (1 + Math.Exp(-v)),
                    UnaryOp.Tanh => Math.Tanh(v),
                    _ => v,
                });
            }
            TensorAssert.AreClose(expected, y.ToArray(), 2e-5 * (g.CPerGroup * g.R * g.S + 1), 1e-4, $"{path}, {activationName}");
        }
        finally
        {
            Winograd.Tiles = saved;
            Winograd.GatherPatches = false;
            CpuBackend.PositionsAsRowsAtAnySize = false;
        }
    }

    /// <summary>
    /// Filters that need no gradient are packed (or Winograd-transformed) once and kept (<see cref="PackedFilters"/>):
    /// the outputs are those of packing per call, bit for bit, on every GEMM and Winograd path (positions as rows
    /// included, which only kept filters take), and a filter overwritten in place is packed again.
    /// </summary>
    [TestMethod]
    public void KeptPackedFiltersGiveWhatPackingPerCallGivesAndFollowChanges()
    {
        var saved = Winograd.Tiles;
        try
        {
            foreach (var (path, g, _, tiles) in Paths.Where(p => p.Algorithm is ConvAlgorithm.Pointwise or ConvAlgorithm.Im2Col or ConvAlgorithm.Winograd))
            {
                Winograd.Tiles = tiles;
                CpuBackend.PositionsAsRowsAtAnySize = path.StartsWith(RowsPrefix, StringComparison.Ordinal);
                CheckKeptFilters(path, g);
            }
        }
        finally
        {
            Winograd.Tiles = saved;
            CpuBackend.PositionsAsRowsAtAnySize = false;
        }
    }

    private static void CheckKeptFilters(string path, ConvGeometry g)
    {
        var rng = new Random(path.Length);
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Shape(g.N, g.C, g.H, g.W), rng);
        var w = Tensor.RandomNormal(new Shape(g.K, g.CPerGroup, g.R, g.S), rng);
        var bias = Tensor.RandomNormal(new Shape(g.K), rng);
        float[] Run(bool keep)
        {
            PackedFilters.Enabled = keep;
            try
            {
                var y = Tensor.Full(new Shape(g.N, g.K, g.OH, g.OW), float.NaN);
                CpuBackend.Instance.Conv2dForward(x, w, bias, y, g, null, UnaryOp.Relu);
                return y.ToArray();
            }
            finally
            {
                PackedFilters.Enabled = true;
            }
        }
        CollectionAssert.AreEqual(Run(keep: false), Run(keep: true), $"{path}: kept filters");
        CollectionAssert.AreEqual(Run(keep: false), Run(keep: true), $"{path}: kept filters, second call");
        w.CopyFrom(Tensor.RandomNormal(w.Shape, rng).ToArray());
        CollectionAssert.AreEqual(Run(keep: false), Run(keep: true), $"{path}: filters overwritten");
    }

    [TestMethod]
    public void AResidualOfAnotherShapeIsRejected()
    {
        var g = Geometry(1, 4, 6, 6, 5, 3, 3, pad: 1);
        using var scope = new TensorScope();
        var y = Tensor.Zeros(new Shape(1, 5, 6, 6));
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => CpuBackend.Instance.Conv2dForward(
            Tensor.Zeros(new Shape(1, 4, 6, 6)), Tensor.Zeros(new Shape(5, 4, 3, 3)), null, y, g, Tensor.Zeros(new Shape(1, 5, 3, 3)), UnaryOp.Relu));
        StringAssert.Contains(ex.Message, "residual");
    }
}
