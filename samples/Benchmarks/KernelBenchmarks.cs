using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Samples.Benchmarks;

/// <summary>
/// SGEMM and convolution kernels: the CPU backend's primitives called directly on preallocated tensors, plus the
/// autograd forward+backward of a convolution. Each figure is the best round after warm-up.
/// </summary>
internal static class KernelBenchmarks
{
    /// <summary>Square SGEMMs C = op(A)·op(B), row-major; "-nt" transposes B, "-tn" transposes A.</summary>
    private static readonly (string Name, bool TransA, bool TransB, int Size)[] Gemms =
    [
        ("sgemm/256", false, false, 256),
        ("sgemm/512", false, false, 512),
        ("sgemm/1024", false, false, 1024),
        ("sgemm/2048", false, false, 2048),
        ("sgemm/1024-nt", false, true, 1024),
        ("sgemm/1024-tn", true, false, 1024),
    ];

    /// <summary>3×3 convolutions, stride 1, padding 1, with bias: a dense 64→64 layer and a 128-channel depthwise one.</summary>
    private static readonly ConvCase[] Convs =
    [
        new("conv3x3", Batch: 64, Channels: 64, Size: 28, Filters: 64, Groups: 1),
        new("depthwise3x3", Batch: 64, Channels: 128, Size: 28, Filters: 128, Groups: 128),
    ];

    private sealed record ConvCase(string Name, int Batch, int Channels, int Size, int Filters, int Groups);

    public static void Run(BenchOptions o)
    {
        foreach (var (name, ta, tb, n) in Gemms)
        {
            if (o.Selected(name))
            {
                Gemm(o, name, ta, tb, n);
            }
        }
        foreach (var conv in Convs)
        {
            Conv(o, conv);
        }
    }

    private static void Gemm(BenchOptions o, string name, bool ta, bool tb, int n)
    {
        var rng = new Random(1);
        using var a = Tensor.RandomUniform(new Shape(n, n), rng);
        using var b = Tensor.RandomUniform(new Shape(n, n), rng);
        using var c = Tensor.Zeros(new Shape(n, n));
        var backend = CpuBackend.Instance;
        double flop = 2.0 * n * n * n;
        int repeat = Math.Max(1, (int)(2e8 / flop));
        int rounds = o.StepsOr(30);
        double ms = Report.BestMs(() => backend.Gemm(ta, tb, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n), o.WarmupOr(3), rounds, repeat);
        Report.Result(name, "GFLOP/s", flop / ms / 1e6, higherIsBetter: true,
            new() { ["ms"] = ms, ["rounds"] = rounds, ["callsPerRound"] = repeat });
    }

    private static void Conv(BenchOptions o, ConvCase cc)
    {
        string[] parts = ["forward", "backward-data", "backward-filter", "forward+backward"];
        if (!parts.Any(p => o.Selected($"{cc.Name}/{p}")))
        {
            return;
        }
        var rng = new Random(1);
        using var x = Tensor.RandomNormal(new Shape(cc.Batch, cc.Channels, cc.Size, cc.Size), rng);
        using var w = Tensor.RandomNormal(new Shape(cc.Filters, cc.Channels / cc.Groups, 3, 3), rng, 0, 0.05f);
        using var bias = Tensor.RandomNormal(new Shape(cc.Filters), rng);
        var g = ConvGeometry.Create(x.Shape, w.Shape, 1, 1, 1, 1, 1, 1, cc.Groups);
        using var y = Tensor.Empty(new Shape(cc.Batch, cc.Filters, g.OH, g.OW));
        using var dy = Tensor.RandomNormal(y.Shape, rng);
        using var dx = Tensor.Empty(x.Shape);
        using var dw = Tensor.Empty(w.Shape);
        var backend = CpuBackend.Instance;
        // Multiply-adds of the forward pass, ×2 for FLOPs; each gradient costs as many, so forward+backward counts 3×.
        double gflop = 2.0 * g.N * g.K * g.CPerGroup * g.R * g.S * g.OH * g.OW / 1e9;
        int rounds = o.StepsOr(20), warmup = o.WarmupOr(3);

        void Measure(string part, double flopMultiple, Action action)
        {
            string name = $"{cc.Name}/{part}";
            if (o.Selected(name))
            {
                double ms = Report.BestMs(action, warmup, rounds);
                Report.Result(name, "GFLOP/s", flopMultiple * gflop / ms * 1e3, higherIsBetter: true,
                    new() { ["ms"] = ms, ["rounds"] = rounds, ["batch"] = cc.Batch });
            }
        }

        Measure("forward", 1, () => backend.Conv2dForward(x, w, bias, y, g));
        Measure("backward-data", 1, () => backend.Conv2dBackwardData(dy, w, dx, g));
        Measure("backward-filter", 1, () => backend.Conv2dBackwardFilter(x, dy, dw, g));
        x.RequiresGrad = w.RequiresGrad = bias.RequiresGrad = true;
        Measure("forward+backward", 3, () =>
        {
            using var scope = new TensorScope();
            Functional.Conv2d(x, w, bias, padding: 1, groups: cc.Groups).Backward(dy);
            x.ClearGrad();
            w.ClearGrad();
            bias.ClearGrad();
        });
    }
}
