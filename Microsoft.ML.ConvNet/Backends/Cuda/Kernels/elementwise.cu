// Elementwise kernels: copies, permutation, unary and binary maps, affine maps, bf16 conversion.

// UnaryOp values (must match Microsoft.ML.ConvNet.Backends.UnaryOp).
#define UNARY_RELU 0
#define UNARY_RELU6 1
#define UNARY_LEAKYRELU 2
#define UNARY_ELU 3
#define UNARY_SELU 4
#define UNARY_GELU 5
#define UNARY_SIGMOID 6
#define UNARY_TANH 7
#define UNARY_SILU 8
#define UNARY_HARDSWISH 9
#define UNARY_HARDSIGMOID 10
#define UNARY_EXP 11
#define UNARY_LOG 12
#define UNARY_NEG 13
#define UNARY_SQRT 14
#define UNARY_ABS 15
#define UNARY_SQUARE 16

// BinaryOp values (must match Microsoft.ML.ConvNet.Backends.BinaryOp).
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3

#define SELU_ALPHA 1.6732632423543772f
#define SELU_SCALE 1.0507009873554805f

__device__ __forceinline__ float clamp06(float v)
{
    return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
}

__device__ float unary_forward(int op, float v, float alpha)
{
    switch (op)
    {
        case UNARY_RELU: return v < 0.0f ? 0.0f : v;
        case UNARY_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
        case UNARY_LEAKYRELU: return v > 0.0f ? v : alpha * v;
        case UNARY_ELU: return v > 0.0f ? v : alpha * (expf(v) - 1.0f);
        case UNARY_SELU: return SELU_SCALE * (v > 0.0f ? v : SELU_ALPHA * (expf(v) - 1.0f));
        case UNARY_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678f));
        case UNARY_SIGMOID: return 1.0f / (1.0f + expf(-v));
        case UNARY_TANH: return tanhf(v);
        case UNARY_SILU: return v / (1.0f + expf(-v));
        case UNARY_HARDSWISH: return v * clamp06(v + 3.0f) / 6.0f;
        case UNARY_HARDSIGMOID: return clamp06(v + 3.0f) / 6.0f;
        case UNARY_EXP: return expf(v);
        case UNARY_LOG: return logf(v);
        case UNARY_NEG: return -v;
        case UNARY_SQRT: return sqrtf(v);
        case UNARY_ABS: return fabsf(v);
        case UNARY_SQUARE: return v * v;
        default: return __int_as_float(0x7fc00000);
    }
}

// d op(x) / dx, from x (v) and y = op(x) (u).
__device__ float unary_derivative(int op, float v, float u, float alpha)
{
    switch (op)
    {
        case UNARY_RELU: return v > 0.0f ? 1.0f : 0.0f;
        case UNARY_RELU6: return v > 0.0f && v < 6.0f ? 1.0f : 0.0f;
        case UNARY_LEAKYRELU: return v > 0.0f ? 1.0f : alpha;
        case UNARY_ELU: return v > 0.0f ? 1.0f : u + alpha;
        case UNARY_SELU: return v > 0.0f ? SELU_SCALE : u + SELU_SCALE * SELU_ALPHA;
        case UNARY_GELU: return 0.5f * (1.0f + erff(v * 0.70710678f)) + v * 0.39894228f * expf(-0.5f * v * v);
        case UNARY_SIGMOID: return u * (1.0f - u);
        case UNARY_TANH: return 1.0f - u * u;
        case UNARY_SILU:
        {
            float s = 1.0f / (1.0f + expf(-v));
            return s * (1.0f + v * (1.0f - s));
        }
        case UNARY_HARDSWISH: return v < -3.0f ? 0.0f : (v > 3.0f ? 1.0f : (2.0f * v + 3.0f) / 6.0f);
        case UNARY_HARDSIGMOID: return v > -3.0f && v < 3.0f ? 1.0f / 6.0f : 0.0f;
        case UNARY_EXP: return u;
        case UNARY_LOG: return 1.0f / v;
        case UNARY_NEG: return -1.0f;
        case UNARY_SQRT: return 0.5f / u;
        case UNARY_ABS: return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
        case UNARY_SQUARE: return 2.0f * v;
        default: return __int_as_float(0x7fc00000);
    }
}

__device__ __forceinline__ float binary_apply(int op, float a, float b)
{
    switch (op)
    {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        default: return a / b;
    }
}

// dst[dstOffset + b*dstStride + i] = src[srcOffset + b*srcStride + i] for b < blockCount, i < blockLength.
extern "C" __global__ void copy_blocks(const float* src, long long srcOffset, long long srcStride, float* dst,
    long long dstOffset, long long dstStride, long long blockLength, long long blockCount)
{
    GRID_STRIDE_LOOP(i, blockLength * blockCount)
    {
        long long b = i / blockLength;
        long long j = i - b * blockLength;
        dst[dstOffset + b * dstStride + j] = src[srcOffset + b * srcStride + j];
    }
}

// y[o] = x[offset(o)], with y's dimensions and the matching x strides per output axis.
extern "C" __global__ void permute(const float* x, float* y, int rank, Dims8 yDims, Dims8 srcStride, long long n)
{
    GRID_STRIDE_LOOP(o, n)
    {
        long long rem = o;
        long long off = 0;
        for (int a = rank - 1; a >= 0; --a)
        {
            long long q = rem / yDims.v[a];
            off += (rem - q * yDims.v[a]) * (long long)srcStride.v[a];
            rem = q;
        }
        y[o] = x[off];
    }
}

extern "C" __global__ void unary(int op, const float* x, float* y, float alpha, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = unary_forward(op, x[i], alpha);
    }
}

extern "C" __global__ void unary_backward(int op, const float* x, const float* y, const float* dy, float* dx, float alpha, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        dx[i] = dy[i] * unary_derivative(op, x[i], y == 0 ? 0.0f : y[i], alpha);
    }
}

extern "C" __global__ void binary_same(int op, const float* a, const float* b, float* y, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = binary_apply(op, a[i], b[i]);
    }
}

// y = a op b where b has one element.
extern "C" __global__ void binary_scalar(int op, const float* a, const float* b, float* y, long long n)
{
    float s = b[0];
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = binary_apply(op, a[i], s);
    }
}

// General broadcasting: strides are 0 along broadcast axes.
extern "C" __global__ void binary_broadcast(int op, const float* a, const float* b, float* y, int rank, Dims8 yDims,
    Dims8 aStride, Dims8 bStride, long long n)
{
    GRID_STRIDE_LOOP(o, n)
    {
        long long rem = o;
        long long ao = 0, bo = 0;
        for (int d = rank - 1; d >= 0; --d)
        {
            long long q = rem / yDims.v[d];
            long long i = rem - q * yDims.v[d];
            ao += i * aStride.v[d];
            bo += i * bStride.v[d];
            rem = q;
        }
        y[o] = binary_apply(op, a[ao], b[bo]);
    }
}

extern "C" __global__ void affine(const float* x, float* y, float scale, float shift, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = x[i] * scale + shift;
    }
}

extern "C" __global__ void axpy(float alpha, const float* x, float* y, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] += alpha * x[i];
    }
}

// Round-to-nearest-even float32 to bfloat16 bits (NaN stays a quiet NaN).
__device__ __forceinline__ unsigned short bf16_bits(float f)
{
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
    {
        return (unsigned short)((u >> 16) | 0x40u);
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

extern "C" __global__ void float_to_bf16(const float* x, unsigned short* y, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = bf16_bits(x[i]);
    }
}

extern "C" __global__ void bf16_to_float(const unsigned short* x, float* y, long long n)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = __uint_as_float(((unsigned int)x[i]) << 16);
    }
}
