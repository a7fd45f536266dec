"""Reference fixtures for the residual and dense model zoo (ResNet, ResNeXt, Wide ResNet, SE-ResNet, DenseNet).

Writes to Microsoft.ML.ConvNet.Tests/Fixtures/zoo/:
  <name>.keys.txt     torchvision 0.14's state_dict(): one "key shape" line per tensor, in state-dict order,
                      the shape as comma-separated dims in brackets ([] for a scalar such as num_batches_tracked)
  <name>.logits.json  eval-mode logits for the deterministic weights and input of zoo_weights.py (resnet18,
                      densenet121), computed in float64 from the float32 weights
and prints the parameter counts (1000 and 10 classes) that the tests pin.

SE-ResNet-50 has no torchvision model; it is built here as Hu et al. describe it (torchvision's Bottleneck with
torchvision.ops.SqueezeExcitation, reduction 16, applied after bn3 and before the residual addition), with the
same member names as the .NET model (`se.fc1`, `se.fc2`: 1x1 convolutions with bias).

Run: /usr/bin/python3 build/reference/make_zoo_fixtures_residual.py
"""
import os

import torch
import torchvision
from torch import nn
from torchvision.models import resnet as tvresnet
from torchvision.ops import SqueezeExcitation

import zoo_weights
from zoo_weights import fill, input_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Microsoft.ML.ConvNet.Tests", "Fixtures", "zoo")


class SEBottleneck(tvresnet.Bottleneck):
    """torchvision's Bottleneck with a squeeze-and-excitation block before the residual addition."""

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None):
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, dilation, norm_layer)
        channels = planes * self.expansion
        self.se = SqueezeExcitation(channels, channels // 16)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.se(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


def se_resnet50(num_classes=1000):
    return tvresnet.ResNet(SEBottleneck, [3, 4, 6, 3], num_classes=num_classes)


MODELS = {
    "resnet18": torchvision.models.resnet18,
    "resnet34": torchvision.models.resnet34,
    "resnet50": torchvision.models.resnet50,
    "resnet101": torchvision.models.resnet101,
    "resnet152": torchvision.models.resnet152,
    "resnext50_32x4d": torchvision.models.resnext50_32x4d,
    "wide_resnet50_2": torchvision.models.wide_resnet50_2,
    "se_resnet50": se_resnet50,
    "densenet121": torchvision.models.densenet121,
    "densenet169": torchvision.models.densenet169,
}

LOGITS = {"resnet18": (1, 3, 64, 64), "densenet121": (1, 3, 64, 64)}


def count(model):
    return sum(p.numel() for p in model.parameters())


def write_keys(name, model):
    zoo_weights.write_keys(OUT, name, model)


def write_logits(name, model, shape):
    fill(model)
    model.eval()
    x = input_tensor(shape)
    with torch.no_grad():
        y64 = model.double()(x.double())
        y32 = model.float()(x)
    print("  %s logits: shape %s, max |y| %.4f, float32 vs float64 max diff %.2e"
          % (name, tuple(y64.shape), y64.abs().max().item(), (y32.double() - y64).abs().max().item()))
    zoo_weights.write_logits(OUT, name, shape, y64)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, factory in MODELS.items():
        m1000 = factory()
        m10 = factory(num_classes=10)
        print("%-16s params(1000)=%d params(10)=%d keys=%d" % (name, count(m1000), count(m10), len(m1000.state_dict())))
        write_keys(name, m1000)
        if name in LOGITS:
            write_logits(name, m1000, LOGITS[name])


if __name__ == "__main__":
    main()
