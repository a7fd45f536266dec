// Benchmark harness for the CPU GEMM and convolution kernels (not part of the solution or the tests).
//   dotnet run -c Release -- gemm                 SGEMM GFLOP/s at 256/512/1024 for each transpose combination
//   dotnet run -c Release -- shape M N K          one GEMM shape
//   dotnet run -c Release -- conv [N] [rounds]    Conv2d 3×3 64→64 28×28: backend primitives and autograd forward+backward
//   dotnet run -c Release -- convg N C HW K R stride pad   any square convolution, backend primitives
// Each figure is the best of many timed runs after warm-up (the machine is shared, so the minimum is the stable figure).
// Compare with np_gemm.py and torch_conv.py run right after.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

var what = args.Length > 0 ? args[0] : "gemm";
int[] numbers = args.Skip(1).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
var rng = new Random(1);
var backend = CpuBackend.Instance;

static double BestMs(Action action, int rounds, int repeat = 1)
{
    for (int i = 0; i < 3; i++)
    {
        action();
    }
    double best = double.MaxValue;
    for (int r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < repeat; i++)
        {
            action();
        }
        best = Math.Min(best, sw.Elapsed.TotalMilliseconds / repeat);
    }
    return best;
}

void Gemm(bool ta, bool tb, int m, int n, int k)
{
    using var a = Tensor.RandomUniform(new Shape(m, k), rng);
    using var b = Tensor.RandomUniform(new Shape(k, n), rng);
    using var c = Tensor.Zeros(new Shape(m, n));
    int lda = ta ? m : k, ldb = tb ? k : n;
    double flop = 2.0 * m * n * k;
    double ms = BestMs(() => backend.Gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n), 30, Math.Max(1, (int)(2e8 / flop)));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gemm {(ta ? "T" : "N")}{(tb ? "T" : "N")} {m}x{n}x{k}: {ms:F3} ms, {flop / ms / 1e6:F1} GFLOP/s"));
}

switch (what)
{
    case "gemm":
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            foreach (int n in new[] { 256, 512, 1024 })
            {
                Gemm(ta, tb, n, n, n);
            }
        }
        break;
    case "shape":
        Gemm(false, false, numbers[0], numbers[1], numbers[2]);
        break;
    case "conv":
    {
        int n = numbers.Length > 0 ? numbers[0] : 64, rounds = numbers.Length > 1 ? numbers[1] : 20;
        using var x = Tensor.RandomNormal(new Shape(n, 64, 28, 28), rng);
        using var w = Tensor.RandomNormal(new Shape(64, 64, 3, 3), rng, 0, 0.05f);
        using var b = Tensor.RandomNormal(new Shape(64), rng);
        var g = ConvGeometry.Create(x.Shape, w.Shape, 1, 1, 1, 1, 1, 1, 1);
        using var y = Tensor.Empty(new Shape(n, 64, 28, 28));
        using var dy = Tensor.RandomNormal(y.Shape, rng);
        using var dx = Tensor.Empty(x.Shape);
        using var dw = Tensor.Empty(w.Shape);
        double f = BestMs(() => backend.Conv2dForward(x, w, b, y, g), rounds);
        double bd = BestMs(() => backend.Conv2dBackwardData(dy, w, dx, g), rounds);
        double bf = BestMs(() => backend.Conv2dBackwardFilter(x, dy, dw, g), rounds);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        double fb = BestMs(() =>
        {
            using var scope = new TensorScope();
            Functional.Conv2d(x, w, b, padding: 1).Backward(dy);
            x.ClearGrad();
            w.ClearGrad();
            b.ClearGrad();
        }, rounds);
        double gflop = 2.0 * n * 64 * 64 * 9 * 28 * 28 / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ours  N={n}: forward {f:F2} ms ({gflop / f * 1e3:F0} GFLOP/s), backward-data {bd:F2} ms, backward-filter {bf:F2} ms, forward+backward (autograd, with bias) {fb:F2} ms"));
        break;
    }
    case "convg":
    {
        int n = numbers[0], c = numbers[1], hw = numbers[2], k = numbers[3], r = numbers[4], stride = numbers[5], pad = numbers[6];
        using var x = Tensor.RandomNormal(new Shape(n, c, hw, hw), rng);
        using var w = Tensor.RandomNormal(new Shape(k, c, r, r), rng, 0, 0.05f);
        var g = ConvGeometry.Create(x.Shape, w.Shape, stride, stride, pad, pad, 1, 1, 1);
        using var y = Tensor.Empty(new Shape(n, k, g.OH, g.OW));
        using var dy = Tensor.RandomNormal(y.Shape, rng);
        using var dx = Tensor.Empty(x.Shape);
        using var dw = Tensor.Empty(w.Shape);
        double f = BestMs(() => backend.Conv2dForward(x, w, null, y, g), 20);
        double bd = BestMs(() => backend.Conv2dBackwardData(dy, w, dx, g), 20);
        double bf = BestMs(() => backend.Conv2dBackwardFilter(x, dy, dw, g), 20);
        double gflop = 2.0 * n * k * c * r * r * g.OH * g.OW / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"conv {string.Join(' ', numbers)}: forward {f:F2} ms ({gflop / f * 1e3:F0} GFLOP/s), backward-data {bd:F2} ms ({gflop / bd * 1e3:F0}), backward-filter {bf:F2} ms ({gflop / bf * 1e3:F0})"));
        break;
    }
    default:
        Console.Error.WriteLine($"unknown mode {what}: use gemm, shape, conv or convg");
        break;
}
