#!/usr/bin/env python3
"""PyTorch side of the training/inference throughput benchmark (run with Debian's /usr/bin/python3).

Same networks, batch sizes, thread count and step counts as the .NET benchmark (samples/Benchmarks).
Prints one JSON object per workload on stdout.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


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


MODELS = {"lenet5": lenet5, "smallcnn": small_cnn}


def train_throughput(model, batch, steps, warmup):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def infer_throughput(model, batch, steps, warmup):
    x = torch.randn(batch, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        for i in range(warmup + steps):
            if i == warmup:
                t0 = time.perf_counter()
            model(x)
    return steps * batch / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--models", default="lenet5,smallcnn")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name in a.models.split(","):
        m = MODELS[name]()
        print(json.dumps({"workload": f"train/{name}", "batch": 64,
                          "imagesPerSecond": train_throughput(m, 64, a.steps, a.warmup)}), flush=True)
        print(json.dumps({"workload": f"infer/{name}", "batch": 256,
                          "imagesPerSecond": infer_throughput(m, 256, max(a.steps // 4, 10), 3)}), flush=True)


if __name__ == "__main__":
    main()
