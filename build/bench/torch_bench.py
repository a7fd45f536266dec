#!/usr/bin/env python3
"""PyTorch and NumPy side of the benchmark (run with Debian's /usr/bin/python3; build/bench/run.sh runs it).

The same workloads, batch sizes, step counts, options and JSON lines as the .NET side (samples/Benchmarks):
SGEMM through numpy (OpenBLAS), 3x3 convolutions, training and inference throughput (28x28 networks, and
ResNet-18/50, MobileNet-v2 and EfficientNet-B0 at 224x224 with frozen-body fine-tuning), peak memory while training
ResNet-18 and ResNet-50, and the Fashion-MNIST accuracy of the small CNN. Prints {"info": ...} first, then one object per workload.
"""
import argparse
import ctypes
import gzip
import json
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

TRAIN_BATCH = 64
INFER_BATCH = 256
# Fashion-MNIST training-set pixel mean and standard deviation in [0, 1], as in Data/FashionMnist.cs.
PIXEL_MEAN = 0.28604060
PIXEL_STD = 0.35302424


def report(workload, unit, value, higher_is_better, **detail):
    print(json.dumps({"workload": workload, "unit": unit, "value": round(value, 3),
                      "higherIsBetter": higher_is_better, "detail": detail}), flush=True)


def loaded_blas():
    """The BLAS libraries this process has mapped, with OpenBLAS's own configuration and thread count."""
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "blas" in line.rsplit("/", 1)[-1] and ".so" in line})
    info = {"libraries": [os.path.realpath(p) for p in libs]}
    for path in libs:
        lib = ctypes.CDLL(path)
        if hasattr(lib, "openblas_get_config"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas"] = lib.openblas_get_config().decode()
            info["openblasThreads"] = lib.openblas_get_num_threads()
            break
    return info


def machine():
    """CPU model, cores, widest SIMD and kernel, from /proc/cpuinfo."""
    cpu = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        cpu.setdefault(key.strip(), value.strip())
    flags = cpu.get("flags", "").split()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (f"{cpu.get('model name', platform.processor())} (family {cpu.get('cpu family', '?')}, model "
            f"{cpu.get('model', '?')}), {os.cpu_count()} cores, {simd}; {platform.system()} {platform.release()}")


def info(threads):
    a = np.ones((64, 64), np.float32)
    _ = a @ a  # loads the BLAS
    blas = loaded_blas()
    print(json.dumps({"info": {
        "side": "peer", "machine": machine(), "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "numpy": np.__version__, "numpyBlas": blas,
        "threads": torch.get_num_threads(), "requestedThreads": threads,
        "mkldnn": torch.backends.mkldnn.is_available()}}), flush=True)


KERNEL_WARMUP_SECONDS = 1.0  # the same least warm-up as ours (samples/Benchmarks/Report.cs)


def best_ms(fn, warmup, rounds, repeat=1):
    start, done = time.perf_counter(), 0
    while done < warmup or time.perf_counter() - start < KERNEL_WARMUP_SECONDS:
        fn()
        done += 1
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t) / repeat)
    return best * 1e3


# ---- kernels ---------------------------------------------------------------------------------------------------

GEMMS = [("sgemm/256", False, False, 256), ("sgemm/512", False, False, 512), ("sgemm/1024", False, False, 1024),
         ("sgemm/2048", False, False, 2048), ("sgemm/1024-nt", False, True, 1024), ("sgemm/1024-tn", True, False, 1024)]

# name, batch, channels, size, filters, groups; 3x3, stride 1, padding 1, with bias.
CONVS = [("conv3x3", 64, 64, 28, 64, 1), ("depthwise3x3", 64, 128, 28, 128, 128)]


def gemm(a, name, ta, tb, n):
    rng = np.random.default_rng(1)
    x = rng.random((n, n), dtype=np.float32)
    y = rng.random((n, n), dtype=np.float32)
    x, y = (x.T if ta else x), (y.T if tb else y)  # transposed views: numpy passes BLAS the transpose flag
    out = np.empty((n, n), np.float32)
    flop = 2.0 * n ** 3
    repeat = max(1, int(2e8 / flop))
    rounds = a.steps or 30
    ms = best_ms(lambda: np.matmul(x, y, out=out), a.warmup if a.warmup is not None else 3, rounds, repeat)
    report(name, "GFLOP/s", flop / ms / 1e6, True, ms=ms, rounds=rounds, callsPerRound=repeat)


def conv(a, name, batch, channels, size, filters, groups):
    parts = ["forward", "backward-data", "backward-filter", "forward+backward"]
    if not any(selected(a, f"{name}/{p}") for p in parts):
        return
    torch.manual_seed(1)
    x = torch.randn(batch, channels, size, size)
    w = torch.randn(filters, channels // groups, 3, 3) * 0.05
    b = torch.randn(filters)
    dy = torch.randn(batch, filters, size, size)
    gflop = 2.0 * batch * filters * (channels // groups) * 9 * size * size / 1e9
    rounds, warmup = a.steps or 20, a.warmup if a.warmup is not None else 3

    def measure(part, multiple, fn):
        if selected(a, f"{name}/{part}"):
            ms = best_ms(fn, warmup, rounds)
            report(f"{name}/{part}", "GFLOP/s", multiple * gflop / ms * 1e3, True, ms=ms, rounds=rounds, batch=batch)

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, w, [filters], [1, 1], [1, 1], [1, 1], False, [0, 0],
                                                   groups, mask)

    with torch.no_grad():
        measure("forward", 1, lambda: F.conv2d(x, w, b, padding=1, groups=groups))
        measure("backward-data", 1, lambda: backward([True, False, False]))
        measure("backward-filter", 1, lambda: backward([False, True, False]))
    xr, wr, br = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()

    def step():
        F.conv2d(xr, wr, br, padding=1, groups=groups).backward(dy)
        xr.grad = wr.grad = br.grad = None

    measure("forward+backward", 3, step)


# ---- networks --------------------------------------------------------------------------------------------------

def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 120, 5), nn.ReLU(),
        nn.Flatten(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def resnet18():
    """torchvision's ResNet-18 with the small-image stem: 3x3 stride-1 conv1 on one channel, no max-pool."""
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
    nn.init.kaiming_normal_(m.conv1.weight, mode="fan_out", nonlinearity="relu")
    m.maxpool = nn.Identity()
    return m


# name, constructor, timed and warm-up steps for training, then for inference (the .NET side's defaults).
NETWORKS = [("lenet5", lenet5, 100, 20, 40, 5), ("smallcnn", small_cnn, 60, 10, 20, 3),
            ("resnet18", resnet18, 10, 2, 4, 1)]


def train_step(model, batch):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def infer_step(model, batch):
    x = torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    model.eval()

    def step():
        with torch.no_grad():
            model(x)
    return step


def throughput(name, model, batch, steps, warmup, warmup_seconds, step):
    start, done = time.perf_counter(), 0
    while done < warmup or time.perf_counter() - start < warmup_seconds:
        step()
        done += 1
    seconds = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - t)
    report(name, "images/s", steps * batch / sum(seconds), True, batch=batch, steps=steps, warmup=warmup,
           warmupSeconds=warmup_seconds,
           medianImagesPerSecond=round(batch / sorted(seconds)[len(seconds) // 2], 1),
           parameters=sum(p.numel() for p in model.parameters()))


def run_throughput(a):
    for name, ta, tb, n in GEMMS:
        if selected(a, name):
            gemm(a, name, ta, tb, n)
    for c in CONVS:
        conv(a, *c)
    for name, make, train_steps, train_warmup, infer_steps, infer_warmup in NETWORKS:
        train, infer = selected(a, f"train/{name}"), selected(a, f"infer/{name}")
        if not (train or infer):
            continue
        torch.manual_seed(0)
        model = make()
        if train:
            throughput(f"train/{name}", model, TRAIN_BATCH, a.steps or train_steps,
                       a.warmup if a.warmup is not None else train_warmup, a.warmup_seconds, train_step(model, TRAIN_BATCH))
        if infer:
            throughput(f"infer/{name}", model, INFER_BATCH, a.steps or infer_steps,
                       a.warmup if a.warmup is not None else infer_warmup, a.warmup_seconds, infer_step(model, INFER_BATCH))


# ---- 224x224x3 networks (samples/Benchmarks/ImageNetBenchmarks.cs) ---------------------------------------------

SIZE = 224
TRAIN_BATCH_224 = 32
# name, timed and warm-up training steps; inference: batch, timed and warm-up steps.
TRAINED_224 = [("resnet18", 3, 1), ("resnet50", 2, 1), ("mobilenet_v2", 3, 1)]
INFERRED_224 = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0"]
INFER_BATCHES_224 = [(1, 10, 3), (32, 3, 1)]


def zoo(name, classes=1000):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(num_classes=classes)


def images(batch, seed):
    return torch.randn(batch, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def sgd_step(model, batch, classes):
    """One SGD step (lr 0.01, momentum 0.9) with cross-entropy on a fixed random batch."""
    x = images(batch, 1)
    y = torch.randint(0, classes, (batch,), generator=torch.Generator().manual_seed(1))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def run_224(a):
    for name, steps, warmup in TRAINED_224:
        workload = f"train224/{name}"
        if selected(a, workload):
            model = zoo(name)
            model.train()
            throughput(workload, model, TRAIN_BATCH_224, a.steps or steps, a.warmup if a.warmup is not None else warmup,
                       a.warmup_seconds, sgd_step(model, TRAIN_BATCH_224, 1000))
    for name in INFERRED_224:
        for batch, steps, warmup in INFER_BATCHES_224:
            workload = f"infer224/{name}/b{batch}"
            if not selected(a, workload):
                continue
            model = zoo(name).eval()
            x = images(batch, 2)

            def step():
                with torch.no_grad():
                    model(x)
            throughput(workload, model, batch, a.steps or steps, a.warmup if a.warmup is not None else warmup,
                       a.warmup_seconds, step)
    finetune(a)


def finetune(a):
    """ResNet-18, new 10-class head, body frozen (no gradients, batch norms in eval): SGD steps against inference."""
    name = "finetune224/resnet18"
    if not selected(a, name):
        return
    model = zoo("resnet18", 10)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.fc.parameters():
        p.requires_grad_(True)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    steps, warmup = a.steps or 3, a.warmup if a.warmup is not None else 1
    train_step = sgd_step(model, TRAIN_BATCH_224, 10)
    x = images(TRAIN_BATCH_224, 1)

    def infer_step():
        with torch.no_grad():
            model(x)

    def seconds(step):
        start, done = time.perf_counter(), 0
        while done < warmup or time.perf_counter() - start < a.warmup_seconds:
            step()
            done += 1
        t = time.perf_counter()
        for _ in range(steps):
            step()
        return time.perf_counter() - t

    train = infer = 0.0
    for _ in range(2):  # alternated, as on the .NET side
        model.train()
        for m in bns:
            m.eval()
        train += seconds(train_step)
        model.eval()
        infer += seconds(infer_step)
    detail = dict(batch=TRAIN_BATCH_224, steps=2 * steps, warmup=warmup,
                  inferenceImagesPerSecond=round(2 * steps * TRAIN_BATCH_224 / infer, 1),
                  parameters=sum(p.numel() for p in model.parameters()),
                  trainableParameters=sum(p.numel() for p in model.parameters() if p.requires_grad))
    report(name, "images/s", 2 * steps * TRAIN_BATCH_224 / train, True, **detail)
    report(name + "/over-inference", "× inference time", train / infer, False, **detail)


def run_memory_224(a):
    name = "memory/resnet50-224-train"
    if not selected(a, name):
        return
    baseline = proc_status_mib("VmHWM")
    model = zoo("resnet50")
    model.train()
    peak_memory(name, baseline, sgd_step(model, TRAIN_BATCH_224, 1000), a.steps or 2, TRAIN_BATCH_224)


def peak_memory(name, baseline, step, steps, batch):
    """Runs a training step `steps` times and reports the peak resident set and its growth over `baseline`."""
    for _ in range(steps):
        step()
    peak = proc_status_mib("VmHWM")
    report(name, "MiB", peak, False, steps=steps, batch=batch, baselineMiB=round(baseline, 1))
    report(name + "-growth", "MiB", peak - baseline, False, steps=steps, batch=batch)


def proc_status_mib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field} line")


def run_memory(a):
    name = "memory/resnet18-train"
    if not selected(a, name):
        return
    baseline = proc_status_mib("VmHWM")
    torch.manual_seed(0)
    peak_memory(name, baseline, train_step(resnet18(), TRAIN_BATCH), a.steps or 5, TRAIN_BATCH)


# ---- accuracy --------------------------------------------------------------------------------------------------

def load_idx(folder, name):
    with gzip.open(os.path.join(folder, name + ".gz")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(folder, split):
    images = load_idx(folder, f"{split}-images-idx3-ubyte").astype(np.float32) / 255
    labels = load_idx(folder, f"{split}-labels-idx1-ubyte").astype(np.int64)
    x = torch.from_numpy((images - PIXEL_MEAN) / PIXEL_STD).unsqueeze(1)
    return x, torch.from_numpy(labels)


def run_accuracy(a):
    name = "accuracy/smallcnn"
    if not selected(a, name):
        return
    train_x, train_y = fashion_mnist(a.data_dir, "train")
    test_x, test_y = fashion_mnist(a.data_dir, "t10k")
    torch.manual_seed(a.seed)
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    shuffle = torch.Generator().manual_seed(a.seed)
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        model.train()
        order = torch.randperm(len(train_y), generator=shuffle)
        for i in range(0, len(order), TRAIN_BATCH):  # the last, smaller batch is kept
            idx = order[i:i + TRAIN_BATCH]
            opt.zero_grad()
            F.cross_entropy(model(train_x[idx]), train_y[idx]).backward()
            opt.step()
        sched.step()
    train_seconds = time.perf_counter() - t0
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(test_y), INFER_BATCH):
            correct += (model(test_x[i:i + INFER_BATCH]).argmax(1) == test_y[i:i + INFER_BATCH]).sum().item()
    report(name, "% test accuracy", 100 * correct / len(test_y), True, epochs=a.epochs, seed=a.seed,
           trainSeconds=round(train_seconds, 1), testImages=len(test_y))


def selected(a, workload):
    return not a.only or any(workload.startswith(p) for p in a.only)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["throughput", "memory", "accuracy"], default="throughput")
    p.add_argument("--only", type=lambda s: [x.strip() for x in s.split(",") if x.strip()], default=[],
                   help="run only the workloads whose names start with one of these comma-separated prefixes")
    p.add_argument("--steps", type=int, help="timed iterations of every workload (default: per workload)")
    p.add_argument("--warmup", type=int, help="untimed iterations before them (default: per workload)")
    p.add_argument("--warmup-seconds", type=float, default=10.0,
                   help="whole networks also run untimed steps for at least this long (default 10)")
    p.add_argument("--epochs", type=int, default=5, help="epochs of the accuracy run")
    p.add_argument("--seed", type=int, default=1, help="seed of the accuracy run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=os.path.join(here, "..", "..", "samples", "data", "fashion-mnist"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    info(a.threads)
    if a.mode == "throughput":
        run_throughput(a)
        run_224(a)
    elif a.mode == "memory":
        run_memory(a)
        run_memory_224(a)
    else:
        run_accuracy(a)


if __name__ == "__main__":
    main()
