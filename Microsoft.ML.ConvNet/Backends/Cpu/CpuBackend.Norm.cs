using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Normalisation kernels. Statistics use two passes (mean, then squared deviations from it) and accumulate in
// double across rows and across 4096-element chunks, so large planes keep float32 accuracy. Work is split over
// channels (batch norm), (sample, group) pairs (group norm), rows (layer norm) or (sample, spatial block) pairs
// (LRN). Reductions that span the parallel axis (dgamma/dbeta of layer and group norm) are written per part and
// summed afterwards in a fixed order, so results do not depend on thread scheduling.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor y, Tensor saveMean, Tensor saveInvStd, bool training, float momentum, float eps)
    {
        const string op = "BatchNormForward";
        var (n, c, s) = NormKernels.Ncs(x, y, op);
        NormKernels.CheckChannels(x, c, op, gamma, beta, runningMean, runningVar, saveMean, saveInvStd);
        float[] xs = x.CpuData, ys = y.CpuData, gs = gamma.CpuData, bs = beta.CpuData;
        float[] rm = runningMean.CpuData, rv = runningVar.CpuData, sm = saveMean.CpuData, si = saveInvStd.CpuData;
        long m = (long)n * s;
        if (!training)
        {
            // Inference: an affine map per channel. The running statistics are also written to saveMean/saveInvStd.
            var scale = new float[c];
            for (int ch = 0; ch < c; ch++)
            {
                si[ch] = 1f / MathF.Sqrt(rv[ch] + eps);
                sm[ch] = rm[ch];
                scale[ch] = gs[ch] * si[ch];
            }
            if (s == 1)
            {
                NormKernels.ForEachBlock(n, c, (lo, len) =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        var yRow = ys.AsSpan(i * c + lo, len);
                        TensorPrimitives.Subtract(xs.AsSpan(i * c + lo, len), rm.AsSpan(lo, len), yRow);
                        TensorPrimitives.MultiplyAdd(yRow, scale.AsSpan(lo, len), bs.AsSpan(lo, len), yRow);
                    }
                });
                return;
            }
            NormKernels.ForEach(n * c, s, r =>
            {
                int ch = r % c;
                NormKernels.ScaleShift(xs.AsSpan(r * s, s), rm[ch], scale[ch], bs[ch], ys.AsSpan(r * s, s));
            });
            return;
        }

        float keep = 1f - momentum;
        if (s == 1)
        {
            // [N, C]: vectorise across channels, blocks of channels in parallel.
            NormKernels.ForEachBlock(n, c, (lo, len) =>
            {
                var mean = sm.AsSpan(lo, len);
                var inv = si.AsSpan(lo, len);
                var acc = new float[len];
                var tmp = new float[len];
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Add(acc, xs.AsSpan(i * c + lo, len), acc);
                }
                TensorPrimitives.Multiply(acc, 1f / n, mean);
                acc.AsSpan().Clear();
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Subtract(xs.AsSpan(i * c + lo, len), mean, tmp);
                    TensorPrimitives.MultiplyAdd(tmp, tmp, acc, acc);
                }
                for (int j = 0; j < len; j++)
                {
                    int ch = lo + j;
                    float variance = acc[j] / n;
                    inv[j] = 1f / MathF.Sqrt(variance + eps);
                    tmp[j] = gs[ch] * inv[j];
                    rm[ch] = keep * rm[ch] + momentum * mean[j];
                    rv[ch] = keep * rv[ch] + momentum * (n > 1 ? acc[j] / (n - 1) : variance);
                }
                for (int i = 0; i < n; i++)
                {
                    var yRow = ys.AsSpan(i * c + lo, len);
                    TensorPrimitives.Subtract(xs.AsSpan(i * c + lo, len), mean, yRow);
                    TensorPrimitives.MultiplyAdd(yRow, tmp, bs.AsSpan(lo, len), yRow);
                }
            });
            return;
        }

        NormKernels.ForEach(c, m, ch =>
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += NormKernels.Sum(xs.AsSpan((i * c + ch) * s, s));
            }
            float mean = (float)(sum / m);
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                squares += NormKernels.SquaredDeviation(xs.AsSpan((i * c + ch) * s, s), mean);
            }
            float variance = (float)(squares / m);
            float inv = 1f / MathF.Sqrt(variance + eps);
            float scale = gs[ch] * inv;
            for (int i = 0; i < n; i++)
            {
                int at = (i * c + ch) * s;
                NormKernels.ScaleShift(xs.AsSpan(at, s), mean, scale, bs[ch], ys.AsSpan(at, s));
            }
            sm[ch] = mean;
            si[ch] = inv;
            rm[ch] = keep * rm[ch] + momentum * mean;
            rv[ch] = keep * rv[ch] + momentum * (float)(m > 1 ? squares / (m - 1) : variance);
        });
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
        Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        const string op = "BatchNormBackward";
        var (n, c, s) = NormKernels.Ncs(x, dy, op);
        NormKernels.Ncs(x, dx, op);
        NormKernels.CheckChannels(x, c, op, gamma, saveMean, saveInvStd, dgamma, dbeta);
        float[] xs = x.CpuData, gys = dy.CpuData, gs = gamma.CpuData, sm = saveMean.CpuData, si = saveInvStd.CpuData;
        float[] dxs = dx.CpuData, dgs = dgamma.CpuData, dbs = dbeta.CpuData;
        long m = (long)n * s;
        if (s == 1)
        {
            NormKernels.ForEachBlock(n, c, (lo, len) =>
            {
                var mean = sm.AsSpan(lo, len);
                var sumDy = dbs.AsSpan(lo, len);
                var sumDyXhat = dgs.AsSpan(lo, len);
                var tmp = new float[len];
                var a = new float[len];
                var b = new float[len];
                var k = new float[len];
                sumDy.Clear();
                sumDyXhat.Clear();
                for (int i = 0; i < n; i++)
                {
                    var g = gys.AsSpan(i * c + lo, len);
                    TensorPrimitives.Add(sumDy, g, sumDy);
                    TensorPrimitives.Subtract(xs.AsSpan(i * c + lo, len), mean, tmp);
                    TensorPrimitives.MultiplyAdd(tmp, g, sumDyXhat, sumDyXhat);
                }
                for (int j = 0; j < len; j++)
                {
                    int ch = lo + j;
                    float inv = si[ch];
                    sumDyXhat[j] *= inv;
                    a[j] = gs[ch] * inv;
                    b[j] = -a[j] * inv * sumDyXhat[j] / n;
                    k[j] = -a[j] * sumDy[j] / n;
                }
                for (int i = 0; i < n; i++)
                {
                    var dxRow = dxs.AsSpan(i * c + lo, len);
                    TensorPrimitives.Subtract(xs.AsSpan(i * c + lo, len), mean, tmp);
                    TensorPrimitives.MultiplyAdd(tmp, b, k, tmp);
                    TensorPrimitives.MultiplyAdd(gys.AsSpan(i * c + lo, len), a, tmp, dxRow);
                }
            });
            return;
        }

        NormKernels.ForEach(c, m, ch =>
        {
            float mean = sm[ch], inv = si[ch];
            double sumDy = 0, sumDyDev = 0;
            for (int i = 0; i < n; i++)
            {
                int at = (i * c + ch) * s;
                sumDy += NormKernels.Sum(gys.AsSpan(at, s));
                sumDyDev += NormKernels.DotDeviation(gys.AsSpan(at, s), xs.AsSpan(at, s), mean);
            }
            float dg = (float)(sumDyDev * inv);
            dbs[ch] = (float)sumDy;
            dgs[ch] = dg;
            // dx = γ·σ⁻¹·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), with x̂ = (x − μ)·σ⁻¹
            float a = gs[ch] * inv;
            float b = -a * inv * dg / m;
            float k = (float)(-a * sumDy / m);
            for (int i = 0; i < n; i++)
            {
                int at = (i * c + ch) * s;
                NormKernels.Combine(gys.AsSpan(at, s), xs.AsSpan(at, s), a, b, mean, k, dxs.AsSpan(at, s));
            }
        });
    }

    /// <inheritdoc/>
    public void GroupNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int groups, float eps)
    {
        const string op = "GroupNormForward";
        var (n, c, s) = NormKernels.Ncs(x, y, op);
        NormKernels.CheckGroups(x, c, groups, op);
        NormKernels.CheckChannels(x, c, op, gamma, beta);
        NormKernels.CheckLength(x, n * groups, op, mean, invStd);
        float[] xs = x.CpuData, ys = y.CpuData, ms = mean.CpuData, si = invStd.CpuData;
        float[]? gs = gamma?.CpuData, bs = beta?.CpuData;
        int cg = c / groups, groupSize = cg * s;
        NormKernels.ForEach(n * groups, groupSize, item =>
        {
            int start = item * groupSize;
            var xg = xs.AsSpan(start, groupSize);
            float mu = (float)(NormKernels.Sum(xg) / groupSize);
            float variance = (float)(NormKernels.SquaredDeviation(xg, mu) / groupSize);
            float inv = 1f / MathF.Sqrt(variance + eps);
            ms[item] = mu;
            si[item] = inv;
            int ch0 = item % groups * cg;
            for (int j = 0; j < cg; j++)
            {
                int ch = ch0 + j;
                float scale = inv * (gs?[ch] ?? 1f);
                float shift = bs?[ch] ?? 0f;
                NormKernels.ScaleShift(xs.AsSpan(start + j * s, s), mu, scale, shift, ys.AsSpan(start + j * s, s));
            }
        });
    }

    /// <inheritdoc/>
    public void GroupNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx,
        Tensor? dgamma, Tensor? dbeta, int groups)
    {
        const string op = "GroupNormBackward";
        var (n, c, s) = NormKernels.Ncs(x, dy, op);
        NormKernels.Ncs(x, dx, op);
        NormKernels.CheckGroups(x, c, groups, op);
        NormKernels.CheckChannels(x, c, op, gamma, dgamma, dbeta);
        NormKernels.CheckLength(x, n * groups, op, mean, invStd);
        float[] xs = x.CpuData, gys = dy.CpuData, ms = mean.CpuData, si = invStd.CpuData, dxs = dx.CpuData;
        float[]? gs = gamma?.CpuData;
        int cg = c / groups, groupSize = cg * s;
        // Per (sample, channel): Σ dy and Σ dy·x̂, for the group's dx and for dgamma/dbeta.
        var sumDy = new double[n * c];
        var sumDyXhat = new double[n * c];
        NormKernels.ForEach(n * groups, groupSize, item =>
        {
            int start = item * groupSize;
            int ch0 = item % groups * cg;
            int row0 = item * cg;
            float mu = ms[item], inv = si[item];
            double meanDxhat = 0, meanDxhatXhat = 0;
            for (int j = 0; j < cg; j++)
            {
                var g = gys.AsSpan(start + j * s, s);
                double sdy = NormKernels.Sum(g);
                double sdx = NormKernels.DotDeviation(g, xs.AsSpan(start + j * s, s), mu) * inv;
                sumDy[row0 + j] = sdy;
                sumDyXhat[row0 + j] = sdx;
                float w = gs?[ch0 + j] ?? 1f;
                meanDxhat += w * sdy;
                meanDxhatXhat += w * sdx;
            }
            meanDxhat /= groupSize;
            meanDxhatXhat /= groupSize;
            // dx = σ⁻¹·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂))
            float b = (float)(-inv * inv * meanDxhatXhat);
            float k = (float)(-inv * meanDxhat);
            for (int j = 0; j < cg; j++)
            {
                float a = inv * (gs?[ch0 + j] ?? 1f);
                int at = start + j * s;
                NormKernels.Combine(gys.AsSpan(at, s), xs.AsSpan(at, s), a, b, mu, k, dxs.AsSpan(at, s));
            }
        });
        NormKernels.SumOverSamples(sumDyXhat, n, c, dgamma);
        NormKernels.SumOverSamples(sumDy, n, c, dbeta);
    }

    /// <inheritdoc/>
    public void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, int inner, float eps)
    {
        const string op = "LayerNormForward";
        int outer = NormKernels.Rows(x, y, inner, op);
        NormKernels.CheckLength(x, inner, op, gamma, beta);
        NormKernels.CheckLength(x, outer, op, mean, invStd);
        float[] xs = x.CpuData, ys = y.CpuData, ms = mean.CpuData, si = invStd.CpuData;
        float[]? gs = gamma?.CpuData, bs = beta?.CpuData;
        NormKernels.ForEach(outer, inner, r =>
        {
            var xr = xs.AsSpan(r * inner, inner);
            var yr = ys.AsSpan(r * inner, inner);
            float mu = (float)(NormKernels.Sum(xr) / inner);
            float inv = 1f / MathF.Sqrt((float)(NormKernels.SquaredDeviation(xr, mu) / inner) + eps);
            ms[r] = mu;
            si[r] = inv;
            NormKernels.ScaleShift(xr, mu, inv, 0f, yr);
            if (gs != null && bs != null)
            {
                TensorPrimitives.MultiplyAdd(yr, gs, bs, yr);
            }
            else if (gs != null)
            {
                TensorPrimitives.Multiply(yr, gs, yr);
            }
            else if (bs != null)
            {
                TensorPrimitives.Add(yr, bs, yr);
            }
        });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor x, Tensor dy, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx,
        Tensor? dgamma, Tensor? dbeta, int inner)
    {
        const string op = "LayerNormBackward";
        int outer = NormKernels.Rows(x, dy, inner, op);
        NormKernels.Rows(x, dx, inner, op);
        NormKernels.CheckLength(x, inner, op, gamma, dgamma, dbeta);
        NormKernels.CheckLength(x, outer, op, mean, invStd);
        float[] xs = x.CpuData, gys = dy.CpuData, ms = mean.CpuData, si = invStd.CpuData, dxs = dx.CpuData;
        float[]? gs = gamma?.CpuData;
        bool wantGamma = dgamma != null, wantBeta = dbeta != null;
        // Rows are processed in a fixed number of parts; each part keeps its own dgamma/dbeta partial sums.
        int parts = (long)outer * inner < NormKernels.ParallelThreshold ? 1 : Math.Min(outer, 16);
        int rowsPerPart = (outer + parts - 1) / parts;
        var partGamma = wantGamma ? new float[parts * inner] : null;
        var partBeta = wantBeta ? new float[parts * inner] : null;
        NormKernels.ForEach(parts, (long)rowsPerPart * inner, part =>
        {
            var xhat = new float[inner];
            var dxhat = gs != null ? new float[inner] : null;
            int end = Math.Min(outer, (part + 1) * rowsPerPart);
            for (int r = part * rowsPerPart; r < end; r++)
            {
                var g = gys.AsSpan(r * inner, inner);
                var dxr = dxs.AsSpan(r * inner, inner);
                float inv = si[r];
                NormKernels.ScaleShift(xs.AsSpan(r * inner, inner), ms[r], inv, 0f, xhat);
                ReadOnlySpan<float> d = g;
                if (dxhat != null)
                {
                    TensorPrimitives.Multiply(g, gs, dxhat);
                    d = dxhat;
                }
                float meanD = (float)(NormKernels.Sum(d) / inner);
                float meanDX = TensorPrimitives.Dot(d, xhat) / inner;
                // dx = σ⁻¹·(d − mean(d) − x̂·mean(d·x̂)), d = γ·dy
                TensorPrimitives.Multiply(xhat, -inv * meanDX, dxr);
                TensorPrimitives.MultiplyAdd(d, inv, dxr, dxr);
                TensorPrimitives.Add(dxr, -inv * meanD, dxr);
                if (partGamma != null)
                {
                    var pg = partGamma.AsSpan(part * inner, inner);
                    TensorPrimitives.MultiplyAdd(g, xhat, pg, pg);
                }
                if (partBeta != null)
                {
                    var pb = partBeta.AsSpan(part * inner, inner);
                    TensorPrimitives.Add(pb, g, pb);
                }
            }
        });
        NormKernels.SumParts(partGamma, parts, inner, dgamma);
        NormKernels.SumParts(partBeta, parts, inner, dbeta);
    }

    /// <inheritdoc/>
    public void LrnForward(Tensor x, Tensor y, int size, float alpha, float beta, float k)
    {
        var (n, c, s) = NormKernels.Ncs(x, y, "LrnForward");
        NormKernels.CheckLrnSize(size, "LrnForward");
        float[] xs = x.CpuData, ys = y.CpuData;
        int before = size / 2, after = (size - 1) / 2;
        float coef = alpha / size;
        int blocks = (s + NormKernels.SpatialBlock - 1) / NormKernels.SpatialBlock;
        NormKernels.ForEach(n * blocks, (long)c * Math.Min(s, NormKernels.SpatialBlock) * (size + 2), item =>
        {
            int sample = item / blocks;
            int s0 = item % blocks * NormKernels.SpatialBlock;
            int len = Math.Min(NormKernels.SpatialBlock, s - s0);
            int baseAt = sample * c * s + s0;
            var den = new float[len];
            for (int ch = 0; ch < c; ch++)
            {
                NormKernels.LrnDenominatorPow(xs, baseAt, s, c, ch, before, after, coef, k, beta, den);
                TensorPrimitives.Multiply(xs.AsSpan(baseAt + ch * s, len), den, ys.AsSpan(baseAt + ch * s, len));
            }
        });
    }

    /// <inheritdoc/>
    public void LrnBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, int size, float alpha, float beta, float k)
    {
        var (n, c, s) = NormKernels.Ncs(x, y, "LrnBackward");
        NormKernels.Ncs(x, dy, "LrnBackward");
        NormKernels.Ncs(x, dx, "LrnBackward");
        NormKernels.CheckLrnSize(size, "LrnBackward");
        float[] xs = x.CpuData, ys = y.CpuData, gys = dy.CpuData, dxs = dx.CpuData;
        int before = size / 2, after = (size - 1) / 2;
        float coef = alpha / size;
        float cross = -2f * alpha * beta / size;
        int blocks = (s + NormKernels.SpatialBlock - 1) / NormKernels.SpatialBlock;
        NormKernels.ForEach(n * blocks, (long)c * Math.Min(s, NormKernels.SpatialBlock) * (2 * size + 4), item =>
        {
            int sample = item / blocks;
            int s0 = item % blocks * NormKernels.SpatialBlock;
            int len = Math.Min(NormKernels.SpatialBlock, s - s0);
            int baseAt = sample * c * s + s0;
            // y_c = x_c·D_c^(−β), D_c = k + α/n·Σ_{c' ∈ [c−before, c+after]} x_{c'}²
            // dx_j = dy_j·D_j^(−β) − (2αβ/n)·x_j·Σ_{c ∈ [j−after, j+before]} dy_c·y_c / D_c
            var t = BufferPool.Rent(c * len);
            var den = new float[len];
            var acc = new float[len];
            for (int ch = 0; ch < c; ch++)
            {
                int at = baseAt + ch * s;
                var tRow = t.AsSpan(ch * len, len);
                NormKernels.LrnDenominator(xs, baseAt, s, c, ch, before, after, coef, k, den);
                TensorPrimitives.Multiply(gys.AsSpan(at, len), ys.AsSpan(at, len), tRow);
                TensorPrimitives.Divide(tRow, den, tRow);
                TensorPrimitives.Pow(den, -beta, den);
                TensorPrimitives.Multiply(gys.AsSpan(at, len), den, dxs.AsSpan(at, len));
            }
            for (int j = 0; j < c; j++)
            {
                int lo = Math.Max(0, j - after), hi = Math.Min(c - 1, j + before);
                t.AsSpan(lo * len, len).CopyTo(acc);
                for (int ch = lo + 1; ch <= hi; ch++)
                {
                    TensorPrimitives.Add(acc, t.AsSpan(ch * len, len), acc);
                }
                int at = baseAt + j * s;
                TensorPrimitives.Multiply(acc, xs.AsSpan(at, len), acc);
                var dxRow = dxs.AsSpan(at, len);
                TensorPrimitives.MultiplyAdd(acc, cross, dxRow, dxRow);
            }
            BufferPool.Return(t);
        });
    }
}

file static class NormKernels
{
    /// <summary>Below this many operations a call runs on the calling thread.</summary>
    public const long ParallelThreshold = 1 << 15;

    /// <summary>Spatial positions per LRN work item.</summary>
    public const int SpatialBlock = 1024;

    /// <summary>Statistics accumulate in double across chunks of this many elements.</summary>
    private const int Chunk = 4096;

    public static void ForEach(int count, long workPerItem, Action<int> body)
    {
        if (count == 1 || count * workPerItem < ParallelThreshold)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }
            return;
        }
        CpuParallel.For(count, body);
    }

    /// <summary>Runs body(start, length) over blocks of channels of an [N, C] tensor.</summary>
    public static void ForEachBlock(int n, int c, Action<int, int> body)
    {
        const int block = 1024;
        int blocks = (c + block - 1) / block;
        ForEach(blocks, (long)n * Math.Min(c, block) * 4, b =>
        {
            int lo = b * block;
            body(lo, Math.Min(block, c - lo));
        });
    }

    /// <summary>x viewed as [N, C, S]; <paramref name="other"/> must have as many elements.</summary>
    public static (int N, int C, int S) Ncs(Tensor x, Tensor other, string operation)
    {
        if (x.Rank < 2 || x.Shape[0] == 0 || x.Shape[1] == 0)
        {
            throw new ShapeMismatchException($"{operation}: expected input [N, C, ...], got {x.Shape}.");
        }
        if (other.Size != x.Size)
        {
            throw new ShapeMismatchException(operation, x.Shape, other.Shape, "the tensors must have the same number of elements");
        }
        int n = x.Shape[0], c = x.Shape[1];
        return (n, c, x.Size / (n * c));
    }

    public static int Rows(Tensor x, Tensor other, int inner, string operation)
    {
        if (inner < 1 || x.Size % inner != 0)
        {
            throw new ShapeMismatchException($"{operation}: input {x.Shape} cannot be viewed as rows of {inner}.");
        }
        if (other.Size != x.Size)
        {
            throw new ShapeMismatchException(operation, x.Shape, other.Shape, "the tensors must have the same number of elements");
        }
        return x.Size / inner;
    }

    public static void CheckChannels(Tensor x, int c, string operation, params Tensor?[] perChannel)
    {
        foreach (var t in perChannel)
        {
            if (t != null && t.Size != c)
            {
                throw new ShapeMismatchException(operation, x.Shape, t.Shape, $"per-channel tensors must have {c} elements");
            }
        }
    }

    public static void CheckLength(Tensor x, int length, string operation, params Tensor?[] tensors)
    {
        foreach (var t in tensors)
        {
            if (t != null && t.Size != length)
            {
                throw new ShapeMismatchException(operation, x.Shape, t.Shape, $"expected {length} elements");
            }
        }
    }

    public static void CheckGroups(Tensor x, int c, int groups, string operation)
    {
        if (groups < 1 || c % groups != 0)
        {
            throw new ShapeMismatchException($"{operation}: {c} channels of {x.Shape} cannot be split into {groups} groups.");
        }
    }

    public static void CheckLrnSize(int size, string operation)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"{operation}: the window size must be at least 1, got {size}.");
        }
    }

    /// <summary>Σ values[n, c] over n into target [C] (skipped when target is null).</summary>
    public static void SumOverSamples(double[] values, int n, int c, Tensor? target)
    {
        if (target == null)
        {
            return;
        }
        var t = target.Span;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                s += values[i * c + ch];
            }
            t[ch] = (float)s;
        }
    }

    /// <summary>target = Σ over parts of partials [parts, length] (skipped when either is null).</summary>
    public static void SumParts(float[]? partials, int parts, int length, Tensor? target)
    {
        if (partials == null || target == null)
        {
            return;
        }
        var t = target.Span;
        partials.AsSpan(0, length).CopyTo(t);
        for (int p = 1; p < parts; p++)
        {
            TensorPrimitives.Add(t, partials.AsSpan(p * length, length), t);
        }
    }

    /// <summary>Σ x, accumulated in double across chunks.</summary>
    public static double Sum(ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i += Chunk)
        {
            s += TensorPrimitives.Sum(x.Slice(i, Math.Min(Chunk, x.Length - i)));
        }
        return s;
    }

    /// <summary>Σ (x − mean)².</summary>
    public static double SquaredDeviation(ReadOnlySpan<float> x, float mean)
    {
        double s = 0;
        var vm = new Vector<float>(mean);
        int width = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int end = Math.Min(x.Length, start + Chunk);
            var acc = Vector<float>.Zero;
            int i = start;
            for (; i <= end - width; i += width)
            {
                var d = Vector.LoadUnsafe(ref xr, (nuint)i) - vm;
                acc += d * d;
            }
            float tail = 0f;
            for (; i < end; i++)
            {
                float d = x[i] - mean;
                tail += d * d;
            }
            s += Vector.Sum(acc) + tail;
        }
        return s;
    }

    /// <summary>Σ dy·(x − mean).</summary>
    public static double DotDeviation(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean)
    {
        double s = 0;
        var vm = new Vector<float>(mean);
        int width = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int end = Math.Min(x.Length, start + Chunk);
            var acc = Vector<float>.Zero;
            int i = start;
            for (; i <= end - width; i += width)
            {
                acc += Vector.LoadUnsafe(ref gr, (nuint)i) * (Vector.LoadUnsafe(ref xr, (nuint)i) - vm);
            }
            float tail = 0f;
            for (; i < end; i++)
            {
                tail += dy[i] * (x[i] - mean);
            }
            s += Vector.Sum(acc) + tail;
        }
        return s;
    }

    /// <summary>y = (x − mean)·scale + shift (y may be x).</summary>
    public static void ScaleShift(ReadOnlySpan<float> x, float mean, float scale, float shift, Span<float> y)
    {
        var vm = new Vector<float>(mean);
        var vs = new Vector<float>(scale);
        var vt = new Vector<float>(shift);
        int width = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= x.Length - width; i += width)
        {
            ((Vector.LoadUnsafe(ref xr, (nuint)i) - vm) * vs + vt).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++)
        {
            y[i] = (x[i] - mean) * scale + shift;
        }
    }

    /// <summary>dx = a·dy + b·(x − mean) + k.</summary>
    public static void Combine(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float a, float b, float mean, float k, Span<float> dx)
    {
        var va = new Vector<float>(a);
        var vb = new Vector<float>(b);
        var vm = new Vector<float>(mean);
        var vk = new Vector<float>(k);
        int width = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        for (; i <= x.Length - width; i += width)
        {
            (va * Vector.LoadUnsafe(ref gr, (nuint)i) + vb * (Vector.LoadUnsafe(ref xr, (nuint)i) - vm) + vk).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < x.Length; i++)
        {
            dx[i] = a * dy[i] + b * (x[i] - mean) + k;
        }
    }

    /// <summary>
    /// den = k + coef·Σ_{c' ∈ [ch−before, ch+after] ∩ [0, C)} x_{c'}² over one spatial segment of length den.Length
    /// starting at <paramref name="baseAt"/> (channel stride <paramref name="s"/>).
    /// </summary>
    public static void LrnDenominator(float[] xs, int baseAt, int s, int c, int ch, int before, int after, float coef, float k, Span<float> den)
    {
        int len = den.Length;
        den.Clear();
        int lo = Math.Max(0, ch - before), hi = Math.Min(c - 1, ch + after);
        for (int j = lo; j <= hi; j++)
        {
            var xr = xs.AsSpan(baseAt + j * s, len);
            TensorPrimitives.MultiplyAdd(xr, xr, den, den);
        }
        TensorPrimitives.Multiply(den, coef, den);
        TensorPrimitives.Add(den, k, den);
    }

    /// <summary>den = (LRN denominator)^(−β).</summary>
    public static void LrnDenominatorPow(float[] xs, int baseAt, int s, int c, int ch, int before, int after, float coef, float k, float beta, Span<float> den)
    {
        LrnDenominator(xs, baseAt, s, c, ch, before, after, coef, k, den);
        TensorPrimitives.Pow(den, -beta, den);
    }
}
