#!/usr/bin/env python3
"""PyTorch side of the GPU benchmark: ResNet-18 training and inference throughput on one CUDA device.

Workloads (the same as `dotnet run --project samples/Benchmarks -- --mode gpu`):
  resnet18-224: ImageNet-style ResNet-18 (7x7 stem, max pool, 1000 classes), 3x224x224, batch 128
  resnet18-32:  CIFAR-style ResNet-18 (3x3 stride-1 stem, no max pool, 10 classes), 3x32x32, batch 256
each in three precisions:
  fp32: float32 everywhere, TF32 off (cuBLAS and cuDNN)
  tf32: float32 tensors, TF32 tensor-core math allowed for GEMMs and convolutions
  bf16: autocast to bfloat16 (convolutions and GEMMs), float32 master weights, TF32 allowed elsewhere
Training is SGD (lr 0.01, momentum 0.9) on cross-entropy with synthetic data; inference is eval mode without
gradients. NCHW memory layout, cudnn.benchmark on (both sides pick convolution algorithms by timing them).
Prints one JSON object per workload: {"workload": "train/resnet18-224/fp32", "batch": 128, "imagesPerSecond": ...}.
Needs PyTorch with CUDA (2.11 was the reference) and torchvision.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torchvision


def resnet18(small_input):
    if not small_input:
        return torchvision.models.resnet18(num_classes=1000)
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


WORKLOADS = [("resnet18-224", False, 224, 128), ("resnet18-32", True, 32, 256)]


def set_precision(precision):
    tf32 = precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def autocast(precision):
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16")


def train_throughput(model, size, batch, classes, precision, steps, warmup):
    dev = torch.device("cuda")
    x = torch.randn(batch, 3, size, size, device=dev)
    y = torch.randint(0, classes, (batch,), device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast(precision):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


@torch.no_grad()
def infer_throughput(model, size, batch, precision, steps, warmup):
    x = torch.randn(batch, 3, size, size, device="cuda")
    model.eval()
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        with autocast(precision):
            model(x)
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--precisions", default="fp32,tf32,bf16")
    p.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS))
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    for name, small, size, batch in WORKLOADS:
        if name not in a.workloads.split(","):
            continue
        classes = 10 if small else 1000
        for precision in a.precisions.split(","):
            set_precision(precision)
            model = resnet18(small).cuda()
            ips = train_throughput(model, size, batch, classes, precision, a.steps, a.warmup)
            print(json.dumps({"workload": f"train/{name}/{precision}", "batch": batch, "imagesPerSecond": round(ips, 1)}), flush=True)
            ips = infer_throughput(model, size, batch, precision, a.steps, a.warmup)
            print(json.dumps({"workload": f"infer/{name}/{precision}", "batch": batch, "imagesPerSecond": round(ips, 1)}), flush=True)
            del model
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
