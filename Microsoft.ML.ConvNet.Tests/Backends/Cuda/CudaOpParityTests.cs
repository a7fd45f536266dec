using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Losses;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>
/// Every backend primitive on CUDA against the CPU backend: the same random inputs (random shapes per seed) go through
/// the same autograd function on both devices; outputs and the gradients of every input must agree. Tolerances: float32
/// ops |Δ| ≤ 1e-4 + 1e-4·|cpu| (reductions and norms accumulate in a different order), convolutions and GEMMs
/// 1e-3 + 1e-3·|cpu| (cuDNN/cuBLAS algorithms, TF32 off). Needs a GPU; Inconclusive otherwise.
/// </summary>
[TestClass]
public sealed class CudaOpParityTests
{
    private const double Tol = 1e-4;
    private const double ConvTol = 1e-3;

    /// <summary>Runs <paramref name="op"/> on both devices with inputs of <paramref name="shapes"/> and compares outputs and gradients.</summary>
    private static void Check(string name, Shape[] shapes, Func<Tensor[], Tensor> op, double tol = Tol, int seed = 1, Func<Random, float>? sample = null, bool backward = true)
        => Check(name, shapes, (x, _) => op(x), tol, seed, sample, backward);

    /// <summary>As above, for ops that need more tensors on the device being tested.</summary>
    private static void Check(string name, Shape[] shapes, Func<Tensor[], Device, Tensor> op, double tol = Tol, int seed = 1, Func<Random, float>? sample = null, bool backward = true)
    {
        CudaTestEnvironment.RequireGpu();
        var rng = new Random(seed);
        sample ??= r => (float)(r.NextDouble() * 4 - 2);
        var inputs = shapes.Select(s => Enumerable.Range(0, s.Size).Select(_ => sample(rng)).ToArray()).ToArray();
        float[]? upstream = null;
        (float[] Y, float[][] Grads) Run(Device device)
        {
            using var scope = new TensorScope();
            var xs = inputs.Select((v, i) =>
            {
                var t = Tensor.FromArray(v, shapes[i], device);
                t.RequiresGrad = backward;
                return t;
            }).ToArray();
            var y = op(xs, device);
            upstream ??= Enumerable.Range(0, y.Size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            if (backward)
            {
                y.Backward(Tensor.FromArray(upstream, y.Shape, device));
            }
            return (y.ToArray(), xs.Select(x => x.Grad?.ToArray() ?? []).ToArray());
        }
        var cpu = Run(Device.Cpu);
        var gpu = Run(Device.Cuda(0));
        TensorAssert.AreClose(cpu.Y, gpu.Y, tol, tol, $"{name} forward");
        for (int i = 0; i < inputs.Length; i++)
        {
            TensorAssert.AreClose(cpu.Grads[i], gpu.Grads[i], tol, tol, $"{name} gradient of input {i}");
        }
    }

    private static Shape S(params int[] dims) => new(dims);

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void UnaryOps(int seed)
    {
        var r = new Random(seed);
        var shape = S(r.Next(1, 5), r.Next(1, 40), r.Next(1, 9));
        Check("relu", [shape], x => Functional.Relu(x[0]), seed: seed);
        Check("relu6", [shape], x => Functional.Relu6(x[0].Affine(4f, 0f)), seed: seed);
        Check("leaky_relu", [shape], x => Functional.LeakyRelu(x[0], 0.2f), seed: seed);
        Check("elu", [shape], x => Functional.Elu(x[0], 0.7f), seed: seed);
        Check("selu", [shape], x => Functional.Selu(x[0]), seed: seed);
        Check("gelu", [shape], x => Functional.Gelu(x[0]), seed: seed);
        Check("sigmoid", [shape], x => Functional.Sigmoid(x[0]), seed: seed);
        Check("tanh", [shape], x => Functional.Tanh(x[0]), seed: seed);
        Check("silu", [shape], x => Functional.Silu(x[0]), seed: seed);
        Check("hardswish", [shape], x => Functional.Hardswish(x[0].Affine(3f, 0f)), seed: seed);
        Check("hardsigmoid", [shape], x => Functional.Hardsigmoid(x[0].Affine(3f, 0f)), seed: seed);
        Check("exp", [shape], x => x[0].Exp(), seed: seed);
        Check("log", [shape], x => x[0].Log(), seed: seed, sample: q => (float)(q.NextDouble() + 0.1));
        Check("sqrt", [shape], x => x[0].Sqrt(), seed: seed, sample: q => (float)(q.NextDouble() + 0.1));
        Check("abs", [shape], x => x[0].Abs(), seed: seed);
        Check("square", [shape], x => x[0].Square(), seed: seed);
        Check("neg_affine", [shape], x => -x[0] * 1.5f + 0.25f, seed: seed);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void BinaryOpsWithBroadcasting(int seed)
    {
        var r = new Random(seed);
        int n = r.Next(1, 4), c = r.Next(1, 6), h = r.Next(1, 7), w = r.Next(1, 9);
        var nonZero = (Func<Random, float>)(q => (float)(q.NextDouble() + 0.5) * (q.Next(2) == 0 ? -1 : 1));
        foreach (var (a, b) in new[] { (S(n, c, h, w), S(n, c, h, w)), (S(n, c, h, w), S(c, 1, 1)), (S(n, c, h, w), S(1)), (S(n, 1, h, 1), S(c, 1, w)), (S(c, h), S(n, 1, c, h)) })
        {
            Check($"add {a} {b}", [a, b], x => x[0] + x[1], seed: seed);
            Check($"sub {a} {b}", [a, b], x => x[0] - x[1], seed: seed);
            Check($"mul {a} {b}", [a, b], x => x[0] * x[1], seed: seed);
            Check($"div {a} {b}", [a, b], x => x[0] / x[1], seed: seed, sample: nonZero);
        }
        // An input used twice: its gradients accumulate (Axpy).
        Check("reused input", [S(n, c, h, w)], x => x[0] * x[0] + x[0].Affine(0.5f, 0f), seed: seed);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void ReductionsSoftmaxGatherAndShapes(int seed)
    {
        var r = new Random(seed);
        var shape = S(r.Next(1, 5), r.Next(2, 30), r.Next(1, 6));
        for (int axis = 0; axis < 3; axis++)
        {
            int a = axis;
            Check($"sum axis {a}", [shape], x => x[0].Sum(a), seed: seed);
            Check($"mean axis {a}", [shape], x => x[0].Mean(a, keepDim: true), seed: seed);
            Check($"max axis {a}", [shape], x => x[0].Max(a), seed: seed);
            Check($"min axis {a}", [shape], x => x[0].Min(a), seed: seed);
            Check($"softmax axis {a}", [shape], x => Functional.Softmax(x[0], a), seed: seed);
            Check($"log_softmax axis {a}", [shape], x => Functional.LogSoftmax(x[0], a), seed: seed);
        }
        Check("sum all", [shape], x => x[0].Sum(), seed: seed);
        Check("permute", [shape], x => x[0].Permute(2, 0, 1), seed: seed);
        Check("slice", [shape], x => x[0].Slice(1, 1, shape[1] - 1), seed: seed);
        Check("concat", [shape, shape], x => Tensor.Concat([x[0], x[1]], 1), seed: seed);
        int rows = r.Next(1, 40), classes = r.Next(2, 12);
        var labels = Enumerable.Range(0, rows).Select(_ => r.Next(classes)).ToArray();
        Check("cross_entropy", [S(rows, classes)], x => Loss.CrossEntropy(x[0], labels), seed: seed);
        Check("cross_entropy smoothing", [S(rows, classes)], x => Loss.CrossEntropy(x[0], labels, labelSmoothing: 0.1f), seed: seed);

        CudaTestEnvironment.RequireGpu();
        var values = Enumerable.Range(0, rows * classes).Select(_ => (float)r.NextDouble()).ToArray();
        using var cpu = Tensor.FromArray(values, S(rows, classes));
        using var gpu = Tensor.FromArray(values, S(rows, classes), Device.Cuda(0));
        CollectionAssert.AreEqual(cpu.ArgMax(1), gpu.ArgMax(1), "argmax");
        CollectionAssert.AreEqual(cpu.ArgMax(0), gpu.ArgMax(0), "argmax over rows");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void GemmAndLinear(int seed)
    {
        var r = new Random(seed);
        int m = r.Next(1, 70), k = r.Next(1, 90), n = r.Next(1, 50), b = r.Next(1, 4);
        Check("matmul", [S(m, k), S(k, n)], x => x[0].MatMul(x[1]), ConvTol, seed);
        Check("batched matmul", [S(b, m, k), S(b, k, n)], x => x[0].MatMul(x[1]), ConvTol, seed);
        Check("linear", [S(m, k), S(n, k), S(n)], x => Functional.Linear(x[0], x[1], x[2]), ConvTol, seed);
    }

    [TestMethod]
    [DataRow(1, 1, 0, 1, 1)]
    [DataRow(2, 2, 1, 1, 1)]
    [DataRow(3, 1, 2, 2, 1)]
    [DataRow(4, 2, 1, 1, 2)]
    [DataRow(5, 1, 1, 1, 4)]
    public void Convolutions(int seed, int stride, int padding, int dilation, int groups)
    {
        var r = new Random(seed);
        int n = r.Next(1, 4), cPer = r.Next(1, 5), kPer = r.Next(1, 5), ksize = r.Next(1, 4) * 2 - 1;
        int c = cPer * groups, kOut = kPer * groups;
        int h = r.Next(ksize * dilation, 17), w = r.Next(ksize * dilation, 17);
        Check($"conv2d s{stride} p{padding} d{dilation} g{groups}", [S(n, c, h, w), S(kOut, cPer, ksize, ksize), S(kOut)],
            x => Functional.Conv2d(x[0], x[1], x[2], stride, padding, dilation, groups), ConvTol, seed);
        Check("conv2d no bias", [S(n, c, h, w), S(kOut, cPer, ksize, ksize)],
            x => Functional.Conv2d(x[0], x[1], null, stride, padding, dilation, groups), ConvTol, seed);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void Pooling(int seed)
    {
        var r = new Random(seed);
        var shape = S(r.Next(1, 3), r.Next(1, 5), r.Next(6, 15), r.Next(6, 15));
        Check("max pool (cuDNN path)", [shape], x => Functional.MaxPool2d(x[0], 2), seed: seed);
        Check("max pool 3/2 pad 1", [shape], x => Functional.MaxPool2d(x[0], 3, 2, 1), seed: seed);
        Check("max pool ceil", [shape], x => Functional.MaxPool2d(x[0], 3, 2, 0, ceilMode: true), seed: seed);
        Check("max pool dilation", [shape], x => Functional.MaxPool2d(x[0], 2, 1, 0, dilation: 2), seed: seed);
        Check("avg pool include pad", [shape], x => Functional.AvgPool2d(x[0], 3, 2, 1), seed: seed);
        Check("avg pool exclude pad", [shape], x => Functional.AvgPool2d(x[0], 3, 2, 1, countIncludePad: false), seed: seed);
        Check("avg pool ceil", [shape], x => Functional.AvgPool2d(x[0], 3, 2, 1, ceilMode: true), seed: seed);
        Check("adaptive avg pool 7x5", [shape], x => Functional.AdaptiveAvgPool2d(x[0], 5, 4), seed: seed);
        Check("global avg pool", [shape], x => Functional.GlobalAvgPool2d(x[0]), seed: seed);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void Normalisations(int seed)
    {
        var r = new Random(seed);
        int n = r.Next(2, 5), groups = r.Next(1, 4), c = groups * r.Next(1, 4), h = r.Next(1, 9), w = r.Next(1, 9);
        var x4 = S(n, c, h, w);
        Check("group norm", [x4, S(c), S(c)], x => Functional.GroupNorm(x[0], groups, x[1], x[2]), seed: seed);
        Check("group norm no affine", [x4], x => Functional.GroupNorm(x[0], groups, null, null), seed: seed);
        Check("layer norm", [x4, S(h, w), S(h, w)], x => Functional.LayerNorm(x[0], [h, w], x[1], x[2]), seed: seed);
        Check("lrn", [x4], x => Functional.LocalResponseNorm(x[0], 3, 1e-2f, 0.75f, 2f), seed: seed);
        foreach (bool training in new[] { true, false })
        {
            Check($"batch norm training={training}", [x4, S(c), S(c)], (x, d) =>
                Functional.BatchNorm(x[0], Tensor.Zeros(S(c), d), Tensor.Full(S(c), 1.5f, d), x[1], x[2], training, 0.1f, 1e-5f), seed: seed);
            Check($"batch norm [N, C] training={training}", [S(n * 3, c), S(c), S(c)], (x, d) =>
                Functional.BatchNorm(x[0], Tensor.Zeros(S(c), d), Tensor.Full(S(c), 1.5f, d), x[1], x[2], training, 0.1f, 1e-3f), seed: seed);
        }
    }

    [TestMethod]
    public void BatchNormRunningStatisticsUseTheUnbiasedVariance()
    {
        CudaTestEnvironment.RequireGpu();
        var r = new Random(7);
        var shape = S(3, 4, 5, 2);
        var values = Enumerable.Range(0, shape.Size).Select(_ => (float)r.NextDouble() * 3).ToArray();
        float[] Run(Device d, out float[] mean)
        {
            using var scope = new TensorScope();
            var x = Tensor.FromArray(values, shape, d);
            var rm = Tensor.Zeros(S(4), d);
            var rv = Tensor.Ones(S(4), d);
            Functional.BatchNorm(x, rm, rv, Tensor.Ones(S(4), d), Tensor.Zeros(S(4), d), true, 0.3f, 1e-5f);
            mean = rm.ToArray();
            return rv.ToArray();
        }
        var cpuVar = Run(Device.Cpu, out var cpuMean);
        var gpuVar = Run(Device.Cuda(0), out var gpuMean);
        TensorAssert.AreClose(cpuMean, gpuMean, 1e-5, 1e-5, "running mean");
        TensorAssert.AreClose(cpuVar, gpuVar, 1e-5, 1e-5, "running variance (unbiased, as PyTorch)");
    }

    [TestMethod]
    public void OptimizerUpdates()
    {
        CudaTestEnvironment.RequireGpu();
        var r = new Random(11);
        int size = 1000;
        var start = Enumerable.Range(0, size).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var grads = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, size).Select(_ => (float)r.NextDouble() - 0.5f).ToArray()).ToArray();
        var makers = new (string Name, Func<Tensor, Optimizer> Make)[]
        {
            ("sgd", p => new Sgd([p], 0.1f)),
            ("sgd nesterov", p => new Sgd([p], 0.1f, momentum: 0.9f, weightDecay: 1e-2f, nesterov: true)),
            ("sgd dampening", p => new Sgd([p], 0.1f, momentum: 0.9f, dampening: 0.3f)),
            ("adam", p => new Adam([p], 1e-2f)),
            ("adamw", p => new AdamW([p], 1e-2f, weightDecay: 0.1f)),
            ("rmsprop", p => new RmsProp([p], 1e-2f, weightDecay: 1e-3f)),
            ("rmsprop momentum", p => new RmsProp([p], 1e-2f, momentum: 0.8f)),
        };
        foreach (var (name, make) in makers)
        {
            float[] Run(Device d)
            {
                using var p = Tensor.FromArray(start, S(size), d).Unscope();
                p.RequiresGrad = true;
                using var opt = make(p);
                foreach (var g in grads)
                {
                    using var scope = new TensorScope();
                    opt.ZeroGrad();
                    (p * Tensor.FromArray(g, S(size), d)).Sum().Backward();
                    opt.Step();
                }
                return p.ToArray();
            }
            TensorAssert.AreClose(Run(Device.Cpu), Run(Device.Cuda(0)), 1e-5, 1e-5, name);
        }
    }

    [TestMethod]
    public void TensorsAndModulesMoveBetweenDevices()
    {
        CudaTestEnvironment.RequireGpu();
        using var host = Tensor.FromArray([1f, -2f, 3f], 3);
        using var gpu = host.To(Device.Cuda(0));
        Assert.AreEqual(Device.Cuda(0), gpu.Device);
        CollectionAssert.AreEqual(host.ToArray(), gpu.ToArray());
        using var back = gpu.To(Device.Cpu);
        CollectionAssert.AreEqual(host.ToArray(), back.ToArray());

        using var layer = new BatchNorm2d(3);
        var weight = layer.Weight;
        layer.To(Device.Cuda(0));
        Assert.AreSame(weight, layer.Weight, "moved in place");
        Assert.AreEqual(Device.Cuda(0), layer.Weight!.Device);
        Assert.AreEqual(Device.Cuda(0), layer.RunningVar!.Device);
        Assert.AreEqual(Device.Cuda(0), layer.Device);
        layer.To(Device.Cpu);
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, layer.RunningVar.ToArray());
    }

    [TestMethod]
    public void Bf16AutocastStaysCloseToFloat32()
    {
        CudaTestEnvironment.RequireGpu();
        var r = new Random(5);
        var x = Enumerable.Range(0, 2 * 8 * 12 * 12).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        var w = Enumerable.Range(0, 16 * 8 * 3 * 3).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        float[] Run(bool bf16)
        {
            using var scope = new TensorScope();
            using var cast = bf16 ? Autocast.BFloat16() : null;
            var y = Functional.Conv2d(Tensor.FromArray(x, S(2, 8, 12, 12), Device.Cuda(0)), Tensor.FromArray(w, S(16, 8, 3, 3), Device.Cuda(0)), null, 1, 1);
            var projection = Tensor.FromArray(Enumerable.Range(0, 12 * 5).Select(i => (i % 7 - 3) * 0.1f).ToArray(), S(12, 5), Device.Cuda(0));
            return y.Reshape(-1, 12).MatMul(projection).ToArray();
        }
        var full = Run(false);
        var half = Run(true);
        // bf16 keeps 8 significant bits: a 72-term dot product of values in [-0.5, 0.5], then a 12-term one, differs
        // from float32 by well under 5e-2.
        TensorAssert.AreClose(full, half, 5e-2, 2e-2, "bf16 conv + GEMM vs float32");
        Assert.IsTrue(full.Zip(half).Any(p => p.First != p.Second), "bf16 actually changed the arithmetic");
    }
}
