using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Fused optimizer updates: one pass over each parameter tensor reads the gradient and state and writes the
// parameter and state in place (PyTorch 1.13's single-tensor formulas). Vector512 where the hardware has it,
// otherwise Vector<float>, then a scalar tail; large tensors are split into chunks updated in parallel.
public sealed partial class CpuBackend
{
    /// <summary>Tensors at least this large are updated by several threads.</summary>
    private const int OptimParallelThreshold = 1 << 18;

    /// <summary>Elements per parallel chunk (a multiple of every vector width).</summary>
    private const int OptimChunk = 1 << 16;

    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening,
        float weightDecay, bool nesterov, bool firstStep)
    {
        CheckOptimShapes("SgdUpdate", param, grad, momentumBuffer);
        float[] p = param.CpuData, g = grad.CpuData;
        float[]? b = momentumBuffer?.CpuData;
        ForOptimChunks(param.Size, (start, end) =>
        {
            if (b == null)
            {
                SgdPlainKernel(p, g, start, end, lr, weightDecay);
            }
            else
            {
                SgdMomentumKernel(p, g, b, start, end, lr, momentum, dampening, weightDecay, nesterov, firstStep);
            }
        });
    }

    /// <inheritdoc/>
    public void AdamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step)
    {
        CheckOptimShapes("AdamUpdate", param, grad, m, v);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"AdamUpdate: the step count starts at 1, got {step}.");
        }
        var c = AdamConstants.Create(lr, beta1, beta2, eps, weightDecay, decoupled, step);
        float[] p = param.CpuData, g = grad.CpuData, mm = m.CpuData, vv = v.CpuData;
        ForOptimChunks(param.Size, (start, end) => AdamKernel(p, g, mm, vv, start, end, c));
    }

    /// <inheritdoc/>
    public void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? momentumBuffer, float lr, float alpha,
        float eps, float weightDecay, float momentum)
    {
        CheckOptimShapes("RmsPropUpdate", param, grad, squareAvg, momentumBuffer);
        float[] p = param.CpuData, g = grad.CpuData, sq = squareAvg.CpuData;
        float[]? b = momentum > 0f ? momentumBuffer?.CpuData ?? throw new ArgumentNullException(nameof(momentumBuffer), "RmsPropUpdate: momentum > 0 needs a momentum buffer.") : null;
        ForOptimChunks(param.Size, (start, end) => RmsPropKernel(p, g, sq, b, start, end, lr, alpha, eps, weightDecay, momentum));
    }

    private static void CheckOptimShapes(string op, Tensor param, params Tensor?[] others)
    {
        foreach (var t in others)
        {
            if (t != null && t.Shape != param.Shape)
            {
                throw new ShapeMismatchException(op, param.Shape, t.Shape, "the gradient and state must have the parameter's shape");
            }
        }
    }

    private static void ForOptimChunks(int length, Action<int, int> body)
    {
        if (length < OptimParallelThreshold)
        {
            body(0, length);
            return;
        }
        int chunks = (length + OptimChunk - 1) / OptimChunk;
        CpuParallel.For(chunks, i => body(i * OptimChunk, Math.Min(length, (i + 1) * OptimChunk)));
    }

    // ---- SGD ------------------------------------------------------------------------------------

    /// <summary>p −= lr·(g + wd·p).</summary>
    private static void SgdPlainKernel(float[] pa, float[] ga, int start, int end, float lr, float wd)
    {
        ref float p = ref MemoryMarshal.GetArrayDataReference(pa);
        ref float g = ref MemoryMarshal.GetArrayDataReference(ga);
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            var vlr = Vector512.Create(lr);
            var vwd = Vector512.Create(wd);
            for (; i <= end - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var d = Vector512.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                (pv - vlr * d).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            var vlr = new Vector<float>(lr);
            var vwd = new Vector<float>(wd);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref p, (nuint)i);
                var d = Vector.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                (pv - vlr * d).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < end; i++)
        {
            float d = Unsafe.Add(ref g, i) + wd * Unsafe.Add(ref p, i);
            Unsafe.Add(ref p, i) -= lr * d;
        }
    }

    /// <summary>
    /// d = g + wd·p; b = first ? d : μ·b + (1 − dampening)·d; d = nesterov ? d + μ·b : b; p −= lr·d.
    /// </summary>
    private static void SgdMomentumKernel(float[] pa, float[] ga, float[] ba, int start, int end, float lr, float mu,
        float dampening, float wd, bool nesterov, bool first)
    {
        ref float p = ref MemoryMarshal.GetArrayDataReference(pa);
        ref float g = ref MemoryMarshal.GetArrayDataReference(ga);
        ref float b = ref MemoryMarshal.GetArrayDataReference(ba);
        // first: b = d; otherwise b = μ·b + (1 − dampening)·d.
        float keep = first ? 0f : mu;
        float take = first ? 1f : 1f - dampening;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vlr = Vector512.Create(lr), vwd = Vector512.Create(wd), vkeep = Vector512.Create(keep),
                vtake = Vector512.Create(take), vmu = Vector512.Create(mu);
            for (; i <= end - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var d = Vector512.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                var bv = (first ? Vector512<float>.Zero : vkeep * Vector512.LoadUnsafe(ref b, (nuint)i)) + vtake * d;
                bv.StoreUnsafe(ref b, (nuint)i);
                var step = nesterov ? d + vmu * bv : bv;
                (pv - vlr * step).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vlr = new(lr), vwd = new(wd), vkeep = new(keep), vtake = new(take), vmu = new(mu);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref p, (nuint)i);
                var d = Vector.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                var bv = (first ? Vector<float>.Zero : vkeep * Vector.LoadUnsafe(ref b, (nuint)i)) + vtake * d;
                bv.StoreUnsafe(ref b, (nuint)i);
                var step = nesterov ? d + vmu * bv : bv;
                (pv - vlr * step).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < end; i++)
        {
            float d = Unsafe.Add(ref g, i) + wd * Unsafe.Add(ref p, i);
            float bv = (first ? 0f : keep * Unsafe.Add(ref b, i)) + take * d;
            Unsafe.Add(ref b, i) = bv;
            float step = nesterov ? d + mu * bv : bv;
            Unsafe.Add(ref p, i) -= lr * step;
        }
    }

    // ---- Adam / AdamW ---------------------------------------------------------------------------

    /// <summary>Per-step constants of Adam: bias corrections folded into the step size and the denominator scale.</summary>
    private readonly record struct AdamConstants(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float Eps,
        float CoupledDecay, float DecoupledScale, float StepSize, float InvSqrtBc2)
    {
        public static AdamConstants Create(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
        {
            double bc1 = 1.0 - Math.Pow(beta1, step);
            double bc2 = 1.0 - Math.Pow(beta2, step);
            return new AdamConstants(beta1, 1f - beta1, beta2, 1f - beta2, eps,
                decoupled ? 0f : weightDecay,
                decoupled ? 1f - lr * weightDecay : 1f,
                (float)(lr / bc1), (float)(1.0 / Math.Sqrt(bc2)));
        }
    }

    /// <summary>
    /// g' = g + wd·p (Adam) or p ·= 1 − lr·wd (AdamW); m = β₁m + (1 − β₁)g'; v = β₂v + (1 − β₂)g'²;
    /// p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps).
    /// </summary>
    private static void AdamKernel(float[] pa, float[] ga, float[] ma, float[] va, int start, int end, in AdamConstants c)
    {
        ref float p = ref MemoryMarshal.GetArrayDataReference(pa);
        ref float g = ref MemoryMarshal.GetArrayDataReference(ga);
        ref float m = ref MemoryMarshal.GetArrayDataReference(ma);
        ref float v = ref MemoryMarshal.GetArrayDataReference(va);
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> b1 = Vector512.Create(c.Beta1), nb1 = Vector512.Create(c.OneMinusBeta1), b2 = Vector512.Create(c.Beta2),
                nb2 = Vector512.Create(c.OneMinusBeta2), eps = Vector512.Create(c.Eps), wd = Vector512.Create(c.CoupledDecay),
                scale = Vector512.Create(c.DecoupledScale), stepSize = Vector512.Create(c.StepSize), inv = Vector512.Create(c.InvSqrtBc2);
            for (; i <= end - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var gv = Vector512.LoadUnsafe(ref g, (nuint)i) + wd * pv;
                pv *= scale;
                var mv = b1 * Vector512.LoadUnsafe(ref m, (nuint)i) + nb1 * gv;
                var vv = b2 * Vector512.LoadUnsafe(ref v, (nuint)i) + nb2 * (gv * gv);
                mv.StoreUnsafe(ref m, (nuint)i);
                vv.StoreUnsafe(ref v, (nuint)i);
                (pv - stepSize * mv / (Vector512.Sqrt(vv) * inv + eps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            Vector<float> b1 = new(c.Beta1), nb1 = new(c.OneMinusBeta1), b2 = new(c.Beta2), nb2 = new(c.OneMinusBeta2), eps = new(c.Eps),
                wd = new(c.CoupledDecay), scale = new(c.DecoupledScale), stepSize = new(c.StepSize), inv = new(c.InvSqrtBc2);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref p, (nuint)i);
                var gv = Vector.LoadUnsafe(ref g, (nuint)i) + wd * pv;
                pv *= scale;
                var mv = b1 * Vector.LoadUnsafe(ref m, (nuint)i) + nb1 * gv;
                var vv = b2 * Vector.LoadUnsafe(ref v, (nuint)i) + nb2 * (gv * gv);
                mv.StoreUnsafe(ref m, (nuint)i);
                vv.StoreUnsafe(ref v, (nuint)i);
                (pv - stepSize * mv / (Vector.SquareRoot(vv) * inv + eps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < end; i++)
        {
            float pv = Unsafe.Add(ref p, i);
            float gv = Unsafe.Add(ref g, i) + c.CoupledDecay * pv;
            pv *= c.DecoupledScale;
            float mv = c.Beta1 * Unsafe.Add(ref m, i) + c.OneMinusBeta1 * gv;
            float vv = c.Beta2 * Unsafe.Add(ref v, i) + c.OneMinusBeta2 * (gv * gv);
            Unsafe.Add(ref m, i) = mv;
            Unsafe.Add(ref v, i) = vv;
            Unsafe.Add(ref p, i) = pv - c.StepSize * mv / (MathF.Sqrt(vv) * c.InvSqrtBc2 + c.Eps);
        }
    }

    // ---- RMSprop --------------------------------------------------------------------------------

    /// <summary>
    /// g' = g + wd·p; s = αs + (1 − α)g'²; a = √s + eps; with momentum μ: b = μb + g'/a, p −= lr·b; else p −= lr·g'/a.
    /// </summary>
    private static void RmsPropKernel(float[] pa, float[] ga, float[] sa, float[]? ba, int start, int end, float lr, float alpha,
        float eps, float wd, float mu)
    {
        ref float p = ref MemoryMarshal.GetArrayDataReference(pa);
        ref float g = ref MemoryMarshal.GetArrayDataReference(ga);
        ref float s = ref MemoryMarshal.GetArrayDataReference(sa);
        bool hasMomentum = ba != null;
        ref float b = ref hasMomentum ? ref MemoryMarshal.GetArrayDataReference(ba!) : ref Unsafe.NullRef<float>();
        float oneMinusAlpha = 1f - alpha;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vlr = Vector512.Create(lr), va = Vector512.Create(alpha), vna = Vector512.Create(oneMinusAlpha),
                veps = Vector512.Create(eps), vwd = Vector512.Create(wd), vmu = Vector512.Create(mu);
            for (; i <= end - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref p, (nuint)i);
                var gv = Vector512.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                var sv = va * Vector512.LoadUnsafe(ref s, (nuint)i) + vna * (gv * gv);
                sv.StoreUnsafe(ref s, (nuint)i);
                var q = gv / (Vector512.Sqrt(sv) + veps);
                if (hasMomentum)
                {
                    q = vmu * Vector512.LoadUnsafe(ref b, (nuint)i) + q;
                    q.StoreUnsafe(ref b, (nuint)i);
                }
                (pv - vlr * q).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vlr = new(lr), va = new(alpha), vna = new(oneMinusAlpha), veps = new(eps), vwd = new(wd), vmu = new(mu);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref p, (nuint)i);
                var gv = Vector.LoadUnsafe(ref g, (nuint)i) + vwd * pv;
                var sv = va * Vector.LoadUnsafe(ref s, (nuint)i) + vna * (gv * gv);
                sv.StoreUnsafe(ref s, (nuint)i);
                var q = gv / (Vector.SquareRoot(sv) + veps);
                if (hasMomentum)
                {
                    q = vmu * Vector.LoadUnsafe(ref b, (nuint)i) + q;
                    q.StoreUnsafe(ref b, (nuint)i);
                }
                (pv - vlr * q).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < end; i++)
        {
            float pv = Unsafe.Add(ref p, i);
            float gv = Unsafe.Add(ref g, i) + wd * pv;
            float sv = alpha * Unsafe.Add(ref s, i) + oneMinusAlpha * (gv * gv);
            Unsafe.Add(ref s, i) = sv;
            float q = gv / (MathF.Sqrt(sv) + eps);
            if (hasMomentum)
            {
                q = mu * Unsafe.Add(ref b, i) + q;
                Unsafe.Add(ref b, i) = q;
            }
            Unsafe.Add(ref p, i) = pv - lr * q;
        }
    }
}
