// Pooling with PyTorch's rules (ceil mode, dilation for max, padding in or out of the average's divisor) and
// adaptive average pooling. Planes are [NC, H, W]; one thread per output (forward) or input (backward) element.

// Max pooling forward: the first maximum of each window (a NaN wins), taps inside the input only.
extern "C" __global__ void max_pool_forward(const float* x, float* y, long long planes, int h, int w, int oh, int ow,
    int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
{
    GRID_STRIDE_LOOP(o, planes * oh * ow)
    {
        long long p = o / ((long long)oh * ow);
        int r = (int)(o - p * oh * ow);
        int oy = r / ow, ox = r - oy * ow;
        const float* plane = x + p * h * w;
        float best = __int_as_float(0xff800000);
        bool any = false;
        for (int i = 0; i < kh; i++)
        {
            int iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < kw; j++)
            {
                int ix = ox * sw - pw + j * dw;
                if (ix < 0 || ix >= w) continue;
                float v = plane[iy * w + ix];
                if (!any || (best == best && (v > best || v != v)))
                {
                    best = v;
                    any = true;
                }
            }
        }
        y[o] = best;
    }
}

// Max pooling backward: dy goes to the first maximum of the window (dx zeroed beforehand; overlapping windows add).
extern "C" __global__ void max_pool_backward(const float* x, const float* dy, float* dx, long long planes, int h, int w,
    int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
{
    GRID_STRIDE_LOOP(o, planes * oh * ow)
    {
        long long p = o / ((long long)oh * ow);
        int r = (int)(o - p * oh * ow);
        int oy = r / ow, ox = r - oy * ow;
        const float* plane = x + p * h * w;
        float best = 0.0f;
        int arg = -1;
        for (int i = 0; i < kh; i++)
        {
            int iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < kw; j++)
            {
                int ix = ox * sw - pw + j * dw;
                if (ix < 0 || ix >= w) continue;
                float v = plane[iy * w + ix];
                if (arg < 0 || (best == best && (v > best || v != v)))
                {
                    best = v;
                    arg = iy * w + ix;
                }
            }
        }
        if (arg >= 0)
        {
            atomicAdd(dx + p * h * w + arg, dy[o]);
        }
    }
}

// Window [start, end) of output o along one axis and its divisor, as on the CPU.
__device__ __forceinline__ int avg_count(int o, int input, int kernel, int stride, int pad, bool includePad)
{
    int start = o * stride - pad;
    int end = min(start + kernel, input + pad);
    return includePad ? end - start : min(end, input) - max(start, 0);
}

extern "C" __global__ void avg_pool_forward(const float* x, float* y, long long planes, int h, int w, int oh, int ow,
    int kh, int kw, int sh, int sw, int ph, int pw, int includePad)
{
    GRID_STRIDE_LOOP(o, planes * oh * ow)
    {
        long long p = o / ((long long)oh * ow);
        int r = (int)(o - p * oh * ow);
        int oy = r / ow, ox = r - oy * ow;
        const float* plane = x + p * h * w;
        int y0 = oy * sh - ph, x0 = ox * sw - pw;
        float acc = 0.0f;
        for (int iy = max(y0, 0); iy < min(y0 + kh, h); iy++)
        {
            for (int ix = max(x0, 0); ix < min(x0 + kw, w); ix++)
            {
                acc += plane[iy * w + ix];
            }
        }
        int count = avg_count(oy, h, kh, sh, ph, includePad != 0) * avg_count(ox, w, kw, sw, pw, includePad != 0);
        y[o] = acc / (float)count;
    }
}

// Average pooling backward, gathered per input element (deterministic).
extern "C" __global__ void avg_pool_backward(const float* dy, float* dx, long long planes, int h, int w, int oh, int ow,
    int kh, int kw, int sh, int sw, int ph, int pw, int includePad)
{
    GRID_STRIDE_LOOP(i, planes * h * w)
    {
        long long p = i / ((long long)h * w);
        int r = (int)(i - p * h * w);
        int iy = r / w, ix = r - iy * w;
        // Outputs whose window [o*s - p, o*s - p + k) contains the input position.
        int oyLo = max(0, (iy + ph - kh + sh) / sh), oyHi = min(oh - 1, (iy + ph) / sh);
        int oxLo = max(0, (ix + pw - kw + sw) / sw), oxHi = min(ow - 1, (ix + pw) / sw);
        if (iy + ph - kh + 1 < 0) oyLo = 0;
        if (ix + pw - kw + 1 < 0) oxLo = 0;
        const float* g = dy + p * oh * ow;
        float acc = 0.0f;
        for (int oy = oyLo; oy <= oyHi; oy++)
        {
            int cy = avg_count(oy, h, kh, sh, ph, includePad != 0);
            for (int ox = oxLo; ox <= oxHi; ox++)
            {
                acc += g[oy * ow + ox] / (float)(cy * avg_count(ox, w, kw, sw, pw, includePad != 0));
            }
        }
        dx[i] = acc;
    }
}

// Adaptive average pooling: window of output i is [floor(i*I/O), ceil((i+1)*I/O)).
extern "C" __global__ void adaptive_avg_pool_forward(const float* x, float* y, long long planes, int h, int w, int oh, int ow)
{
    GRID_STRIDE_LOOP(o, planes * oh * ow)
    {
        long long p = o / ((long long)oh * ow);
        int r = (int)(o - p * oh * ow);
        int oy = r / ow, ox = r - oy * ow;
        int y0 = (int)((long long)oy * h / oh), y1 = (int)(((long long)(oy + 1) * h + oh - 1) / oh);
        int x0 = (int)((long long)ox * w / ow), x1 = (int)(((long long)(ox + 1) * w + ow - 1) / ow);
        const float* plane = x + p * h * w;
        float acc = 0.0f;
        for (int iy = y0; iy < y1; iy++)
        {
            for (int ix = x0; ix < x1; ix++)
            {
                acc += plane[iy * w + ix];
            }
        }
        y[o] = acc / (float)((y1 - y0) * (x1 - x0));
    }
}

extern "C" __global__ void adaptive_avg_pool_backward(const float* dy, float* dx, long long planes, int h, int w, int oh, int ow)
{
    GRID_STRIDE_LOOP(i, planes * h * w)
    {
        long long p = i / ((long long)h * w);
        int r = (int)(i - p * h * w);
        int iy = r / w, ix = r - iy * w;
        const float* g = dy + p * oh * ow;
        float acc = 0.0f;
        for (int oy = 0; oy < oh; oy++)
        {
            int y0 = (int)((long long)oy * h / oh), y1 = (int)(((long long)(oy + 1) * h + oh - 1) / oh);
            if (iy < y0 || iy >= y1) continue;
            for (int ox = 0; ox < ow; ox++)
            {
                int x0 = (int)((long long)ox * w / ow), x1 = (int)(((long long)(ox + 1) * w + ow - 1) / ow);
                if (ix < x0 || ix >= x1) continue;
                acc += g[oy * ow + ox] / (float)((y1 - y0) * (x1 - x0));
            }
        }
        dx[i] = acc;
    }
}
