# NumPy/OpenBLAS reference for `Bench gemm`: C = A·B in float32, best of many runs.
import time
import numpy as np
for n in (256, 512, 1024):
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    for _ in range(3):
        a @ b
    reps = max(1, int(2e8 / (2 * n ** 3)))
    best = 1e9
    for _ in range(30):
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, (time.perf_counter() - t) / reps)
    print(f"numpy NN {n}x{n}x{n}: {best * 1e3:.3f} ms, {2 * n ** 3 / best / 1e9:.1f} GFLOP/s")
