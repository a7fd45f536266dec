#!/usr/bin/python3
"""Generates the PyTorch reference fixtures used by Microsoft.ML.ConvNet.Tests (Reference/PyTorchFixtureTests.cs).

Run from the repository root:  /usr/bin/python3 build/reference/make_fixtures.py
Writes one JSON file per op family to Microsoft.ML.ConvNet.Tests/Fixtures/.

Numerics:
  * inputs (and the upstream gradient) are float32 values, written with the shortest decimal string that parses back
    to exactly that float32, so the tests feed the engine the very numbers PyTorch saw;
  * every op is computed in float64 from those values (torch.float64 on the CPU);
  * outputs, gradients and updated running statistics are rounded to 7 significant digits.

Each case: {"name", "op", "params", "inputs": {name: {"shape", "data"}}, "output": {"shape", "data"},
"upstream": {"shape", "data"}, "grads": {input name: {"shape", "data"}}, optional "state": {name: {...}}}.
"grads" holds the gradient of sum(output * upstream) with respect to each input named there (the other inputs do
not require gradients); "state" holds buffers the op updates in place (batch-norm running statistics).
"""

import os
import sys
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240601
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT_DIR = os.path.join(ROOT, "Microsoft.ML.ConvNet.Tests", "Fixtures")

torch.manual_seed(SEED)
torch.set_default_dtype(torch.float64)


# ---- numbers -------------------------------------------------------------------------------------------------------

def _parses_to(text, value):
    """True when the decimal `text` rounds (to nearest, ties to even) to the float32 `value`."""
    exact = Fraction(text)
    v = np.float32(value)
    lo = np.nextafter(v, np.float32(-np.inf))
    hi = np.nextafter(v, np.float32(np.inf))
    fv = Fraction(float(v))
    d = abs(exact - fv)
    dlo = abs(exact - Fraction(float(lo)))
    dhi = abs(exact - Fraction(float(hi)))
    if d < dlo and d < dhi:
        return True
    if d == dlo or d == dhi:
        return int(v.view(np.uint32)) % 2 == 0
    return False


def exact_text(value):
    """Shortest decimal string that parses (correctly rounded) back to the float32 `value`."""
    v = np.float32(value)
    for digits in (7, 8, 9):
        text = "%.*g" % (digits, float(v))
        if _parses_to(text, v):
            return text
    raise AssertionError("no round-trip text for %r" % v)


def rounded_text(value):
    """A float64 result rounded to 7 significant digits."""
    v = float(value)
    if not np.isfinite(v):
        raise AssertionError("non-finite reference value")
    text = "%.7g" % v
    return "0" if text in ("0", "-0") else text


def as_float32(t):
    """float64 tensor → float64 tensor holding float32 values that are short 7-digit decimals where possible."""
    flat = t.detach().reshape(-1).tolist()
    vals = [np.float32(float("%.7g" % v)) for v in flat]
    return torch.tensor(np.array(vals, dtype=np.float32).astype(np.float64)).reshape(t.shape)


def randn(*shape, scale=1.0, shift=0.0):
    return as_float32(torch.randn(tuple(shape)) * scale + shift)


def uniform(*shape, low=0.0, high=1.0):
    return as_float32(torch.rand(tuple(shape)) * (high - low) + low)


def distinct(*shape, scale=1.0):
    """Random values, all different (so that max pooling / max reductions have no ties)."""
    while True:
        t = randn(*shape, scale=scale)
        if len(set(t.reshape(-1).tolist())) == t.numel():
            return t


class Raw(str):
    """A pre-formatted JSON token."""


def encode_tensor(t, exact):
    t = t.detach()
    fmt = exact_text if exact else rounded_text
    data = [Raw(fmt(v)) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": data}


def to_json(obj):
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if obj is None:
        return "null"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return exact_text(obj)
    if isinstance(obj, str):
        return '"' + obj.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ",".join(to_json(str(k)) + ":" + to_json(v) for k, v in obj.items()) + "}"
    raise TypeError(type(obj))


# ---- cases ---------------------------------------------------------------------------------------------------------

FAMILIES = {}


def add(family, name, op, params, inputs, grad, fn, state=()):
    """Runs fn(**inputs) in float64, backpropagates sum(output * upstream) into the inputs named in `grad`.

    inputs: name → float64 tensor of float32 values (None for an absent optional input, which is skipped).
    state: names of inputs the op updates in place; their values after the call are recorded.
    """
    cases = FAMILIES.setdefault(family, [])
    assert all(c["name"] != name for c in cases), name
    leaves = {}
    for k, v in inputs.items():
        if v is None:
            continue
        leaf = v.clone()
        leaf.requires_grad_(k in grad)
        leaves[k] = leaf
    call_args = {k: leaves.get(k) for k in inputs}
    out = fn(**call_args)
    upstream = randn(*out.shape)
    if grad:
        (out * upstream).sum().backward()
    case = {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: encode_tensor(v, exact=True) for k, v in inputs.items() if v is not None},
        "output": encode_tensor(out, exact=False),
        "upstream": encode_tensor(upstream, exact=True),
        "grads": {k: encode_tensor(leaves[k].grad, exact=False) for k in grad},
    }
    if state:
        case["state"] = {k: encode_tensor(leaves[k], exact=False) for k in state}
    cases.append(case)


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


# ---- convolution -----------------------------------------------------------------------------------------------------

def conv_cases():
    def conv2d(name, x, w, bias=True, stride=1, padding=0, dilation=1, groups=1):
        k = w[0]
        xs = randn(*x)
        ws = randn(*w, scale=0.5)
        bs = randn(k) if bias else None
        params = {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation), "groups": groups}
        grads = ["x", "weight"] + (["bias"] if bias else [])
        add("conv", name, "conv2d", params, {"x": xs, "weight": ws, "bias": bs}, grads,
            lambda x, weight, bias: F.conv2d(x, weight, bias, stride, padding, dilation, groups))

    conv2d("conv2d_3x3_pad1", [2, 3, 7, 7], [4, 3, 3, 3], padding=1)
    conv2d("conv2d_3x3_valid_odd", [2, 3, 7, 9], [5, 3, 3, 3])
    conv2d("conv2d_3x3_stride2_pad1", [1, 3, 9, 8], [5, 3, 3, 3], stride=2, padding=1)
    conv2d("conv2d_3x3_stride2_nopad_even", [2, 2, 8, 8], [3, 2, 3, 3], stride=2)
    conv2d("conv2d_3x3_dilation2_pad2", [2, 2, 9, 9], [3, 2, 3, 3], padding=2, dilation=2)
    conv2d("conv2d_3x3_dilation3_stride2", [1, 3, 13, 11], [2, 3, 3, 3], stride=2, padding=1, dilation=3)
    conv2d("conv2d_groups2", [2, 4, 6, 7], [6, 2, 3, 3], padding=1, groups=2)
    conv2d("conv2d_groups4_stride2_dilation2", [3, 8, 9, 9], [8, 2, 3, 3], stride=2, padding=2, dilation=2, groups=4)
    conv2d("conv2d_depthwise_3x3_pad1", [2, 4, 7, 7], [4, 1, 3, 3], padding=1, groups=4)
    conv2d("conv2d_depthwise_3x3_stride2", [1, 6, 9, 8], [6, 1, 3, 3], stride=2, padding=1, groups=6)
    conv2d("conv2d_depthwise_multiplier2_5x5", [1, 3, 8, 8], [6, 1, 5, 5], padding=2, groups=3)
    conv2d("conv2d_1x1", [2, 5, 4, 4], [3, 5, 1, 1])
    conv2d("conv2d_1x1_stride2_nobias", [1, 6, 7, 7], [4, 6, 1, 1], bias=False, stride=2)
    conv2d("conv2d_5x5_pad2_nobias", [1, 2, 8, 8], [3, 2, 5, 5], bias=False, padding=2)
    conv2d("conv2d_7x7_stride2_pad3_stem", [1, 3, 16, 16], [4, 3, 7, 7], stride=2, padding=3)
    conv2d("conv2d_11x11_stride4_pad2_alexnet", [1, 3, 27, 27], [2, 3, 11, 11], stride=4, padding=2)
    conv2d("conv2d_stride3_truncating", [1, 2, 10, 10], [2, 2, 3, 3], stride=3)
    conv2d("conv2d_wide_channels", [2, 16, 5, 5], [8, 16, 3, 3], padding=1)
    conv2d("conv2d_rect_kernel_per_axis", [2, 3, 8, 9], [4, 3, 3, 5], stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    conv2d("conv2d_batch1_single_channel", [1, 1, 5, 6], [1, 1, 2, 2])
    conv2d("conv2d_kernel_covers_input", [2, 3, 4, 4], [5, 3, 4, 4])

    def conv1d(name, x, w, bias=True, stride=1, padding=0, dilation=1, groups=1):
        xs = randn(*x)
        ws = randn(*w, scale=0.5)
        bs = randn(w[0]) if bias else None
        params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        grads = ["x", "weight"] + (["bias"] if bias else [])
        add("conv", name, "conv1d", params, {"x": xs, "weight": ws, "bias": bs}, grads,
            lambda x, weight, bias: F.conv1d(x, weight, bias, stride, padding, dilation, groups))

    conv1d("conv1d_3_pad1", [2, 3, 10], [4, 3, 3], padding=1)
    conv1d("conv1d_stride2_dilation2", [1, 4, 15], [2, 4, 3], stride=2, dilation=2)
    conv1d("conv1d_groups2_k5_nobias", [2, 4, 9], [4, 2, 5], bias=False, padding=2, groups=2)
    conv1d("conv1d_depthwise_stride2", [3, 5, 11], [5, 1, 3], stride=2, padding=1, groups=5)

    def conv_t(name, x, w, bias=True, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
        xs = randn(*x)
        ws = randn(*w, scale=0.5)
        bs = randn(w[1] * groups) if bias else None
        params = {"stride": stride, "padding": padding, "output_padding": output_padding,
                  "dilation": dilation, "groups": groups}
        grads = ["x", "weight"] + (["bias"] if bias else [])
        add("conv", name, "conv_transpose2d", params, {"x": xs, "weight": ws, "bias": bs}, grads,
            lambda x, weight, bias: F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation))

    conv_t("conv_transpose2d_k2_stride2", [1, 3, 4, 4], [3, 2, 2, 2], stride=2)
    conv_t("conv_transpose2d_k3_stride2_pad1_outpad1", [2, 3, 5, 5], [3, 4, 3, 3], stride=2, padding=1, output_padding=1)
    conv_t("conv_transpose2d_k3_stride1_pad1_nobias", [2, 4, 5, 6], [4, 3, 3, 3], bias=False, padding=1)
    conv_t("conv_transpose2d_groups2_stride2", [1, 4, 3, 4], [4, 3, 3, 3], stride=2, groups=2)
    conv_t("conv_transpose2d_k4_stride2_pad1", [2, 3, 4, 3], [3, 2, 4, 4], stride=2, padding=1)
    conv_t("conv_transpose2d_dilation2_stride2_outpad1", [1, 2, 4, 4], [2, 3, 3, 3], stride=2, padding=1,
           output_padding=1, dilation=2)
    conv_t("conv_transpose2d_stride3_outpad2", [1, 2, 3, 3], [2, 2, 3, 3], stride=3, output_padding=2)


# ---- linear algebra ------------------------------------------------------------------------------------------------

def linear_cases():
    def linear(name, n, fin, fout, bias=True):
        grads = ["x", "weight"] + (["bias"] if bias else [])
        add("linear", name, "linear", {}, {"x": randn(n, fin), "weight": randn(fout, fin, scale=0.5),
                                           "bias": randn(fout) if bias else None}, grads,
            lambda x, weight, bias: F.linear(x, weight, bias))

    linear("linear_4x6_to_3", 4, 6, 3)
    linear("linear_batch1_nobias", 1, 5, 7, bias=False)
    linear("linear_5x17_to_9", 5, 17, 9)
    linear("linear_8x33_to_10", 8, 33, 10)
    linear("linear_to_1", 3, 4, 1)

    def matmul(name, a, b):
        add("linear", name, "matmul", {}, {"a": randn(*a), "b": randn(*b)}, ["a", "b"],
            lambda a, b: torch.matmul(a, b))

    matmul("matmul_3x5_5x4", [3, 5], [5, 4])
    matmul("matmul_1x7_7x1", [1, 7], [7, 1])
    matmul("matmul_17x9_9x13", [17, 9], [9, 13])
    matmul("matmul_33x20_20x18", [33, 20], [20, 18])
    matmul("matmul_batched_2x3x4_2x4x5", [2, 3, 4], [2, 4, 5])
    matmul("matmul_batched_4x1x6_4x6x3", [4, 1, 6], [4, 6, 3])
    matmul("matmul_batched_1x7x5_1x5x9", [1, 7, 5], [1, 5, 9])


# ---- pooling -------------------------------------------------------------------------------------------------------

def pool_cases():
    def maxpool2d(name, x, k, stride=None, padding=0, dilation=1, ceil_mode=False):
        params = {"kernel_size": k, "stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode}
        add("pool", name, "max_pool2d", params, {"x": distinct(*x)}, ["x"],
            lambda x: F.max_pool2d(x, k, stride, padding, dilation, ceil_mode))

    maxpool2d("max_pool2d_k2s2", [2, 3, 8, 8], 2)
    maxpool2d("max_pool2d_k2s2_odd_floor", [1, 3, 7, 7], 2)
    maxpool2d("max_pool2d_k2s2_odd_ceil", [1, 3, 7, 7], 2, ceil_mode=True)
    maxpool2d("max_pool2d_k3s2_overlapping", [1, 2, 9, 9], 3, 2)
    maxpool2d("max_pool2d_k3s2_pad1", [2, 2, 8, 7], 3, 2, padding=1)
    maxpool2d("max_pool2d_k3s2_ceil", [1, 2, 8, 8], 3, 2, ceil_mode=True)
    maxpool2d("max_pool2d_k3s2_pad1_ceil", [1, 2, 10, 9], 3, 2, padding=1, ceil_mode=True)
    maxpool2d("max_pool2d_k3s1_pad1_same", [2, 3, 5, 6], 3, 1, padding=1)
    maxpool2d("max_pool2d_k3s1_dilation2", [1, 2, 9, 9], 3, 1, dilation=2)
    maxpool2d("max_pool2d_k2s1", [1, 1, 5, 6], 2, 1)
    maxpool2d("max_pool2d_k3s3_pad1_ceil", [1, 2, 8, 10], 3, 3, padding=1, ceil_mode=True)
    maxpool2d("max_pool2d_k2s2_dilation2_pad1", [1, 2, 9, 8], 2, 2, padding=1, dilation=2)

    def avgpool2d(name, x, k, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        params = {"kernel_size": k, "stride": stride, "padding": padding, "ceil_mode": ceil_mode,
                  "count_include_pad": count_include_pad}
        add("pool", name, "avg_pool2d", params, {"x": randn(*x)}, ["x"],
            lambda x: F.avg_pool2d(x, k, stride, padding, ceil_mode, count_include_pad))

    avgpool2d("avg_pool2d_k2s2", [2, 3, 8, 8], 2)
    avgpool2d("avg_pool2d_k2s2_odd_floor", [1, 2, 7, 7], 2)
    avgpool2d("avg_pool2d_k2s2_odd_ceil", [1, 2, 7, 7], 2, ceil_mode=True)
    avgpool2d("avg_pool2d_k3s2_pad1_include_pad", [2, 2, 8, 7], 3, 2, padding=1)
    avgpool2d("avg_pool2d_k3s2_pad1_exclude_pad", [2, 2, 8, 7], 3, 2, padding=1, count_include_pad=False)
    avgpool2d("avg_pool2d_k3s2_ceil_include_pad", [1, 2, 8, 8], 3, 2, ceil_mode=True)
    avgpool2d("avg_pool2d_k3s2_ceil_exclude_pad", [1, 2, 8, 8], 3, 2, ceil_mode=True, count_include_pad=False)
    avgpool2d("avg_pool2d_k3s2_pad1_ceil_include_pad", [1, 2, 10, 9], 3, 2, padding=1, ceil_mode=True)
    avgpool2d("avg_pool2d_k3s2_pad1_ceil_exclude_pad", [1, 2, 10, 9], 3, 2, padding=1, ceil_mode=True,
              count_include_pad=False)
    avgpool2d("avg_pool2d_k3s1_pad1_exclude_pad", [2, 3, 5, 6], 3, 1, padding=1, count_include_pad=False)
    avgpool2d("avg_pool2d_k5s3_pad2", [1, 2, 11, 11], 5, 3, padding=2)

    def maxpool1d(name, x, k, stride=None, padding=0, dilation=1, ceil_mode=False):
        params = {"kernel_size": k, "stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode}
        add("pool", name, "max_pool1d", params, {"x": distinct(*x)}, ["x"],
            lambda x: F.max_pool1d(x, k, stride, padding, dilation, ceil_mode))

    maxpool1d("max_pool1d_k2s2", [2, 3, 10], 2)
    maxpool1d("max_pool1d_k3s2_pad1", [1, 2, 11], 3, 2, padding=1)
    maxpool1d("max_pool1d_k3s2_ceil", [1, 2, 10], 3, 2, ceil_mode=True)
    maxpool1d("max_pool1d_k3s1_dilation2", [2, 2, 12], 3, 1, dilation=2)

    def adaptive(name, x, out):
        add("pool", name, "adaptive_avg_pool2d", {"output_size": list(out)}, {"x": randn(*x)}, ["x"],
            lambda x: F.adaptive_avg_pool2d(x, out))

    adaptive("adaptive_avg_pool2d_7x7_to_3x3", [2, 3, 7, 7], (3, 3))
    adaptive("adaptive_avg_pool2d_5x5_to_1x1", [2, 4, 5, 5], (1, 1))
    adaptive("adaptive_avg_pool2d_6x6_to_4x4", [1, 3, 6, 6], (4, 4))
    adaptive("adaptive_avg_pool2d_8x8_to_2x2", [1, 2, 8, 8], (2, 2))
    adaptive("adaptive_avg_pool2d_5x7_to_3x2", [2, 2, 5, 7], (3, 2))
    adaptive("adaptive_avg_pool2d_13x13_to_6x6", [1, 2, 13, 13], (6, 6))
    adaptive("adaptive_avg_pool2d_3x3_identity", [1, 2, 3, 3], (3, 3))
    adaptive("adaptive_avg_pool2d_2x3_up_to_4x5", [1, 2, 2, 3], (4, 5))


# ---- normalisation -------------------------------------------------------------------------------------------------

def norm_cases():
    def batch_norm(name, x, training, affine=True, momentum=0.1, eps=1e-5, scale=1.0, shift=0.0):
        c = x[1]
        inputs = {
            "x": randn(*x, scale=scale, shift=shift),
            "running_mean": randn(c, scale=0.5),
            "running_var": uniform(c, low=0.5, high=2.0),
            "weight": uniform(c, low=0.5, high=1.5) if affine else None,
            "bias": randn(c, scale=0.5) if affine else None,
        }
        params = {"training": training, "momentum": momentum, "eps": eps}
        grads = ["x"] + (["weight", "bias"] if affine else [])
        add("norm", name, "batch_norm", params, inputs, grads,
            lambda x, running_mean, running_var, weight, bias:
                F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps),
            state=("running_mean", "running_var"))

    batch_norm("batch_norm2d_train", [4, 3, 5, 5], True, scale=2.0, shift=0.5)
    batch_norm("batch_norm2d_train_odd", [2, 5, 3, 7], True)
    batch_norm("batch_norm2d_train_batch1", [1, 4, 4, 3], True, scale=3.0, shift=-1.0)
    batch_norm("batch_norm2d_train_noaffine", [3, 2, 4, 4], True, affine=False)
    batch_norm("batch_norm2d_train_momentum0.3_eps1e-3", [2, 3, 3, 3], True, momentum=0.3, eps=1e-3)
    batch_norm("batch_norm2d_eval", [2, 3, 4, 4], False, scale=2.0)
    batch_norm("batch_norm2d_eval_noaffine", [1, 4, 3, 5], False)
    batch_norm("batch_norm1d_train_nc", [8, 5], True, scale=1.5, shift=1.0)
    batch_norm("batch_norm1d_train_ncl", [4, 3, 7], True)
    batch_norm("batch_norm1d_eval_nc", [6, 4], False)
    batch_norm("batch_norm1d_eval_ncl", [2, 3, 5], False)

    def layer_norm(name, x, normalized, affine=True, eps=1e-5):
        inputs = {"x": randn(*x, scale=2.0, shift=0.3),
                  "weight": uniform(*normalized, low=0.5, high=1.5) if affine else None,
                  "bias": randn(*normalized, scale=0.5) if affine else None}
        grads = ["x"] + (["weight", "bias"] if affine else [])
        add("norm", name, "layer_norm", {"normalized_shape": list(normalized), "eps": eps}, inputs, grads,
            lambda x, weight, bias: F.layer_norm(x, normalized, weight, bias, eps))

    layer_norm("layer_norm_last2", [2, 3, 4, 5], [4, 5])
    layer_norm("layer_norm_2d", [3, 10], [10])
    layer_norm("layer_norm_noaffine", [2, 5, 6], [6], affine=False)
    layer_norm("layer_norm_chw", [2, 3, 4, 4], [3, 4, 4])
    layer_norm("layer_norm_eps1e-3", [4, 7], [7], eps=1e-3)

    def group_norm(name, x, groups, affine=True, eps=1e-5):
        c = x[1]
        inputs = {"x": randn(*x, scale=2.0, shift=-0.4),
                  "weight": uniform(c, low=0.5, high=1.5) if affine else None,
                  "bias": randn(c, scale=0.5) if affine else None}
        grads = ["x"] + (["weight", "bias"] if affine else [])
        add("norm", name, "group_norm", {"num_groups": groups, "eps": eps}, inputs, grads,
            lambda x, weight, bias: F.group_norm(x, groups, weight, bias, eps))

    group_norm("group_norm_6c_3g", [2, 6, 4, 4], 3)
    group_norm("group_norm_8c_2g_odd", [1, 8, 3, 5], 2)
    group_norm("group_norm_1g", [2, 4, 3, 3], 1)
    group_norm("group_norm_instance", [2, 4, 3, 3], 4)
    group_norm("group_norm_noaffine", [3, 6, 2, 3], 2, affine=False)
    group_norm("group_norm_ncl", [2, 6, 7], 3)

    def lrn(name, x, size, alpha, beta, k, scale=1.0):
        params = {"size": size, "alpha": alpha, "beta": beta, "k": k}
        add("norm", name, "local_response_norm", params, {"x": randn(*x, scale=scale)}, ["x"],
            lambda x: F.local_response_norm(x, size, alpha, beta, k))

    lrn("lrn_alexnet_size5", [2, 7, 4, 4], 5, 1e-4, 0.75, 2.0, scale=3.0)
    lrn("lrn_size5_large_alpha", [1, 6, 3, 3], 5, 1.0, 0.75, 2.0, scale=2.0)
    lrn("lrn_size3_alpha0.5_beta0.5_k1", [2, 5, 3, 4], 3, 0.5, 0.5, 1.0)
    lrn("lrn_size4_even", [1, 6, 2, 3], 4, 0.3, 0.75, 1.0, scale=1.5)
    lrn("lrn_size5_few_channels", [2, 3, 3, 3], 5, 2.0, 0.75, 1.0)


# ---- activations ---------------------------------------------------------------------------------------------------

def activation_cases():
    shape = [2, 3, 4, 5]

    def act(name, op, fn, params=None, scale=3.0, x=None):
        add("activations", name, op, params or {}, {"x": x if x is not None else randn(*shape, scale=scale)}, ["x"],
            lambda x: fn(x))

    act("relu", "relu", F.relu)
    act("relu6", "relu6", F.relu6, scale=5.0)
    act("leaky_relu_default", "leaky_relu", lambda x: F.leaky_relu(x, 0.01), {"negative_slope": 0.01})
    act("leaky_relu_0.2", "leaky_relu", lambda x: F.leaky_relu(x, 0.2), {"negative_slope": 0.2})
    act("elu", "elu", lambda x: F.elu(x, 1.0), {"alpha": 1.0})
    act("elu_alpha0.5", "elu", lambda x: F.elu(x, 0.5), {"alpha": 0.5})
    act("selu", "selu", F.selu)
    act("gelu", "gelu", F.gelu)
    act("sigmoid", "sigmoid", torch.sigmoid, scale=4.0)
    act("tanh", "tanh", torch.tanh)
    act("silu", "silu", F.silu)
    act("hardswish", "hardswish", F.hardswish, scale=4.0)
    act("hardsigmoid", "hardsigmoid", F.hardsigmoid, scale=4.0)
    act("relu_2d", "relu", F.relu, x=randn(5, 7))
    act("gelu_2d_wide", "gelu", F.gelu, x=randn(3, 37, scale=4.0))
    act("sigmoid_saturating", "sigmoid", torch.sigmoid, x=randn(4, 9, scale=12.0))

    def prelu(name, x, c):
        add("activations", name, "prelu", {}, {"x": randn(*x, scale=2.0), "weight": uniform(c, low=0.05, high=0.5)},
            ["x", "weight"], lambda x, weight: F.prelu(x, weight))

    prelu("prelu_per_channel", [2, 3, 4, 5], 3)
    prelu("prelu_shared", [2, 3, 4, 5], 1)
    prelu("prelu_per_channel_2d", [4, 6], 6)

    def softmax(name, op, x, dim, scale=2.0):
        fn = F.softmax if op == "softmax" else F.log_softmax
        add("activations", name, op, {"dim": dim}, {"x": randn(*x, scale=scale)}, ["x"],
            lambda x: fn(x, dim))

    softmax("softmax_nc_dim1", "softmax", [4, 10], 1)
    softmax("softmax_nchw_dim1", "softmax", [2, 5, 3, 3], 1)
    softmax("softmax_large_logits", "softmax", [3, 7], 1, scale=40.0)
    softmax("softmax_last_axis", "softmax", [2, 3, 6], -1)
    softmax("log_softmax_nc_dim1", "log_softmax", [4, 10], 1)
    softmax("log_softmax_nchw_dim1", "log_softmax", [2, 5, 3, 3], 1)
    softmax("log_softmax_large_logits", "log_softmax", [3, 7], 1, scale=40.0)
    softmax("log_softmax_nc_dim1_wide", "log_softmax", [2, 100], 1)


# ---- elementwise, reductions, concatenation ------------------------------------------------------------------------

def elementwise_cases():
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}

    def binary(name, op, a, b, positive_b=False):
        bs = uniform(*b, low=0.5, high=2.0) * (torch.randint(0, 2, b) * 2 - 1) if positive_b else randn(*b)
        bs = as_float32(bs)
        add("elementwise", name, op, {}, {"a": randn(*a), "b": bs}, ["a", "b"], lambda a, b: ops[op](a, b))

    binary("add_same_shape", "add", [2, 3, 4, 5], [2, 3, 4, 5])
    binary("add_channel_c11", "add", [2, 3, 4, 5], [3, 1, 1])
    binary("add_outer_4x1_1x5", "add", [4, 1], [1, 5])
    binary("add_scalar_like", "add", [3, 4], [1])
    binary("mul_channel_1c11", "mul", [2, 3, 4, 5], [1, 3, 1, 1])
    binary("mul_last_axis", "mul", [2, 3, 4, 5], [5])
    binary("mul_same_shape", "mul", [3, 7], [3, 7])
    binary("sub_last_axis", "sub", [2, 3, 4, 5], [5])
    binary("sub_channel_c11", "sub", [2, 3, 4, 5], [3, 1, 1])
    binary("sub_broadcast_first", "sub", [1, 3, 1, 1], [2, 3, 4, 5])
    binary("div_channel_1c11", "div", [2, 3, 4, 5], [1, 3, 1, 1], positive_b=True)
    binary("div_same_shape", "div", [4, 6], [4, 6], positive_b=True)
    binary("div_last_axis", "div", [2, 3, 4, 5], [5], positive_b=True)
    binary("div_broadcast_numerator", "div", [3, 1, 1], [2, 3, 4, 5], positive_b=True)

    def reduce(name, op, x, dim, keepdim=False):
        fn = {"sum": lambda t: t.sum(dim, keepdim), "mean": lambda t: t.mean(dim, keepdim),
              "max": lambda t: t.max(dim, keepdim).values}[op]
        xs = distinct(*x) if op == "max" else randn(*x)
        add("reduce", name, op, {"dim": dim, "keepdim": keepdim}, {"x": xs}, ["x"], lambda x: fn(x))

    reduce("sum_axis1", "sum", [2, 3, 4, 5], 1)
    reduce("sum_axis0", "sum", [3, 4], 0)
    reduce("sum_last_keepdim", "sum", [2, 3, 7], -1, keepdim=True)
    reduce("mean_axis2", "mean", [2, 3, 4, 5], 2)
    reduce("mean_axis1_keepdim", "mean", [4, 6], 1, keepdim=True)
    reduce("mean_axis3", "mean", [2, 3, 4, 5], 3)
    reduce("max_axis1", "max", [2, 5, 3, 3], 1)
    reduce("max_last", "max", [4, 9], -1)
    reduce("max_axis0_keepdim", "max", [6, 2, 3], 0, keepdim=True)

    def concat(name, shapes, dim):
        names = ["x%d" % i for i in range(len(shapes))]
        inputs = {n: randn(*s) for n, s in zip(names, shapes)}
        add("concat", name, "concat", {"dim": dim}, inputs, names,
            lambda **kw: torch.cat([kw[n] for n in names], dim))

    concat("concat_channels_3", [[2, 3, 4, 4], [2, 5, 4, 4], [2, 1, 4, 4]], 1)
    concat("concat_batch_axis", [[1, 2, 3], [3, 2, 3]], 0)
    concat("concat_2d_axis1", [[3, 4], [3, 2]], 1)
    concat("concat_last_axis", [[2, 3, 2], [2, 3, 5]], -1)


# ---- losses --------------------------------------------------------------------------------------------------------

def loss_cases():
    def targets(n, c):
        return torch.randint(0, c, (n,))

    def cross_entropy(name, n, c, weight=False, smoothing=0.0, reduction="mean"):
        t = targets(n, c)
        w = uniform(c, low=0.2, high=2.0) if weight else None
        params = {"targets": t.tolist(), "reduction": reduction, "label_smoothing": smoothing}
        if weight:
            params["weight"] = [Raw(exact_text(v)) for v in w.tolist()]
        add("losses", name, "cross_entropy", params, {"logits": randn(n, c, scale=2.0)}, ["logits"],
            lambda logits: F.cross_entropy(logits, t, weight=w, reduction=reduction, label_smoothing=smoothing))

    cross_entropy("cross_entropy_mean", 6, 5)
    cross_entropy("cross_entropy_sum", 4, 7, reduction="sum")
    cross_entropy("cross_entropy_none", 5, 3, reduction="none")
    cross_entropy("cross_entropy_batch1", 1, 10)
    cross_entropy("cross_entropy_weighted_mean", 8, 4, weight=True)
    cross_entropy("cross_entropy_weighted_none", 5, 4, weight=True, reduction="none")
    cross_entropy("cross_entropy_smoothing0.1_mean", 6, 5, smoothing=0.1)
    cross_entropy("cross_entropy_smoothing0.1_sum", 4, 6, smoothing=0.1, reduction="sum")
    cross_entropy("cross_entropy_smoothing0.1_none", 4, 6, smoothing=0.1, reduction="none")
    cross_entropy("cross_entropy_weighted_smoothing0.1_mean", 7, 4, weight=True, smoothing=0.1)

    def nll(name, n, c, weight=False, reduction="mean"):
        t = targets(n, c)
        w = uniform(c, low=0.2, high=2.0) if weight else None
        params = {"targets": t.tolist(), "reduction": reduction}
        if weight:
            params["weight"] = [Raw(exact_text(v)) for v in w.tolist()]
        log_probs = as_float32(F.log_softmax(randn(n, c, scale=2.0), 1))
        add("losses", name, "nll_loss", params, {"log_probs": log_probs}, ["log_probs"],
            lambda log_probs: F.nll_loss(log_probs, t, weight=w, reduction=reduction))

    nll("nll_loss_mean", 6, 5)
    nll("nll_loss_sum", 4, 3, reduction="sum")
    nll("nll_loss_none", 5, 4, reduction="none")
    nll("nll_loss_weighted_mean", 8, 4, weight=True)

    def bce(name, shape, pos_weight=False, reduction="mean", soft=False):
        tg = uniform(*shape) if soft else as_float32(torch.randint(0, 2, shape).double())
        pw = uniform(shape[-1], low=0.5, high=3.0) if pos_weight else None
        add("losses", name, "binary_cross_entropy_with_logits", {"reduction": reduction},
            {"logits": randn(*shape, scale=3.0), "targets": tg, "pos_weight": pw}, ["logits"],
            lambda logits, targets, pos_weight:
                F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight, reduction=reduction))

    bce("bce_with_logits_mean", [4, 3])
    bce("bce_with_logits_sum_soft_targets", [5, 2], reduction="sum", soft=True)
    bce("bce_with_logits_none", [3, 4], reduction="none")
    bce("bce_with_logits_pos_weight_mean", [6, 3], pos_weight=True)
    bce("bce_with_logits_pos_weight_none_soft", [4, 5], pos_weight=True, reduction="none", soft=True)

    def mse(name, shape, reduction="mean"):
        add("losses", name, "mse_loss", {"reduction": reduction}, {"input": randn(*shape), "target": randn(*shape)},
            ["input", "target"], lambda input, target: F.mse_loss(input, target, reduction=reduction))

    mse("mse_mean", [4, 5])
    mse("mse_sum", [2, 3, 4], reduction="sum")
    mse("mse_none", [3, 4], reduction="none")

    def multi_margin(name, n, c, p=1, margin=1.0, reduction="mean"):
        t = targets(n, c)
        add("losses", name, "multi_margin_loss", {"targets": t.tolist(), "p": p, "margin": margin,
                                                   "reduction": reduction},
            {"logits": randn(n, c)}, ["logits"],
            lambda logits: F.multi_margin_loss(logits, t, p=p, margin=margin, reduction=reduction))

    multi_margin("multi_margin_mean", 6, 5)
    multi_margin("multi_margin_p2", 5, 4, p=2)
    multi_margin("multi_margin_margin0.5_sum", 4, 6, margin=0.5, reduction="sum")
    multi_margin("multi_margin_none", 5, 3, reduction="none")


def main():
    conv_cases()
    linear_cases()
    pool_cases()
    norm_cases()
    activation_cases()
    elementwise_cases()
    loss_cases()
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for family, cases in FAMILIES.items():
        path = os.path.join(OUT_DIR, family + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("[\n")
            f.write(",\n".join(to_json(c) for c in cases))
            f.write("\n]\n")
        size = os.path.getsize(path)
        total += size
        print("%-12s %4d cases %8d bytes  %s" % (family, len(cases), size, os.path.relpath(path, ROOT)))
    print("total        %4d cases %8d bytes  (torch %s, seed %d)"
          % (sum(len(c) for c in FAMILIES.values()), total, torch.__version__, SEED))


if __name__ == "__main__":
    sys.exit(main())
