"""Writes safetensors files of small PyTorch models and their expected outputs, for the .NET loader's tests.

The files are written by hand (the format is an 8-byte little-endian header length, a JSON header and the raw
little-endian data), laid out as the reference writer lays them out: header keys sorted by name with a
"__metadata__" entry, the data ordered by element alignment then name, the header padded with spaces to a multiple
of 8 bytes. Outputs go to Microsoft.ML.ConvNet.Tests/Fixtures/safetensors/:

- lenet5.safetensors / lenet5.json: the zoo's LeNet-5 (nn.Sequential, 10 classes, 28x28 input padded to 32); the
  C5 weight "6.weight" is stored as BF16, everything else as F32.
- bn_net.safetensors / bn_net.json: conv (no bias) -> batch norm -> ReLU -> max pool -> flatten -> linear, with
  running statistics, num_batches_tracked as I64 (as PyTorch keeps it), "5.weight" as F16 and "1.bias" as F64.

Each JSON holds {"input": {"shape", "data"}, "output": {"shape", "data"}}: eval-mode output in float64 from the very
float32 weights stored in the file (a BF16/F16 tensor is rounded first, then used by the model).
Run with Debian's PyTorch: /usr/bin/python3 build/reference/make_safetensors_fixture.py
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Microsoft.ML.ConvNet.Tests", "Fixtures", "safetensors")
SIZES = {"F64": 8, "I64": 8, "F32": 4, "F16": 2, "BF16": 2}


def encode(t, dtype):
    """Raw little-endian bytes of tensor t in dtype, and the float32 tensor those bytes stand for."""
    t = t.detach().contiguous()
    if dtype == "F32":
        return t.float().numpy().astype("<f4").tobytes(), t.float()
    if dtype == "F16":
        h = t.half()
        return h.numpy().astype("<f2").tobytes(), h.float()
    if dtype == "BF16":
        b = t.to(torch.bfloat16)
        return b.view(torch.int16).numpy().astype("<i2").tobytes(), b.float()
    if dtype == "F64":
        return t.double().numpy().astype("<f8").tobytes(), t.double().float()
    if dtype == "I64":
        return t.long().numpy().astype("<i8").tobytes(), t
    raise ValueError(dtype)


def write_safetensors(path, model, dtypes):
    """Writes model's state dict; dtypes overrides the element type of some entries (default F32, I64 for integers)."""
    entries = {}
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            dtype = dtypes.get(name, "I64" if not t.dtype.is_floating_point else "F32")
            data, stored = encode(t, dtype)
            if t.dtype.is_floating_point:
                t.copy_(stored)  # the model computes with exactly what the file holds
            entries[name] = (dtype, list(t.shape), data)
    order = sorted(entries, key=lambda n: (-SIZES[entries[n][0]], n))
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in order:
        dtype, shape, data = entries[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(dict(sorted(header.items())), separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return os.path.getsize(path)


def f32_list(t):
    return [float(np.float32(v)) for v in t.detach().reshape(-1).tolist()]


def case(name, model, x, dtypes):
    model.eval()
    size = write_safetensors(os.path.join(OUT, name + ".safetensors"), model, dtypes)
    with torch.no_grad():
        y = model.double()(x.double())
    doc = {
        "input": {"shape": list(x.shape), "data": f32_list(x)},
        "output": {"shape": list(y.shape), "data": [float("%.9g" % v) for v in y.reshape(-1).tolist()]},
    }
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{name}: {size} bytes of safetensors, output {list(y.shape)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240611)
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    case("lenet5", lenet, torch.rand(2, 1, 28, 28), {"6.weight": "BF16"})

    bn_net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    with torch.no_grad():
        bn = bn_net[1]
        bn.weight.copy_(1 + 0.2 * torch.randn(8))
        bn.bias.copy_(0.1 * torch.randn(8))
        bn.running_mean.copy_(0.1 * torch.randn(8))
        bn.running_var.copy_(0.5 + torch.rand(8))
        bn.num_batches_tracked.fill_(7)
    case("bn_net", bn_net, torch.randn(2, 3, 8, 8), {"5.weight": "F16", "1.bias": "F64"})


if __name__ == "__main__":
    main()
