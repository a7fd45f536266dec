// Reductions, arg-max, column gather/scatter. One block reduces one output unless noted; block sizes adapt to the
// reduced length (a multiple of 32, at most 256).

// ReduceOp values (must match Microsoft.ML.ConvNet.Backends.ReduceOp).
#define REDUCE_SUM 0
#define REDUCE_MEAN 1
#define REDUCE_MAX 2
#define REDUCE_MIN 3

// y[k] = sum of x over the reduced axes. keptDims/keptStride address y's element in x (dims of 1 where reduced),
// redDims/redStride walk the reduced axes. One block per y element.
extern "C" __global__ void sum_to(const float* x, float* y, int rank, Dims8 keptDims, Dims8 keptStride, Dims8 redDims,
    Dims8 redStride, long long redCount, long long yCount)
{
    for (long long k = blockIdx.x; k < yCount; k += gridDim.x)
    {
        long long rem = k, base = 0;
        for (int a = rank - 1; a >= 0; --a)
        {
            long long q = rem / keptDims.v[a];
            base += (rem - q * keptDims.v[a]) * (long long)keptStride.v[a];
            rem = q;
        }
        float acc = 0.0f;
        for (long long r = threadIdx.x; r < redCount; r += blockDim.x)
        {
            long long rr = r, off = 0;
            for (int a = rank - 1; a >= 0; --a)
            {
                long long q = rr / redDims.v[a];
                off += (rr - q * redDims.v[a]) * (long long)redStride.v[a];
                rr = q;
            }
            acc += x[base + off];
        }
        acc = block_sum(acc);
        if (threadIdx.x == 0)
        {
            y[k] = acc;
        }
    }
}

// x viewed as [outer, axis, inner] reduced along axis into y [outer, inner]; one block per output.
extern "C" __global__ void reduce_axis(int op, const float* x, float* y, long long outer, long long axis, long long inner)
{
    __shared__ float partial[256];
    long long outputs = outer * inner;
    for (long long o = blockIdx.x; o < outputs; o += gridDim.x)
    {
        long long i = o / inner;
        long long j = o - i * inner;
        const float* row = x + i * axis * inner + j;
        if (op == REDUCE_SUM || op == REDUCE_MEAN)
        {
            float acc = 0.0f;
            for (long long a = threadIdx.x; a < axis; a += blockDim.x)
            {
                acc += row[a * inner];
            }
            acc = block_sum(acc);
            if (threadIdx.x == 0)
            {
                y[o] = op == REDUCE_MEAN ? acc / (float)axis : acc;
            }
        }
        else
        {
            bool isMax = op == REDUCE_MAX;
            float acc = row[0];
            for (long long a = threadIdx.x; a < axis; a += blockDim.x)
            {
                float v = row[a * inner];
                acc = isMax ? nan_max(acc, v) : nan_min(acc, v);
            }
            __syncthreads();
            partial[threadIdx.x] = acc;
            __syncthreads();
            for (int s = blockDim.x / 2; s > 0; s >>= 1)
            {
                if ((int)threadIdx.x < s)
                {
                    float other = partial[threadIdx.x + s];
                    partial[threadIdx.x] = isMax ? nan_max(partial[threadIdx.x], other) : nan_min(partial[threadIdx.x], other);
                }
                __syncthreads();
            }
            if (threadIdx.x == 0)
            {
                y[o] = partial[0];
            }
        }
    }
}

// dx = dy at the first element of each row equal to the row's extremum y (NaN matches NaN), 0 elsewhere.
extern "C" __global__ void reduce_extremum_backward(const float* x, const float* y, const float* dy, float* dx,
    long long outer, long long axis, long long inner)
{
    GRID_STRIDE_LOOP(o, outer * inner)
    {
        long long i = o / inner;
        long long j = o - i * inner;
        long long base = i * axis * inner + j;
        float target = y[o];
        bool nanTarget = target != target;
        bool found = false;
        for (long long a = 0; a < axis; a++)
        {
            float v = x[base + a * inner];
            bool hit = !found && (v == target || (nanTarget && v != v));
            dx[base + a * inner] = hit ? dy[o] : 0.0f;
            found = found || hit;
        }
    }
}

// Index of the first maximum along axis (a NaN counts as the maximum).
extern "C" __global__ void argmax(const float* x, int* result, long long outer, long long axis, long long inner)
{
    GRID_STRIDE_LOOP(o, outer * inner)
    {
        long long i = o / inner;
        long long j = o - i * inner;
        const float* row = x + i * axis * inner + j;
        float best = row[0];
        int arg = 0;
        for (long long a = 1; a < axis; a++)
        {
            float v = row[a * inner];
            if (best == best && (v > best || v != v))
            {
                best = v;
                arg = (int)a;
            }
        }
        result[o] = arg;
    }
}

// y[n] = x[n, index[n]] for x [N, C].
extern "C" __global__ void gather_columns(const float* x, const int* index, float* y, int n, int c)
{
    GRID_STRIDE_LOOP(i, n)
    {
        y[i] = x[i * (long long)c + index[i]];
    }
}

// dx[n, index[n]] = dy[n] (dx zeroed beforehand).
extern "C" __global__ void scatter_columns(const float* dy, const int* index, float* dx, int n, int c)
{
    GRID_STRIDE_LOOP(i, n)
    {
        dx[i * (long long)c + index[i]] = dy[i];
    }
}
