"""Reference fixtures for the efficient architectures of the model zoo (MobileNet v1/v2/v3, ShuffleNet v2,
EfficientNet-B0, Xception).

Writes into Microsoft.ML.ConvNet.Tests/Fixtures/zoo/:
  <name>.keys.txt     one line per state-dict entry, "name d0,d1,..." (torchvision's order), 1000 classes
  <name>.logits.json  eval-mode logits of the deterministic weights (zoo_weights.fill) on the deterministic input
and prints the parameter counts (1000 and 10 classes) that the tests hard-code.

torchvision 0.14 has neither MobileNet v1 nor Xception; they are built here in PyTorch exactly as the library builds
them (MobileNet v1: Howard et al. 2017, width 1.0; Xception: Chollet 2017 as in the Cadene/timm implementation), so
the parameter counts (4.23M and 22.86M for 1000 classes) and state-dict names are checked against an independent
PyTorch build.

Run with Debian's PyTorch: /usr/bin/python3 build/reference/make_zoo_fixtures_mobile.py
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_weights  # noqa: E402
from zoo_weights import fill, input_tensor  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Microsoft.ML.ConvNet.Tests", "Fixtures", "zoo")


# ---- MobileNet v1 (Howard et al. 2017) ----------------------------------------------------------------------------

class DepthwiseSeparableConv(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        self.depthwise = nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False)
        self.bn1 = nn.BatchNorm2d(inp)
        self.pointwise = nn.Conv2d(inp, oup, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(oup)

    def forward(self, x):
        x = torch.relu(self.bn1(self.depthwise(x)))
        return torch.relu(self.bn2(self.pointwise(x)))


V1_BLOCKS = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
    [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]


class MobileNetV1(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))]
        layers += [DepthwiseSeparableConv(i, o, s) for i, o, s in V1_BLOCKS]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1024, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


# ---- Xception (Chollet 2017; Cadene / timm legacy implementation) -------------------------------------------------

class SeparableConv2d(nn.Module):
    def __init__(self, inp, oup, kernel_size=1, stride=1, padding=0, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, inp, kernel_size, stride, padding, dilation, groups=inp, bias=False)
        self.pointwise = nn.Conv2d(inp, oup, 1, 1, 0, 1, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.conv1(x))


class Block(nn.Module):
    def __init__(self, inp, oup, reps, strides=1, start_with_relu=True, grow_first=True):
        super().__init__()
        if oup != inp or strides != 1:
            self.skip = nn.Conv2d(inp, oup, 1, stride=strides, bias=False)
            self.skipbn = nn.BatchNorm2d(oup)
        else:
            self.skip = None
        rep = []
        for i in range(reps):
            if grow_first:
                inc = inp if i == 0 else oup
                outc = oup
            else:
                inc = inp
                outc = inp if i < reps - 1 else oup
            rep.append(nn.ReLU(inplace=True))
            rep.append(SeparableConv2d(inc, outc, 3, stride=1, padding=1))
            rep.append(nn.BatchNorm2d(outc))
        if not start_with_relu:
            rep = rep[1:]
        else:
            rep[0] = nn.ReLU(inplace=False)
        if strides != 1:
            rep.append(nn.MaxPool2d(3, strides, 1))
        self.rep = nn.Sequential(*rep)

    def forward(self, inp):
        x = self.rep(inp)
        skip = self.skipbn(self.skip(inp)) if self.skip is not None else inp
        return x + skip


class Xception(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.block1 = Block(64, 128, 2, 2, start_with_relu=False)
        self.block2 = Block(128, 256, 2, 2)
        self.block3 = Block(256, 728, 2, 2)
        for i in range(4, 12):
            setattr(self, f"block{i}", Block(728, 728, 3, 1))
        self.block12 = Block(728, 1024, 2, 2, grow_first=False)
        self.conv3 = SeparableConv2d(1024, 1536, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(1536)
        self.conv4 = SeparableConv2d(1536, 2048, 3, 1, 1)
        self.bn4 = nn.BatchNorm2d(2048)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        for i in range(1, 13):
            x = getattr(self, f"block{i}")(x)
        x = torch.relu(self.bn3(self.conv3(x)))
        x = torch.relu(self.bn4(self.conv4(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


MODELS = {
    "mobilenet_v1": (MobileNetV1, 64),
    "mobilenet_v2": (tvm.mobilenet_v2, 64),
    "mobilenet_v3_small": (tvm.mobilenet_v3_small, 64),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, 64),
    "shufflenet_v2_x1_0": (tvm.shufflenet_v2_x1_0, 64),
    "efficientnet_b0": (tvm.efficientnet_b0, 64),
    "xception": (Xception, 71),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (ctor, size) in MODELS.items():
        model = ctor(num_classes=1000)
        counts = [sum(p.numel() for p in model.parameters()), sum(p.numel() for p in ctor(num_classes=10).parameters())]
        zoo_weights.write_keys(OUT, name, model)
        fill(model).eval()
        shape = [1, 3, size, size]
        with torch.no_grad():
            logits = model(input_tensor(shape))
        zoo_weights.write_logits(OUT, name, shape, logits)
        print(f"{name}: params 1000={counts[0]} 10={counts[1]} logits absmax={logits.abs().max():.4g} std={logits.std():.4g}")


if __name__ == "__main__":
    main()
