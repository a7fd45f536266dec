// Fused optimizer updates, one thread per parameter element, with PyTorch's semantics (see IBackend).

// d = g + wd*p; with a buffer: b = first ? d : mu*b + (1 - dampening)*d, d = nesterov ? d + mu*b : b; p -= lr*d.
extern "C" __global__ void sgd_update(float* p, const float* g, float* b, float lr, float mu, float dampening, float wd,
    int nesterov, int first, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        float d = g[i] + wd * p[i];
        if (b != 0)
        {
            float bv = first ? d : mu * b[i] + (1.0f - dampening) * d;
            b[i] = bv;
            d = nesterov ? d + mu * bv : bv;
        }
        p[i] -= lr * d;
    }
}

// Adam/AdamW with the bias corrections folded into stepSize = lr/bc1 and invSqrtBc2 = 1/sqrt(bc2).
extern "C" __global__ void adam_update(float* p, const float* g, float* m, float* v, float beta1, float beta2, float eps,
    float coupledDecay, float decoupledScale, float stepSize, float invSqrtBc2, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        float pv = p[i];
        float gv = g[i] + coupledDecay * pv;
        pv *= decoupledScale;
        float mv = beta1 * m[i] + (1.0f - beta1) * gv;
        float vv = beta2 * v[i] + (1.0f - beta2) * (gv * gv);
        m[i] = mv;
        v[i] = vv;
        p[i] = pv - stepSize * mv / (sqrtf(vv) * invSqrtBc2 + eps);
    }
}

// g' = g + wd*p; s = alpha*s + (1 - alpha)*g'^2; q = g'/(sqrt(s) + eps); with momentum b = mu*b + q, q = b; p -= lr*q.
extern "C" __global__ void rmsprop_update(float* p, const float* g, float* sq, float* b, float lr, float alpha, float eps,
    float wd, float mu, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        float pv = p[i];
        float gv = g[i] + wd * pv;
        float sv = alpha * sq[i] + (1.0f - alpha) * (gv * gv);
        sq[i] = sv;
        float q = gv / (sqrtf(sv) + eps);
        if (b != 0)
        {
            q = mu * b[i] + q;
            b[i] = q;
        }
        p[i] = pv - lr * q;
    }
}
