# PyTorch reference for `Bench conv`: Conv2d 3x3 64->64 28x28, best of many runs. THREADS=1 for one core.
import os, sys, time
import torch
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
x = torch.randn(n, 64, 28, 28)
w = torch.randn(64, 64, 3, 3) * 0.05
b = torch.randn(64)
dy = torch.randn(n, 64, 28, 28)

def best_ms(f):
    for _ in range(3):
        f()
    best = 1e9
    for _ in range(rounds):
        t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
    return best * 1e3

with torch.no_grad():
    fwd = best_ms(lambda: torch.nn.functional.conv2d(x, w, b, padding=1))
    bd = best_ms(lambda: torch.ops.aten.convolution_backward(dy, x, w, [64], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, False, False]))
    bf = best_ms(lambda: torch.ops.aten.convolution_backward(dy, x, w, [64], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [False, True, True]))
xr, wr, br = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
def step():
    torch.nn.functional.conv2d(xr, wr, br, padding=1).backward(dy)
    xr.grad = wr.grad = br.grad = None
both = best_ms(step)
print(f"torch N={n}: forward {fwd:.2f} ms, backward-data {bd:.2f} ms, backward-filter+bias {bf:.2f} ms, forward+backward (autograd, with bias) {both:.2f} ms")
