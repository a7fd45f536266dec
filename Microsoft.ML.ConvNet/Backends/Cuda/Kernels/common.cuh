// Shared definitions, prepended to every kernel file before NVRTC compiles it (no system headers are needed).
// Kernels index with long long and use grid-stride loops, so any launch size covers any tensor size.

#define GRID_STRIDE_LOOP(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

// Up to eight dimensions or strides, passed by value.
struct Dims8
{
    int v[8];
};

// Sum across a warp; lane 0 holds the result.
__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1)
    {
        v += __shfl_down_sync(0xffffffffu, v, o);
    }
    return v;
}

// Sum across the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ float block_sum(float v)
{
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0)
    {
        partial[warp] = v;
    }
    __syncthreads();
    if (warp == 0)
    {
        int warps = (blockDim.x + 31) >> 5;
        float w = lane < warps ? partial[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0)
        {
            total = w;
        }
    }
    __syncthreads();
    return total;
}

// Maximum that propagates NaN (the first NaN wins, as on the CPU).
__device__ __forceinline__ float nan_max(float a, float b)
{
    return (a != a || a >= b) ? a : b;
}

__device__ __forceinline__ float nan_min(float a, float b)
{
    return (a != a || a <= b) ? a : b;
}
