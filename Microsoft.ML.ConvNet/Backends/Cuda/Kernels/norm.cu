// Group, layer and local-response normalisation. Statistics use two passes (mean, then squared deviations) with
// block-wide tree sums; gradients of the affine parameters are summed per channel/column in a fixed order.

// Group norm: x viewed as [N, G, M] with M = (C/G)*S; one block per (sample, group).
extern "C" __global__ void group_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
    float* invStd, int n, int c, long long s, int groups, float eps)
{
    int cg = c / groups;
    long long m = (long long)cg * s;
    for (long long item = blockIdx.x; item < (long long)n * groups; item += gridDim.x)
    {
        const float* xg = x + item * m;
        float* yg = y + item * m;
        float acc = 0.0f;
        for (long long i = threadIdx.x; i < m; i += blockDim.x) acc += xg[i];
        float mu = block_sum(acc) / (float)m;
        acc = 0.0f;
        for (long long i = threadIdx.x; i < m; i += blockDim.x)
        {
            float d = xg[i] - mu;
            acc += d * d;
        }
        float inv = rsqrtf(block_sum(acc) / (float)m + eps);
        if (threadIdx.x == 0)
        {
            mean[item] = mu;
            invStd[item] = inv;
        }
        int ch0 = (int)(item % groups) * cg;
        for (long long i = threadIdx.x; i < m; i += blockDim.x)
        {
            int ch = ch0 + (int)(i / s);
            float scale = gamma != 0 ? gamma[ch] * inv : inv;
            float shift = beta != 0 ? beta[ch] : 0.0f;
            yg[i] = (xg[i] - mu) * scale + shift;
        }
    }
}

// dx = invStd * (d - mean(d) - xhat * mean(d * xhat)), d = gamma * dy, over each (sample, group).
extern "C" __global__ void group_norm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
    const float* invStd, float* dx, int n, int c, long long s, int groups)
{
    int cg = c / groups;
    long long m = (long long)cg * s;
    for (long long item = blockIdx.x; item < (long long)n * groups; item += gridDim.x)
    {
        const float* xg = x + item * m;
        const float* gg = dy + item * m;
        float* dg = dx + item * m;
        float mu = mean[item], inv = invStd[item];
        int ch0 = (int)(item % groups) * cg;
        float sumD = 0.0f, sumDX = 0.0f;
        for (long long i = threadIdx.x; i < m; i += blockDim.x)
        {
            float d = gamma != 0 ? gamma[ch0 + (int)(i / s)] * gg[i] : gg[i];
            sumD += d;
            sumDX += d * (xg[i] - mu) * inv;
        }
        float meanD = block_sum(sumD) / (float)m;
        float meanDX = block_sum(sumDX) / (float)m;
        for (long long i = threadIdx.x; i < m; i += blockDim.x)
        {
            float d = gamma != 0 ? gamma[ch0 + (int)(i / s)] * gg[i] : gg[i];
            float xhat = (xg[i] - mu) * inv;
            dg[i] = inv * (d - meanD - xhat * meanDX);
        }
    }
}

// dgamma[ch] = sum over samples and positions of dy * xhat; dbeta[ch] = sum of dy. One block per channel.
extern "C" __global__ void group_norm_param_grads(const float* x, const float* dy, const float* mean, const float* invStd,
    float* dgamma, float* dbeta, int n, int c, long long s, int groups)
{
    int cg = c / groups;
    for (int ch = blockIdx.x; ch < c; ch += gridDim.x)
    {
        int g = ch / cg;
        float sumG = 0.0f, sumB = 0.0f;
        for (long long i = threadIdx.x; i < (long long)n * s; i += blockDim.x)
        {
            long long sample = i / s;
            long long at = (sample * c + ch) * s + (i - sample * s);
            long long item = sample * groups + g;
            float d = dy[at];
            sumB += d;
            sumG += d * (x[at] - mean[item]) * invStd[item];
        }
        sumG = block_sum(sumG);
        sumB = block_sum(sumB);
        if (threadIdx.x == 0)
        {
            if (dgamma != 0) dgamma[ch] = sumG;
            if (dbeta != 0) dbeta[ch] = sumB;
        }
    }
}

// Layer norm over rows of length inner, elementwise affine over inner; one block per row.
extern "C" __global__ void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
    float* invStd, long long outer, long long inner, float eps)
{
    for (long long row = blockIdx.x; row < outer; row += gridDim.x)
    {
        const float* xr = x + row * inner;
        float* yr = y + row * inner;
        float acc = 0.0f;
        for (long long i = threadIdx.x; i < inner; i += blockDim.x) acc += xr[i];
        float mu = block_sum(acc) / (float)inner;
        acc = 0.0f;
        for (long long i = threadIdx.x; i < inner; i += blockDim.x)
        {
            float d = xr[i] - mu;
            acc += d * d;
        }
        float inv = rsqrtf(block_sum(acc) / (float)inner + eps);
        if (threadIdx.x == 0)
        {
            mean[row] = mu;
            invStd[row] = inv;
        }
        for (long long i = threadIdx.x; i < inner; i += blockDim.x)
        {
            float v = (xr[i] - mu) * inv;
            if (gamma != 0) v *= gamma[i];
            if (beta != 0) v += beta[i];
            yr[i] = v;
        }
    }
}

extern "C" __global__ void layer_norm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
    const float* invStd, float* dx, long long outer, long long inner)
{
    for (long long row = blockIdx.x; row < outer; row += gridDim.x)
    {
        const float* xr = x + row * inner;
        const float* gr = dy + row * inner;
        float* dr = dx + row * inner;
        float mu = mean[row], inv = invStd[row];
        float sumD = 0.0f, sumDX = 0.0f;
        for (long long i = threadIdx.x; i < inner; i += blockDim.x)
        {
            float d = gamma != 0 ? gamma[i] * gr[i] : gr[i];
            sumD += d;
            sumDX += d * (xr[i] - mu) * inv;
        }
        float meanD = block_sum(sumD) / (float)inner;
        float meanDX = block_sum(sumDX) / (float)inner;
        for (long long i = threadIdx.x; i < inner; i += blockDim.x)
        {
            float d = gamma != 0 ? gamma[i] * gr[i] : gr[i];
            dr[i] = inv * (d - meanD - (xr[i] - mu) * inv * meanDX);
        }
    }
}

// dgamma[j] = sum over rows of dy * xhat, dbeta[j] = sum of dy; one thread per column, rows in order.
extern "C" __global__ void layer_norm_param_grads(const float* x, const float* dy, const float* mean, const float* invStd,
    float* dgamma, float* dbeta, long long outer, long long inner)
{
    GRID_STRIDE_LOOP(j, inner)
    {
        float sumG = 0.0f, sumB = 0.0f;
        for (long long row = 0; row < outer; row++)
        {
            long long at = row * inner + j;
            sumB += dy[at];
            sumG += dy[at] * (x[at] - mean[row]) * invStd[row];
        }
        if (dgamma != 0) dgamma[j] = sumG;
        if (dbeta != 0) dbeta[j] = sumB;
    }
}

// D_c = k + alpha/size * sum of x^2 over channels [c - size/2, c + (size-1)/2] within [0, C).
__device__ float lrn_denominator(const float* x, long long base, long long s, int c, int ch, int size, float coef, float k)
{
    int lo = max(0, ch - size / 2), hi = min(c - 1, ch + (size - 1) / 2);
    float acc = 0.0f;
    for (int j = lo; j <= hi; j++)
    {
        float v = x[base + j * s];
        acc += v * v;
    }
    return k + coef * acc;
}

// y = x * D^-beta; x viewed as [N, C, S], one thread per element.
extern "C" __global__ void lrn_forward(const float* x, float* y, int n, int c, long long s, int size, float alpha, float beta, float k)
{
    GRID_STRIDE_LOOP(i, (long long)n * c * s)
    {
        long long sample = i / (c * s);
        long long r = i - sample * c * s;
        int ch = (int)(r / s);
        long long base = sample * c * s + (r - ch * s);
        float d = lrn_denominator(x, base, s, c, ch, size, alpha / size, k);
        y[i] = x[i] * powf(d, -beta);
    }
}

// dx_j = dy_j * D_j^-beta - (2 alpha beta / size) * x_j * sum over c in [j - (size-1)/2, j + size/2] of dy_c * y_c / D_c.
extern "C" __global__ void lrn_backward(const float* x, const float* y, const float* dy, float* dx, int n, int c, long long s,
    int size, float alpha, float beta, float k)
{
    float coef = alpha / size;
    GRID_STRIDE_LOOP(i, (long long)n * c * s)
    {
        long long sample = i / (c * s);
        long long r = i - sample * c * s;
        int ch = (int)(r / s);
        long long base = sample * c * s + (r - ch * s);
        float dj = lrn_denominator(x, base, s, c, ch, size, coef, k);
        int lo = max(0, ch - (size - 1) / 2), hi = min(c - 1, ch + size / 2);
        float acc = 0.0f;
        for (int cc = lo; cc <= hi; cc++)
        {
            long long at = base + cc * s;
            acc += dy[at] * y[at] / lrn_denominator(x, base, s, c, cc, size, coef, k);
        }
        dx[i] = dy[i] * powf(dj, -beta) - 2.0f * alpha * beta / size * x[i] * acc;
    }
}

// Batch-norm inference also reports the statistics it used: saveMean = running mean, saveInvStd = 1/sqrt(var + eps).
extern "C" __global__ void batch_norm_inference_stats(const float* runningMean, const float* runningVar, float* saveMean,
    float* saveInvStd, float eps, int c)
{
    GRID_STRIDE_LOOP(i, c)
    {
        saveMean[i] = runningMean[i];
        saveInvStd[i] = rsqrtf(runningVar[i] + eps);
    }
}
