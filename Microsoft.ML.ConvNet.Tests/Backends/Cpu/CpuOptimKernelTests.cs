using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cpu;

/// <summary>
/// The fused SIMD optimizer kernels against plain double-precision loops of PyTorch's formulas, on sizes that
/// exercise the vector body, the scalar tail and the parallel chunking.
/// </summary>
[TestClass]
public sealed class CpuOptimKernelTests
{
    private static readonly int[] Sizes = [1, 7, 16, 33, 1003, (1 << 18) + 37];
    private const double Atol = 1e-6, Rtol = 1e-5;

    private static float[] Random(Random rng, int n, float scale = 1f, bool positive = false)
    {
        var a = new float[n];
        Tensor.FillNormal(a, rng, 0f, scale);
        if (positive)
        {
            for (int i = 0; i < n; i++)
            {
                a[i] = Math.Abs(a[i]);
            }
        }
        return a;
    }

    private static Tensor T(float[] a) => Tensor.FromArray(a, new Shape(a.Length));

    [TestMethod]
    [DataRow(0f, 0f, 0f, false, true)]
    [DataRow(0f, 0f, 0.05f, false, true)]
    [DataRow(0.9f, 0f, 0f, false, true)]
    [DataRow(0.9f, 0f, 0f, false, false)]
    [DataRow(0.9f, 0.3f, 0.01f, false, false)]
    [DataRow(0.9f, 0f, 0.01f, true, false)]
    [DataRow(0.9f, 0f, 0.01f, true, true)]
    public void SgdMatchesTheNaiveLoop(float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        var rng = new Random(1);
        const float lr = 0.07f;
        foreach (int n in Sizes)
        {
            float[] p = Random(rng, n), g = Random(rng, n), b = Random(rng, n);
            var ep = new float[n];
            var eb = new float[n];
            for (int i = 0; i < n; i++)
            {
                double d = g[i] + (double)weightDecay * p[i];
                double bv = b[i];
                if (momentum != 0)
                {
                    bv = firstStep ? d : momentum * bv + (1 - dampening) * d;
                    d = nesterov ? d + momentum * bv : bv;
                }
                ep[i] = (float)(p[i] - lr * d);
                eb[i] = (float)bv;
            }
            using var scope = new TensorScope();
            var tp = T(p);
            var tb = momentum != 0 ? T(b) : null;
            CpuBackend.Instance.SgdUpdate(tp, T(g), tb, lr, momentum, dampening, weightDecay, nesterov, firstStep);
            TensorAssert.AreClose(ep, tp.ToArray(), Atol, Rtol, $"SGD parameter, n={n}");
            if (tb != null)
            {
                TensorAssert.AreClose(eb, tb.ToArray(), Atol, Rtol, $"SGD momentum buffer, n={n}");
            }
        }
    }

    [TestMethod]
    [DataRow(0f, false, 1)]
    [DataRow(0.1f, false, 3)]
    [DataRow(0.1f, true, 1)]
    [DataRow(0.05f, true, 10)]
    public void AdamMatchesTheNaiveLoop(float weightDecay, bool decoupled, int step)
    {
        var rng = new Random(2);
        const float lr = 0.01f, beta1 = 0.85f, beta2 = 0.995f, eps = 1e-6f;
        foreach (int n in Sizes)
        {
            float[] p = Random(rng, n), g = Random(rng, n), m = Random(rng, n, 0.1f), v = Random(rng, n, 0.1f, positive: true);
            var ep = new float[n];
            var em = new float[n];
            var ev = new float[n];
            double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
            for (int i = 0; i < n; i++)
            {
                double pv = p[i], gv = g[i];
                if (decoupled)
                {
                    pv *= 1 - (double)lr * weightDecay;
                }
                else
                {
                    gv += weightDecay * pv;
                }
                double mv = beta1 * (double)m[i] + (1 - (double)beta1) * gv;
                double vv = beta2 * (double)v[i] + (1 - (double)beta2) * gv * gv;
                ep[i] = (float)(pv - lr / bc1 * mv / (Math.Sqrt(vv) / Math.Sqrt(bc2) + eps));
                em[i] = (float)mv;
                ev[i] = (float)vv;
            }
            using var scope = new TensorScope();
            Tensor tp = T(p), tm = T(m), tv = T(v);
            CpuBackend.Instance.AdamUpdate(tp, T(g), tm, tv, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            TensorAssert.AreClose(ep, tp.ToArray(), Atol, Rtol, $"Adam parameter, n={n}");
            TensorAssert.AreClose(em, tm.ToArray(), Atol, Rtol, $"Adam first moment, n={n}");
            TensorAssert.AreClose(ev, tv.ToArray(), Atol, Rtol, $"Adam second moment, n={n}");
        }
    }

    [TestMethod]
    [DataRow(0f, 0f)]
    [DataRow(0.05f, 0f)]
    [DataRow(0f, 0.9f)]
    [DataRow(0.01f, 0.5f)]
    public void RmsPropMatchesTheNaiveLoop(float weightDecay, float momentum)
    {
        var rng = new Random(3);
        const float lr = 0.01f, alpha = 0.9f, eps = 1e-6f;
        foreach (int n in Sizes)
        {
            float[] p = Random(rng, n), g = Random(rng, n), s = Random(rng, n, 0.1f, positive: true), b = Random(rng, n, 0.1f);
            var ep = new float[n];
            var es = new float[n];
            var eb = new float[n];
            for (int i = 0; i < n; i++)
            {
                double gv = g[i] + (double)weightDecay * p[i];
                double sv = alpha * (double)s[i] + (1 - (double)alpha) * gv * gv;
                double q = gv / (Math.Sqrt(sv) + eps);
                if (momentum > 0)
                {
                    q = momentum * (double)b[i] + q;
                }
                ep[i] = (float)(p[i] - lr * q);
                es[i] = (float)sv;
                eb[i] = (float)q;
            }
            using var scope = new TensorScope();
            Tensor tp = T(p), ts = T(s);
            var tb = momentum > 0 ? T(b) : null;
            CpuBackend.Instance.RmsPropUpdate(tp, T(g), ts, tb, lr, alpha, eps, weightDecay, momentum);
            TensorAssert.AreClose(ep, tp.ToArray(), Atol, Rtol, $"RMSprop parameter, n={n}");
            TensorAssert.AreClose(es, ts.ToArray(), Atol, Rtol, $"RMSprop square average, n={n}");
            if (tb != null)
            {
                TensorAssert.AreClose(eb, tb.ToArray(), Atol, Rtol, $"RMSprop momentum buffer, n={n}");
            }
        }
    }

    [TestMethod]
    public void StateShapesAreChecked()
    {
        using var scope = new TensorScope();
        var p = Tensor.Zeros(new Shape(4));
        var e = Assert.ThrowsExactly<ShapeMismatchException>(() => CpuBackend.Instance.SgdUpdate(p, Tensor.Zeros(new Shape(5)), null, 0.1f, 0f, 0f, 0f, false, true));
        StringAssert.Contains(e.Message, "SgdUpdate: shapes [4] and [5]");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CpuBackend.Instance.AdamUpdate(p, p, p, p, 0.1f, 0.9f, 0.99f, 1e-8f, 0f, false, 0));
    }
}
