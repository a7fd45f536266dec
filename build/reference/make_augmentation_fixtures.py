#!/usr/bin/env python3
"""Reference values for the augmentation, soft-target loss and learning-rate schedule tests.

Writes two JSON files into Microsoft.ML.ConvNet.Tests/Fixtures/ (the tests never run Python):
  augmentation.json  OpenCV 4 (python3-opencv): cv2.warpAffine (INTER_LINEAR) with BORDER_CONSTANT / BORDER_REFLECT_101 /
                     BORDER_REPLICATE for rotations and general affine maps, cv2.resize (INTER_LINEAR) of cropped regions,
                     cv2.GaussianBlur (BORDER_REFLECT_101), on smooth float32 images [C, H, W] of odd sizes.
  schedules.json     PyTorch (python3-torch): torch.optim.lr_scheduler CosineAnnealingLR, OneCycleLR, LinearLR followed
                     by CosineAnnealingLR (SequentialLR), ReduceLROnPlateau over a metric sequence, and
                     F.cross_entropy with probability targets (loss and gradient).
Run from the repository root: /usr/bin/python3 build/reference/make_augmentation_fixtures.py
"""
import json
import math
import os

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Microsoft.ML.ConvNet.Tests", "Fixtures")


def smooth_image(c, h, w, seed):
    """Values in [0, 1] built from low-frequency sines, so OpenCV's 1/32-pixel coordinate rounding moves them little."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((c, h, w))
    for ch in range(c):
        for _ in range(3):
            fx, fy, ph = rng.uniform(0.05, 0.25), rng.uniform(0.05, 0.25), rng.uniform(0, 6.28)
            img[ch] += np.sin(fx * x + fy * y + ph)
        img[ch] = (img[ch] - img[ch].min()) / (img[ch].max() - img[ch].min())
    return img.astype(np.float32)


def to_hwc(img):
    return np.ascontiguousarray(np.transpose(img, (1, 2, 0)))


def to_chw(img):
    if img.ndim == 2:
        img = img[:, :, None]
    return np.ascontiguousarray(np.transpose(img, (2, 0, 1)))


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


BORDERS = {"Constant": cv2.BORDER_CONSTANT, "Reflect101": cv2.BORDER_REFLECT_101, "Replicate": cv2.BORDER_REPLICATE}


def warp_cases():
    cases = []
    shapes = [(1, 17, 13), (3, 12, 15)]
    for si, (c, h, w) in enumerate(shapes):
        img = smooth_image(c, h, w, 10 + si)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        matrices = {
            "rotate17": cv2.getRotationMatrix2D((cx, cy), 17.0, 1.0),
            "rotate-40-scale0.8": cv2.getRotationMatrix2D((cx, cy), -40.0, 0.8),
            "affine-shear": np.array([[1.1, 0.3, -2.25], [-0.15, 0.9, 1.5]]),
        }
        for mname, m in matrices.items():
            for bname, border in BORDERS.items():
                fill = 0.25 if border == cv2.BORDER_CONSTANT else 0.0
                out = cv2.warpAffine(to_hwc(img), m.astype(np.float64), (w, h), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=(fill, fill, fill, fill))
                cases.append({"name": f"warp-{mname}-{bname}-{c}x{h}x{w}", "op": "warpAffine", "shape": [c, h, w], "matrix": flat(np.asarray(m).reshape(-1)) if False else [float(v) for v in np.asarray(m, dtype=np.float64).reshape(-1)],
                              "border": bname, "fill": fill, "input": flat(img), "output": flat(to_chw(out))})
    return cases


def resize_cases():
    cases = []
    for si, (c, h, w, region, out_hw) in enumerate([
        (1, 20, 20, (3, 5, 11, 9), (20, 20)),
        (3, 16, 18, (0, 0, 18, 16), (11, 7)),
        (2, 28, 28, (6, 2, 17, 23), (28, 28)),
    ]):
        img = smooth_image(c, h, w, 30 + si)
        left, top, rw, rh = region
        crop = to_hwc(img)[top:top + rh, left:left + rw]
        out = cv2.resize(crop, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_LINEAR)
        cases.append({"name": f"resize-{c}x{h}x{w}-to-{out_hw[0]}x{out_hw[1]}", "op": "resize", "shape": [c, h, w], "region": list(region),
                      "outShape": list(out_hw), "input": flat(img), "output": flat(to_chw(out))})
    return cases


def blur_cases():
    cases = []
    for si, (c, h, w, k, sigma) in enumerate([(1, 15, 11, 3, 0.8), (3, 10, 12, 5, 1.3), (1, 28, 28, 7, 2.0)]):
        img = smooth_image(c, h, w, 50 + si)
        # Blur a sharper image too: add a checkerboard so that the kernel matters.
        img = img + 0.5 * ((np.indices((h, w)).sum(axis=0) % 2).astype(np.float32))[None]
        out = cv2.GaussianBlur(to_hwc(img), (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)
        cases.append({"name": f"blur-k{k}-s{sigma}-{c}x{h}x{w}", "op": "gaussianBlur", "shape": [c, h, w], "kernel": k, "sigma": sigma,
                      "input": flat(img), "output": flat(to_chw(out))})
    return cases


class Dummy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))


def lrs(scheduler, optimizer, steps, metrics=None):
    values = [optimizer.param_groups[0]["lr"]]
    for i in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        values.append(optimizer.param_groups[0]["lr"])
    return values


def schedule_cases():
    cases = []

    def opt(lr):
        return torch.optim.SGD(Dummy().parameters(), lr=lr)

    o = opt(0.1)
    cases.append({"name": "cosine-T10", "kind": "cosine", "lr": 0.1, "tMax": 10, "etaMin": 0.0,
                  "values": lrs(torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10), o, 10)})
    o = opt(0.05)
    cases.append({"name": "cosine-T7-min", "kind": "cosine", "lr": 0.05, "tMax": 7, "etaMin": 0.001,
                  "values": lrs(torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001), o, 7)})
    for total, pct, three in [(100, 0.3, False), (37, 0.25, False), (50, 0.3, True)]:
        o = opt(0.01)
        s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=total, pct_start=pct, three_phase=three, cycle_momentum=False)
        cases.append({"name": f"onecycle-{total}-{pct}{'-three' if three else ''}", "kind": "onecycle", "maxLr": 0.01, "totalSteps": total, "pctStart": pct,
                      "threePhase": three, "values": lrs(s, o, total - 1)})
    for warm, start, tmax in [(5, 0.1, 20), (3, 0.25, 6)]:
        o = opt(0.02)
        warmup = torch.optim.lr_scheduler.LinearLR(o, start_factor=start, end_factor=1.0, total_iters=warm)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=tmax)
        s = torch.optim.lr_scheduler.SequentialLR(o, [warmup, cosine], milestones=[warm])
        cases.append({"name": f"warmup{warm}-cosine{tmax}", "kind": "warmup-cosine", "lr": 0.02, "warmup": warm, "startFactor": start, "tMax": tmax,
                      "values": lrs(s, o, warm + tmax)})
    metrics = [1.0, 0.9, 0.85, 0.86, 0.85, 0.849995, 0.87, 0.8, 0.8, 0.81, 0.82, 0.83, 0.79, 0.79, 0.795, 0.80, 0.81, 0.82, 0.6, 0.6]
    for mode, factor, patience, cooldown, min_lr in [("min", 0.5, 2, 0, 0.0), ("min", 0.1, 1, 2, 0.002), ("max", 0.5, 1, 0, 0.0)]:
        o = opt(0.1)
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode=mode, factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr)
        cases.append({"name": f"plateau-{mode}-{factor}-{patience}-{cooldown}-{min_lr}", "kind": "plateau", "lr": 0.1, "mode": mode, "factor": factor,
                      "patience": patience, "cooldown": cooldown, "minLr": min_lr, "metrics": metrics, "values": lrs(s, o, len(metrics), metrics)})
    return cases


def soft_ce_cases():
    cases = []
    rng = np.random.RandomState(3)
    for n, c in [(4, 5), (7, 10)]:
        logits = torch.tensor(rng.normal(0, 2, (n, c)).astype(np.float32), requires_grad=True)
        t = rng.uniform(0, 1, (n, c)).astype(np.float32)
        t /= t.sum(axis=1, keepdims=True)
        targets = torch.tensor(t)
        for reduction in ["mean", "sum"]:
            if logits.grad is not None:
                logits.grad = None
            loss = F.cross_entropy(logits, targets, reduction=reduction)
            loss.backward()
            cases.append({"name": f"soft-ce-{n}x{c}-{reduction}", "shape": [n, c], "reduction": reduction, "logits": flat(logits.detach()),
                          "targets": flat(targets), "loss": float(loss), "grad": flat(logits.grad)})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    aug = {"generator": f"OpenCV {cv2.__version__}", "cases": warp_cases() + resize_cases() + blur_cases()}
    with open(os.path.join(OUT, "augmentation.json"), "w", encoding="utf-8") as f:
        json.dump(aug, f, separators=(",", ":"))
    sch = {"generator": f"PyTorch {torch.__version__}", "schedules": schedule_cases(), "softCrossEntropy": soft_ce_cases()}
    with open(os.path.join(OUT, "schedules.json"), "w", encoding="utf-8") as f:
        json.dump(sch, f, separators=(",", ":"))
    print("wrote augmentation.json and schedules.json into", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
