#!/usr/bin/python3
"""Writes the small ONNX models of the import tests (operators and attribute forms the exporter never writes).

Run with Debian's python3-onnx (apt-get install python3-onnx):
    /usr/bin/python3 build/reference/make_onnx_import_fixtures.py
Outputs go to Microsoft.ML.ConvNet.Tests/Fixtures/onnx/ and are committed; the tests compare each model's output
under our engine with ONNX Runtime's on a random input, and never call Python.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Microsoft.ML.ConvNet.Tests", "Fixtures", "onnx")
rng = np.random.default_rng(1)


def init(name, shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def save(name, nodes, x_shape, initializers, opset, y="y", ir=None):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="fixtures")
    model.ir_version = ir or (7 if opset >= 12 else 6 if opset >= 11 else 5 if opset >= 10 else 4 if opset >= 9 else 3)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


N = helper.make_node

# Convolutions: auto_pad, asymmetric pads, groups and dilations.
save("conv_same_upper", [N("Conv", ["x", "w", "b"], ["y"], name="conv", auto_pad="SAME_UPPER", strides=[2, 2])],
     [1, 3, 9, 8], [init("w", [4, 3, 3, 3]), init("b", [4])], 11)
save("conv_same_lower", [N("Conv", ["x", "w"], ["y"], name="conv", auto_pad="SAME_LOWER", strides=[2, 1], kernel_shape=[4, 2])],
     [2, 2, 8, 7], [init("w", [3, 2, 4, 2])], 13)
save("conv_valid_groups_dilations", [N("Conv", ["x", "w", "b"], ["y"], name="conv", auto_pad="VALID", group=2, dilations=[2, 1])],
     [1, 4, 9, 9], [init("w", [6, 2, 3, 3]), init("b", [6])], 13)
save("conv_asymmetric_pads", [N("Conv", ["x", "w", "b"], ["y"], name="conv1", pads=[1, 2, 0, 1], strides=[2, 2])],
     [1, 3, 11, 10], [init("w", [5, 3, 3, 3]), init("b", [5])], 8)
save("conv1d", [N("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 2], strides=[2])],
     [2, 3, 12], [init("w", [4, 3, 3]), init("b", [4])], 13)

# Transposed convolutions: symmetric with output_padding, and asymmetric pads.
save("conv_transpose", [N("ConvTranspose", ["x", "w", "b"], ["y"], name="up", strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])],
     [1, 4, 5, 5], [init("w", [4, 3, 3, 3]), init("b", [3])], 13)
save("conv_transpose_asymmetric", [N("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2], pads=[0, 1, 1, 0], group=2)],
     [1, 4, 4, 5], [init("w", [4, 1, 3, 3])], 11)

# Clip in both forms.
save("clip_attributes", [N("Clip", ["x"], ["y"], min=-0.5, max=0.7)], [2, 3, 4], [], 9)
save("clip_inputs", [N("Clip", ["x", "lo", "hi"], ["c"]), N("Clip", ["c", "", "hi2"], ["y"])], [2, 3, 4],
     [floats("lo", -0.4), floats("hi", 0.9), floats("hi2", 0.5)], 13)

# Activations.
save("activations", [
    N("LeakyRelu", ["x"], ["a"], alpha=0.2),
    N("PRelu", ["a", "slope"], ["b"], name="prelu"),
    N("Elu", ["b"], ["c"], alpha=0.7),
    N("Selu", ["c"], ["d"], alpha=1.5, gamma=1.1),
    N("HardSigmoid", ["d"], ["e"]),
    N("Add", ["e", "d"], ["f"]),
    N("Erf", ["f"], ["g"]),
    N("Tanh", ["g"], ["h"]),
    N("Softmax", ["h"], ["y"], axis=1),
], [2, 3, 4, 5], [init("slope", [3, 1, 1])], 11)

# Split, Slice, Pad, Squeeze and Unsqueeze in their attribute (old) and input (new) forms.
save("split_attribute", [
    N("Split", ["x"], ["a", "b", "c"], axis=1, split=[1, 3, 2]),
    N("Mul", ["a", "two"], ["a2"]),
    N("Concat", ["c", "a2", "b"], ["y"], axis=1),
], [2, 6, 3], [floats("two", 2.0)], 11)
save("split_input", [
    N("Split", ["x", "sizes"], ["a", "b"], axis=-1),
    N("Sub", ["a", "b"], ["y"]),
], [2, 3, 8], [ints("sizes", [4, 4])], 13)
save("slice_attribute", [N("Slice", ["x"], ["y"], starts=[1, -3], ends=[3, 1000], axes=[1, 3])], [2, 4, 3, 6], [], 9)
save("slice_input", [N("Slice", ["x", "s", "e", "ax", "st"], ["y"])], [2, 5, 6],
     [ints("s", [-4, 1]), ints("e", [-1, 6]), ints("ax", [2, 1]), ints("st", [1, 1])], 13)
save("pad_attribute", [N("Pad", ["x"], ["y"], pads=[0, 1, 2, 0, 0, 0, 1, 3], value=0.25)], [1, 2, 3, 4], [], 9)
save("pad_input", [N("Pad", ["x", "p", "v"], ["y"], mode="constant")], [1, 2, 5, 4],
     [ints("p", [0, 0, 1, -1, 0, 0, -2, 2]), floats("v", -1.5)], 13)
save("squeeze_unsqueeze_attribute", [
    N("Unsqueeze", ["x"], ["a"], axes=[0, 3]),
    N("Relu", ["a"], ["b"]),
    N("Squeeze", ["b"], ["y"], axes=[0]),
], [3, 4, 5], [], 11)
save("squeeze_unsqueeze_input", [
    N("Unsqueeze", ["x", "ax"], ["a"]),
    N("Sigmoid", ["a"], ["b"]),
    N("Squeeze", ["b", "ax2"], ["y"]),
], [3, 1, 5], [ints("ax", [-1]), ints("ax2", [1, 3])], 13)

# Gemm with transA, alpha and beta; MatMul with a 3-D input.
save("gemm_trans_a", [N("Gemm", ["x", "w", "c"], ["y"], name="fc", transA=1, alpha=0.5, beta=2.0)], [6, 4],
     [init("w", [6, 5]), init("c", [5])], 11)
save("matmul_batched", [N("MatMul", ["x", "w"], ["m"], name="proj"), N("Add", ["m", "b"], ["y"])], [2, 3, 4],
     [init("w", [4, 6]), init("b", [6])], 13)

# Pooling: global max, global average, ReduceMean, ceil mode, asymmetric pads, count_include_pad.
save("global_pools_reduce_mean", [
    N("GlobalMaxPool", ["x"], ["a"]),
    N("GlobalAveragePool", ["x"], ["b"]),
    N("ReduceMean", ["x"], ["c"], axes=[2, 3], keepdims=1),
    N("Add", ["a", "b"], ["d"]),
    N("Mul", ["d", "c"], ["e"]),
    N("Flatten", ["e"], ["y"], axis=1),
], [2, 3, 5, 6], [], 13)
save("pools_ceil_pads", [
    N("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1),
    N("AveragePool", ["a"], ["y"], kernel_shape=[2, 3], strides=[1, 2], pads=[1, 1, 1, 1], count_include_pad=0, ceil_mode=1),
], [1, 2, 10, 9], [], 10)
save("pools_same_exclude_pad", [
    N("AveragePool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    N("MaxPool", ["a"], ["y"], kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_LOWER"),
], [1, 2, 8, 7], [], 11)

# Shape arithmetic that folds: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, on a dynamic batch.
graph = helper.make_graph([
    N("Shape", ["x"], ["s"]),
    N("Gather", ["s", "zero"], ["n"], axis=0),
    N("Unsqueeze", ["n", "ax0"], ["n1"]),
    N("Concat", ["n1", "minus1"], ["target"], axis=0),
    N("Reshape", ["x", "target"], ["flat"]),
    N("Gemm", ["flat", "w", "b"], ["y"], name="head", transB=1),
], "shape_chain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    initializer=[ints("zero", 0), ints("ax0", [0]), ints("minus1", [-1]), init("w", [5, 48]), init("b", [5])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="fixtures")
model.ir_version = 7
onnx.save(model, os.path.join(OUT, "shape_chain.onnx"))

# BatchNormalization (opset 9), Dropout (attribute ratio), Identity, InstanceNormalization, LRN.
save("norms_dropout", [
    N("BatchNormalization", ["x", "g", "be", "mu", "var"], ["a"], name="bn", epsilon=1e-3, momentum=0.8),
    N("Dropout", ["a"], ["b"], ratio=0.3),
    N("Identity", ["b"], ["c"]),
    N("InstanceNormalization", ["c", "ig", "ib"], ["d"], name="inorm", epsilon=1e-4),
    N("LRN", ["d"], ["y"], size=3, alpha=0.01, beta=0.6, bias=1.5),
], [2, 4, 3, 5], [init("g", [4]), init("be", [4]), init("mu", [4], 0.2), numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "var"),
                  init("ig", [4]), init("ib", [4])], 9)

# Refused: an operator the importer lacks, and weights kept in an external file.
save("unsupported_lstm", [N("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
                          N("LSTM", ["t", "W", "R"], ["y"], name="rnn1", hidden_size=2)],
     [2, 3, 4], [init("W", [1, 8, 4]), init("R", [1, 8, 2])], 13)
ext = helper.make_graph([N("Conv", ["x", "w"], ["y"], name="conv")], "external",
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                        initializer=[init("w", [64, 3, 3, 3])])
ext_model = helper.make_model(ext, opset_imports=[helper.make_opsetid("", 13)], producer_name="fixtures")
ext_model.ir_version = 7
onnx.save(ext_model, os.path.join(OUT, "external_data.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
          location="external_data.bin", size_threshold=0)
os.remove(os.path.join(OUT, "external_data.bin"))
print("written to", os.path.abspath(OUT))
