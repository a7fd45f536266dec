"""Deterministic, seedless weights shared by PyTorch fixtures and the .NET tests.

Every value comes from an integer hash (splitmix64) of the tensor's name and the element index, so both sides
compute bit-identical float32 weights without storing them. Used to compare whole networks (logits) with
torchvision without committing hundreds of megabytes of weights. The .NET twin is
Microsoft.ML.ConvNet.Tests/Infrastructure/DeterministicWeights.cs; keep them in step.
"""
import math

import numpy as np
import torch

M64 = (1 << 64) - 1


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(name, count):
    """count values in [0, 1), multiples of 2^-24 (exact in float32)."""
    seed = fnv1a32(name) << 32
    i = np.arange(count, dtype=np.uint64)
    x = (np.uint64(seed) + i + np.uint64(0x9E3779B97F4A7C15))
    with np.errstate(over="ignore"):
        z = x
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def values(name, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform(name, n)
    if name.endswith("num_batches_tracked"):
        v = np.zeros(n)
    elif name.endswith("running_var"):
        v = 1.0 + 0.5 * u
    elif name.endswith("running_mean"):
        v = 0.1 * (2 * u - 1)
    elif len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        v = math.sqrt(6.0 / fan_in) * (2 * u - 1)
    elif name.endswith("weight"):
        v = 1.0 + 0.1 * (2 * u - 1)
    else:
        v = 0.1 * (2 * u - 1)
    return v.astype(np.float32).reshape(shape)


def fill(model):
    """Overwrites every parameter and buffer of a torch module with the deterministic values."""
    with torch.no_grad():
        for name, t in list(model.state_dict(keep_vars=True).items()):
            t.copy_(torch.from_numpy(values(name, tuple(t.shape))).to(t.dtype))
    return model


def input_tensor(shape):
    return torch.from_numpy((2 * uniform("input", int(np.prod(shape))) - 1).astype(np.float32).reshape(shape))


def write_keys(out_dir, name, model):
    """<name>.keys.txt: torchvision's state-dict entries, one "key d0,d1,..." line each, sorted by key."""
    import os
    lines = sorted(k + " " + ",".join(str(d) for d in v.shape) for k, v in model.state_dict().items())
    with open(os.path.join(out_dir, name + ".keys.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_logits(out_dir, name, input_shape, logits):
    """<name>.logits.json: {"model", "input": input shape, "shape": logits shape, "data": flat logits (9 digits)}."""
    import json
    import os
    data = {"model": name, "input": list(input_shape), "shape": list(logits.shape),
            "data": [float("%.9g" % v) for v in logits.flatten().tolist()]}
    with open(os.path.join(out_dir, name + ".logits.json"), "w") as f:
        json.dump(data, f)
        f.write("\n")
