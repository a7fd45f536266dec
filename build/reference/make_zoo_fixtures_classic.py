"""Reference fixtures for the classic CNN zoo (AlexNet, VGG, GoogLeNet, Inception v3, SqueezeNet).

Writes to Microsoft.ML.ConvNet.Tests/Fixtures/zoo/:
  <name>.keys.txt     torchvision 0.14's state_dict keys with shapes ("key d0,d1,..." per line, sorted by key)
  <name>.logits.json  eval-mode logits of the model filled with zoo_weights.fill on zoo_weights.input_tensor
and prints the parameter counts (1000 and 10 classes) that the tests paste in.
Run with Debian's python3 (torch 1.13, torchvision 0.14): /usr/bin/python3 build/reference/make_zoo_fixtures_classic.py
"""
import os
import sys

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_weights  # noqa: E402
from zoo_weights import fill, input_tensor  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Microsoft.ML.ConvNet.Tests", "Fixtures", "zoo")


def build(name, num_classes=1000, **kw):
    if name == "googlenet":
        kw.setdefault("aux_logits", True)
        kw.setdefault("init_weights", False)
    if name == "inception_v3":
        kw.setdefault("aux_logits", True)
        kw.setdefault("init_weights", False)
    return getattr(tvm, name)(weights=None, num_classes=num_classes, **kw)


def write_keys(name, model):
    zoo_weights.write_keys(OUT, name, model)


def write_logits(name, model, shape):
    fill(model)
    model.eval()
    with torch.no_grad():
        y = model(input_tensor(shape))
    zoo_weights.write_logits(OUT, name, shape, y)
    print(f"{name}: logits {tuple(y.shape)} range [{y.min():.4f}, {y.max():.4f}] std {y.std():.4f}")


def count(m):
    return sum(p.numel() for p in m.parameters())


def main():
    os.makedirs(OUT, exist_ok=True)
    names = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
             "googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1"]
    for n in names:
        m = build(n)
        write_keys(n, m)
        c1000 = count(m)
        del m
        c10 = count(build(n, 10))
        print(f"count {n} 1000={c1000} 10={c10}")
    for n in ["googlenet", "inception_v3"]:
        print(f"count {n}_noaux 1000={count(build(n, aux_logits=False))} 10={count(build(n, 10, aux_logits=False))}")
    # Parity: batch 2, the smallest sizes that keep every stage meaningful and the run short.
    write_logits("vgg11", build("vgg11", 10), (2, 3, 32, 32))
    write_logits("googlenet", build("googlenet", 10), (2, 3, 64, 64))
    write_logits("squeezenet1_1", build("squeezenet1_1", 10), (2, 3, 64, 64))


if __name__ == "__main__":
    main()
