using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Tensors;

[TestClass]
public sealed class TensorTests
{
    [TestMethod]
    public void CreationAndRoundTrip()
    {
        using var scope = new TensorScope();
        var z = Tensor.Zeros(new Shape(2, 3));
        CollectionAssert.AreEqual(new float[6], z.ToArray());
        Assert.AreEqual(6f, Tensor.Ones(new Shape(2, 3)).Sum().ToScalar());
        CollectionAssert.AreEqual(new[] { 0f, 2f, 4f }, Tensor.Arange(0, 5, 2).ToArray());
        var t = Tensor.FromArray([1f, 2, 3, 4, 5, 6], 2, 3);
        Assert.AreEqual(6f, t[1, 2]);
        Assert.AreEqual(new Shape(2, 3), t.Shape);
        var span = new float[6];
        t.CopyTo(span);
        CollectionAssert.AreEqual(new[] { 1f, 2, 3, 4, 5, 6 }, span);
        Assert.ThrowsExactly<ArgumentException>(() => Tensor.FromArray([1f, 2], 3));
    }

    [TestMethod]
    public void SeededRandomIsReproducible()
    {
        using var scope = new TensorScope();
        var a = Tensor.RandomNormal(new Shape(1000), new Random(5)).ToArray();
        var b = Tensor.RandomNormal(new Shape(1000), new Random(5)).ToArray();
        CollectionAssert.AreEqual(a, b);
        double mean = a.Average(), std = Math.Sqrt(a.Select(v => (v - mean) * (v - mean)).Average());
        Assert.AreEqual(0, mean, 0.1);
        Assert.AreEqual(1, std, 0.1);
        var u = Tensor.RandomUniform(new Shape(1000), new Random(3), -2, 3).ToArray();
        Assert.IsTrue(u.All(v => v >= -2 && v < 3));
    }

    [TestMethod]
    public void ReshapeIsAViewAndInfersOneDimension()
    {
        using var scope = new TensorScope();
        var t = Tensor.Arange(0, 24);
        var r = t.Reshape(2, -1, 4);
        Assert.AreEqual(new Shape(2, 3, 4), r.Shape);
        Assert.AreSame(t.Storage, r.Storage);
        Assert.AreEqual(new Shape(2, 12), r.Flatten().Shape);
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => t.Reshape(5, 5));
        StringAssert.Contains(ex.Message, "Reshape");
        StringAssert.Contains(ex.Message, "[24]");
        StringAssert.Contains(ex.Message, "[5, 5]");
    }

    [TestMethod]
    public void PermuteTransposeSliceConcat()
    {
        using var scope = new TensorScope();
        var t = Tensor.Arange(0, 24).Reshape(2, 3, 4);
        var p = t.Permute(2, 0, 1);
        Assert.AreEqual(new Shape(4, 2, 3), p.Shape);
        Assert.AreEqual(t[1, 2, 3], p[3, 1, 2]);
        var tr = t.Transpose(1, 2);
        Assert.AreEqual(t[1, 0, 3], tr[1, 3, 0]);
        var s = t.Slice(1, 1, 2);
        Assert.AreEqual(new Shape(2, 2, 4), s.Shape);
        Assert.AreEqual(t[1, 2, 1], s[1, 1, 1]);
        var b = t.SliceBatch(1, 1);
        CollectionAssert.AreEqual(Enumerable.Range(12, 12).Select(i => (float)i).ToArray(), b.ToArray());
        var c = Tensor.Concat([s, t], axis: 1);
        Assert.AreEqual(new Shape(2, 5, 4), c.Shape);
        Assert.AreEqual(t[1, 2, 3], c[1, 4, 3]);
        Assert.AreEqual(s[0, 1, 2], c[0, 1, 2]);
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => Tensor.Concat([t, Tensor.Zeros(new Shape(2, 3, 5))], 1));
        StringAssert.Contains(ex.Message, "[2, 3, 4]");
        StringAssert.Contains(ex.Message, "[2, 3, 5]");
    }

    [TestMethod]
    public void BroadcastingArithmetic()
    {
        using var scope = new TensorScope();
        var a = Tensor.Arange(0, 6).Reshape(2, 3);
        var col = Tensor.FromArray([10f, 20f], 2, 1);
        var row = Tensor.FromArray([1f, 2f, 3f], 3);
        CollectionAssert.AreEqual(new[] { 10f, 11, 12, 23, 24, 25 }, (a + col).ToArray());
        CollectionAssert.AreEqual(new[] { 0f, 2, 6, 3, 8, 15 }, (a * row).ToArray());
        CollectionAssert.AreEqual(new[] { -10f, -9, -8, -17, -16, -15 }, (a - col).ToArray());
        CollectionAssert.AreEqual(new[] { 0f, 0.5f, 2f / 3, 3, 2, 5f / 3 }, (a / row).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 3, 5, 7, 9, 11 }, (a * 2f + 1f).ToArray());
        var ex = Assert.ThrowsExactly<ShapeMismatchException>(() => a + Tensor.Zeros(new Shape(4)));
        StringAssert.Contains(ex.Message, "Add");
        StringAssert.Contains(ex.Message, "[2, 3]");
        StringAssert.Contains(ex.Message, "[4]");
    }

    /// <summary>
    /// Every binary operation over broadcast shapes against plain indexing: operands broadcasting on either side, along
    /// outer, inner and middle axes, with size-1 axes between, and sizes large enough to split the rows between threads.
    /// </summary>
    [TestMethod]
    public void BroadcastsMatchPlainIndexing()
    {
        using var scope = new TensorScope();
        var rng = new Random(4);
        (int[] A, int[] B)[] pairs =
        [
            ([32, 48, 14, 14], [32, 48, 1, 1]), ([32, 48, 1, 1], [32, 48, 14, 14]), ([4, 3, 5, 7], [3, 1, 1]),
            ([4, 3, 5, 7], [1, 3, 5, 1]), ([2, 1, 6], [5, 1]), ([6, 1, 9, 40], [1, 7, 9, 1]), ([300, 250], [250]),
            ([3, 1, 4, 1], [1, 2, 1, 5]), ([1, 1, 8], [2, 3, 1]),
        ];
        foreach (var (sa, sb) in pairs)
        {
            var a = Tensor.RandomNormal(new Shape(sa), rng);
            var b = Tensor.RandomNormal(new Shape(sb), rng) + 3f;
            var shape = Shape.Broadcast(a.Shape, b.Shape, "test");
            float[] av = a.ToArray(), bv = b.ToArray();
            foreach (var (name, op, f) in new (string, Func<Tensor, Tensor, Tensor>, Func<float, float, float>)[]
            {
                ("+", (x, y) => x + y, (x, y) => x + y), ("-", (x, y) => x - y, (x, y) => x - y),
                ("*", (x, y) => x * y, (x, y) => x * y), ("/", (x, y) => x / y, (x, y) => x / y),
            })
            {
                var got = op(a, b);
                Assert.AreEqual(shape, got.Shape);
                var expected = new float[shape.Size];
                var index = new int[shape.Rank];
                for (int i = 0; i < expected.Length; i++)
                {
                    for (int ax = shape.Rank - 1, rest = i; ax >= 0; ax--)
                    {
                        index[ax] = rest % shape[ax];
                        rest /= shape[ax];
                    }
                    expected[i] = f(av[At(a.Shape, index)], bv[At(b.Shape, index)]);
                }
                CollectionAssert.AreEqual(expected, got.ToArray(), $"{a.Shape} {name} {b.Shape}");
            }
        }

        // The element of an operand that output index `index` reads: right-aligned, size-1 axes read at 0.
        static int At(Shape s, int[] index)
        {
            int offset = 0, shift = index.Length - s.Rank;
            for (int ax = 0; ax < s.Rank; ax++)
            {
                offset = offset * s[ax] + (s[ax] == 1 ? 0 : index[ax + shift]);
            }
            return offset;
        }
    }

    [TestMethod]
    public void Reductions()
    {
        using var scope = new TensorScope();
        var a = Tensor.FromArray([3f, 1, 4, 1, 5, 9, 2, 6], 2, 4);
        Assert.AreEqual(31f, a.Sum().ToScalar());
        Assert.AreEqual(31f / 8, a.Mean().ToScalar(), 1e-6);
        CollectionAssert.AreEqual(new[] { 9f, 22 }, a.Sum(1).ToArray());
        CollectionAssert.AreEqual(new[] { 8f, 10, 6, 7 }, a.Sum(0).ToArray());
        CollectionAssert.AreEqual(new[] { 4f, 9 }, a.Max(1).ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 1, 2, 1 }, a.Min(0).ToArray());
        Assert.AreEqual(new Shape(2, 1), a.Mean(1, keepDim: true).Shape);
        CollectionAssert.AreEqual(new[] { 2, 1 }, a.ArgMax(1));
        CollectionAssert.AreEqual(new[] { 1, 1, 0, 1 }, a.ArgMax(0));
    }

    [TestMethod]
    public void ShapeHelpers()
    {
        Assert.AreEqual(new Shape(2, 3, 4), Shape.Broadcast(new Shape(3, 1), new Shape(2, 1, 4), "test"));
        Assert.AreEqual(24, new Shape(2, 3, 4).Size);
        Assert.AreEqual(1, new Shape().Size);
        CollectionAssert.AreEqual(new[] { 12, 4, 1 }, new Shape(2, 3, 4).Strides());
        Assert.AreEqual("[2, 3]", new Shape(2, 3).ToString());
        Assert.AreEqual(4, new Shape(2, 3, 4)[-1]);
        Assert.ThrowsExactly<ArgumentException>(() => new Shape(2, -1));
    }

    [TestMethod]
    public void DisposedTensorFailsClearlyAndReturnsItsBuffer()
    {
        var before = BufferPool.Stats.RentedBytes;
        var t = Tensor.Zeros(new Shape(1000));
        Assert.AreEqual(before + 4000, BufferPool.Stats.RentedBytes);
        t.Dispose();
        Assert.AreEqual(before, BufferPool.Stats.RentedBytes);
        t.Dispose();
        var ex = Assert.ThrowsExactly<ObjectDisposedException>(() => t.ToArray());
        StringAssert.Contains(ex.Message, "disposed");
    }

    [TestMethod]
    public void MatMulAgreesWithHandComputation()
    {
        using var scope = new TensorScope();
        var a = Tensor.FromArray([1f, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([7f, 8, 9, 10, 11, 12], 3, 2);
        CollectionAssert.AreEqual(new[] { 58f, 64, 139, 154 }, a.MatMul(b).ToArray());
        var ab = Tensor.Concat([a.Reshape(1, 2, 3), a.Reshape(1, 2, 3)], 0);
        var bb = Tensor.Concat([b.Reshape(1, 3, 2), (b * 2f).Reshape(1, 3, 2)], 0);
        CollectionAssert.AreEqual(new[] { 58f, 64, 139, 154, 116, 128, 278, 308 }, ab.MatMul(bb).ToArray());
        Assert.ThrowsExactly<ShapeMismatchException>(() => a.MatMul(a));
    }

    [TestMethod]
    public void GradientsOfShapeOpsAndReductions()
    {
        var rng = new Random(3);
        using var x = GradCheck.Leaf(rng, 2, 3, 4);
        using var y = GradCheck.Leaf(rng, 2, 2, 4);
        GradCheck.Check(t => t[0].Permute(2, 0, 1).Reshape(4, 6), [x]);
        GradCheck.Check(t => Tensor.Concat([t[0], t[1]], 1).Slice(1, 1, 3), [x, y]);
        GradCheck.Check(t => t[0].Sum(1), [x]);
        GradCheck.Check(t => t[0].Mean(2, keepDim: true), [x]);
        GradCheck.Check(t => t[0].Max(1), [x]);
        GradCheck.Check(t => t[0].Div(t[1].Abs() + 1f), [x, Slice(y)]);
        GradCheck.Check(t => t[0].Exp() + t[0].Square() + (t[0].Abs() + 0.5f).Log() + (t[0].Abs() + 0.5f).Sqrt(), [x]);
    }

    private static Tensor Slice(Tensor y)
    {
        var s = Tensor.RandomNormal(new Shape(1, 3, 1), new Random(2)).Unscope();
        s.RequiresGrad = true;
        return s;
    }

    [TestMethod]
    public void MatMulGradients()
    {
        var rng = new Random(4);
        using var a = GradCheck.Leaf(rng, 3, 5);
        using var b = GradCheck.Leaf(rng, 5, 2);
        GradCheck.Check(t => t[0].MatMul(t[1]), [a, b]);
        using var ba = GradCheck.Leaf(rng, 2, 3, 4);
        using var bb = GradCheck.Leaf(rng, 2, 4, 3);
        GradCheck.Check(t => t[0].MatMul(t[1]), [ba, bb]);
    }
}
