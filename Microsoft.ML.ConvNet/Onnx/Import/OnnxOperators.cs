using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>The role of a weight input of a node: its name in the layer, and whether it is a buffer (not trained).</summary>
internal readonly record struct WeightRole(string Name, bool Buffer);

/// <summary>A compiled node: its kernel, whether it folds on host constants, and which inputs are weights.</summary>
internal sealed record CompiledOperator(OnnxKernel Kernel, bool HostCapable, IReadOnlyDictionary<int, WeightRole> Roles);

/// <summary>
/// The ONNX operators the importer supports, each compiled once at load time: attributes are read and checked there (an
/// unsupported value is a <see cref="NotSupportedException"/> naming the operator, node and opset), and the kernel
/// returned runs the operator with <see cref="Functional"/> and <see cref="Tensor"/> operations, so every one is
/// differentiable. Shape arithmetic (Shape, Gather, Concat, ... on constants) runs on host values and folds away.
/// </summary>
internal static class OnnxOperators
{
    private static readonly Dictionary<int, WeightRole> NoRoles = [];
    private static readonly Dictionary<int, WeightRole> WeightBias = new() { [1] = new("weight", false), [2] = new("bias", false) };
    private static readonly Dictionary<int, WeightRole> BatchNormRoles = new()
    {
        [1] = new("weight", false), [2] = new("bias", false), [3] = new("running_mean", true), [4] = new("running_var", true),
    };

    /// <summary>How many outputs of <paramref name="node"/> the kernel computes (the rest must be unused).</summary>
    public static int OutputCount(OnnxNodeData node) => node.OpType == "Split" ? node.Outputs.Count : 1;

    public static CompiledOperator Compile(OnnxNodeData node, long opset, string source)
    {
        string where = $"operator {node.OpType} (node '{node.Name}', opset {opset})";
        NotSupportedException Unsupported(string reason) => new($"ONNX model '{source}': {where} is not supported: {reason}.");
        InvalidDataException Invalid(string reason) => new($"ONNX model '{source}': {where}: {reason}.");
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
        {
            throw Unsupported($"domain '{node.Domain}' is not the default ONNX domain");
        }
        var a = new OnnxNodeAttributes(node, Unsupported, Invalid);
        var op = CompileCore(node, opset, a, Unsupported, Invalid);
        a.CheckAllUsed();
        if (node.Outputs.Count > OutputCount(node) && node.OpType is not ("Dropout" or "BatchNormalization" or "MaxPool"))
        {
            throw Unsupported($"{node.Outputs.Count} outputs, the importer computes {OutputCount(node)}");
        }
        return op;
    }

    private static CompiledOperator Tensors(OnnxKernel k) => new(k, false, NoRoles);

    private static CompiledOperator Host(OnnxKernel k) => new(k, true, NoRoles);

    private static OnnxKernel Unary(Func<Tensor, Tensor> f) => (run, v) => [f(run.ToTensor(v[0]))];

    private static CompiledOperator CompileCore(OnnxNodeData node, long opset, OnnxNodeAttributes a, Func<string, NotSupportedException> unsupported, Func<string, InvalidDataException> invalid)
    {
        int inputs = node.Inputs.Count;
        void NeedInputs(int min)
        {
            if (inputs < min || node.Inputs.Take(min).Any(i => i.Length == 0))
            {
                throw invalid($"needs {min} input{(min > 1 ? "s" : "")}, has {inputs}");
            }
        }
        if (node.Outputs.Count == 0)
        {
            throw invalid("has no output");
        }
        if (node.OpType != "Constant")
        {
            NeedInputs(node.OpType switch
            {
                "Add" or "Sub" or "Mul" or "Div" or "Equal" or "MatMul" or "Gemm" or "PRelu" or "Gather" or "Conv" or "ConvTranspose" => 2,
                "Reshape" => opset >= 5 ? 2 : 1,
                "BatchNormalization" => 5,
                "InstanceNormalization" => 3,
                "LayerNormalization" => 2,
                _ => 1,
            });
        }
        switch (node.OpType)
        {
            case "Identity":
                return Host((run, v) => [v[0]]);
            case "Relu":
                return Tensors(Unary(Functional.Relu));
            case "Sigmoid":
                return Tensors(Unary(Functional.Sigmoid));
            case "Tanh":
                return Tensors(Unary(Functional.Tanh));
            case "Exp":
                return Tensors(Unary(x => x.Exp()));
            case "Log":
                return Tensors(Unary(x => x.Log()));
            case "Sqrt":
                return Tensors(Unary(x => x.Sqrt()));
            case "Abs":
                return Tensors(Unary(x => x.Abs()));
            case "Neg":
                return Tensors(Unary(x => x.Neg()));
            case "Erf":
                return Tensors(Unary(ErfFunction.Forward));
            case "LeakyRelu":
            {
                float alpha = a.Float("alpha", 0.01f);
                return Tensors(Unary(x => Functional.LeakyRelu(x, alpha)));
            }
            case "Elu":
            {
                float alpha = a.Float("alpha", 1f);
                return Tensors(Unary(x => Functional.Elu(x, alpha)));
            }
            case "Selu":
            {
                float alpha = a.Float("alpha", 1.67326319217681884765625f);
                float gamma = a.Float("gamma", 1.05070102214813232421875f);
                bool standard = Math.Abs(alpha - 1.6732632f) < 1e-6f && Math.Abs(gamma - 1.050701f) < 1e-6f;
                return Tensors(Unary(x => standard ? Functional.Selu(x) : Functional.Elu(x, alpha) * gamma));
            }
            case "HardSigmoid":
            {
                float alpha = a.Float("alpha", 0.2f), beta = a.Float("beta", 0.5f);
                bool torch = Math.Abs(alpha - 1f / 6f) < 1e-7f && beta == 0.5f;
                return Tensors(Unary(x => torch ? Functional.Hardsigmoid(x) : Clip(x.Affine(alpha, beta), 0f, 1f)));
            }
            case "HardSwish":
                return Tensors(Unary(Functional.Hardswish));
            case "Gelu":
            {
                string approximate = a.String("approximate", "none");
                if (approximate != "none")
                {
                    throw unsupported($"approximate='{approximate}' (only the exact form)");
                }
                return Tensors(Unary(Functional.Gelu));
            }
            case "Clip":
            {
                if (opset < 11)
                {
                    float min = a.Float("min", float.NegativeInfinity), max = a.Float("max", float.PositiveInfinity);
                    return Tensors(Unary(x => Clip(x, min, max)));
                }
                return Tensors((run, v) => [Clip(run.ToTensor(v[0]), Scalar(v, 1, float.NegativeInfinity), Scalar(v, 2, float.PositiveInfinity))]);
            }
            case "Softmax" or "LogSoftmax":
            {
                long axis = a.Int("axis", opset >= 13 ? -1 : 1);
                bool log = node.OpType == "LogSoftmax";
                return Tensors(Unary(x => Softmax(x, axis, opset >= 13, log)));
            }
            case "Add" or "Sub" or "Mul" or "Div":
            {
                if (opset < 7)
                {
                    a.Ignore("broadcast", "axis");
                }
                string op = node.OpType;
                return Host((run, v) => v[0] is HostTensor ha && v[1] is HostTensor hb
                    ? [HostOps.Binary(op, ha, hb)]
                    : [Binary(op, run, v[0], v[1])]);
            }
            case "Equal":
                // A comparison has no gradient: tensor operands are read to the host (the trainer's saved form compares
                // class indices with an ArgMax).
                return Host((run, v) => [HostOps.Binary("Equal", ToHost(v[0]), ToHost(v[1]))]);
            case "ArgMax":
            {
                long axisAttr = a.Int("axis", 0);
                bool keep = a.Int("keepdims", 1) != 0;
                if (opset >= 12 && a.Int("select_last_index", 0) != 0)
                {
                    throw unsupported("select_last_index=1");
                }
                return Host((run, v) =>
                {
                    var h = ToHost(v[0]);
                    int axis = HostOps.Axis(axisAttr, h.Dims.Length, "ArgMax");
                    var dims = keep ? h.Dims.Select((d, i) => i == axis ? 1 : d).ToArray() : h.Dims.Where((_, i) => i != axis).ToArray();
                    var values = h.AsFloats();
                    long inner = HostOps.Size(h.Dims[(axis + 1)..]), n = h.Dims[axis];
                    var result = new long[HostOps.Size(dims)];
                    for (long o = 0; o < result.Length; o++)
                    {
                        long outer = o / inner, k = o % inner, best = 0;
                        for (long i = 1; i < n; i++)
                        {
                            if (values[(outer * n + i) * inner + k] > values[(outer * n + best) * inner + k])
                            {
                                best = i;
                            }
                        }
                        result[o] = best;
                    }
                    return [new HostTensor(dims, result)];
                });
            }
            case "PRelu":
                return new(Tensors((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    var slope = run.ToTensor(v[1]);
                    return [Functional.Relu(x) + Functional.Relu(x.Neg()).Neg() * slope];
                }).Kernel, false, new Dictionary<int, WeightRole> { [1] = new("weight", false) });
            case "Conv":
                return new(ConvKernel(a, unsupported), false, WeightBias);
            case "ConvTranspose":
                return new(ConvTransposeKernel(a, unsupported), false, WeightBias);
            case "BatchNormalization":
            {
                float eps = a.Float("epsilon", 1e-5f);
                float momentum = a.Float("momentum", 0.9f);
                if (opset < 9 && a.Int("spatial", 1) != 1)
                {
                    throw unsupported("spatial=0 (per-activation statistics)");
                }
                a.Ignore("is_test", "consumed_inputs");
                if (opset >= 14 && a.Int("training_mode", 0) != 0)
                {
                    throw unsupported("training_mode=1 (the module's train/eval mode decides)");
                }
                return new((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    bool training = run.Training && v[3] is Tensor mean && !mean.RequiresGrad && v[0] is Tensor;
                    return [Functional.BatchNorm(x, run.ToTensor(v[3]), run.ToTensor(v[4]), run.ToTensor(v[1]), run.ToTensor(v[2]), training, 1f - momentum, eps)];
                }, false, BatchNormRoles);
            }
            case "InstanceNormalization":
            {
                float eps = a.Float("epsilon", 1e-5f);
                return new((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    return [Functional.GroupNorm(x, x.Shape[1], run.ToTensor(v[1]), run.ToTensor(v[2]), eps)];
                }, false, WeightBias);
            }
            case "LayerNormalization":
            {
                float eps = a.Float("epsilon", 1e-5f);
                long axisAttr = a.Int("axis", -1);
                a.Ignore("stash_type");
                if (node.Outputs.Count > 1)
                {
                    throw unsupported("the mean and inverse standard deviation outputs");
                }
                return new((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    int axis = HostOps.Axis(axisAttr, x.Rank, "LayerNormalization");
                    var shape = x.Shape.ToArray()[axis..];
                    var scale = run.ToTensor(v[1]);
                    var bias = v.Length > 2 && v[2] != null ? run.ToTensor(v[2]) : null;
                    return [Functional.LayerNorm(x, shape, scale.Shape == new Shape(shape) ? scale : scale.Reshape(shape), bias == null || bias.Shape == new Shape(shape) ? bias : bias.Reshape(shape), eps)];
                }, false, WeightBias);
            }
            case "LRN":
            {
                float alpha = a.Float("alpha", 1e-4f), beta = a.Float("beta", 0.75f), bias = a.Float("bias", 1f);
                long size = a.Int("size", 0);
                if (size < 1)
                {
                    throw invalid("size must be positive");
                }
                return Tensors(Unary(x => Functional.LocalResponseNorm(x, (int)size, alpha, beta, bias)));
            }
            case "Gemm":
            {
                float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
                bool transA = a.Int("transA", 0) != 0, transB = a.Int("transB", 0) != 0;
                if (opset < 7)
                {
                    a.Ignore("broadcast");
                }
                return new((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    var w = run.ToTensor(v[1]);
                    var c = v.Length > 2 && v[2] != null ? run.ToTensor(v[2]) : null;
                    if (!transA && transB && alpha == 1f && beta == 1f && (c == null || c.Rank == 1))
                    {
                        return [Functional.Linear(x, w, c)];
                    }
                    var y = (transA ? x.Transpose(0, 1) : x).MatMul(transB ? w.Transpose(0, 1) : w);
                    if (alpha != 1f)
                    {
                        y = y * alpha;
                    }
                    if (c != null)
                    {
                        y = y + (beta == 1f ? c : c * beta);
                    }
                    return [y];
                }, false, WeightBias);
            }
            case "MatMul":
                return new((run, v) => [MatMul(run.ToTensor(v[0]), run.ToTensor(v[1]))], false, new Dictionary<int, WeightRole> { [1] = new("weight", false) });
            case "MaxPool" or "AveragePool":
                return Tensors(PoolKernel(node.OpType == "MaxPool", opset, a, unsupported));
            case "GlobalAveragePool":
                return Tensors(Unary(x => x.Rank == 4 ? Functional.GlobalAvgPool2d(x) : MeanOverSpatial(x)));
            case "GlobalMaxPool":
                return Tensors(Unary(x =>
                {
                    if (x.Rank != 4)
                    {
                        throw new ArgumentException($"GlobalMaxPool expects [N, C, H, W], got {x.Shape}.");
                    }
                    var g = PoolGeometry.Create(x.Shape, x.Shape[2], x.Shape[3], 1, 1, 0, 0, 1, 1, false, "GlobalMaxPool");
                    return Pool2dFunction.Forward(PoolKind.Max, x, g);
                }));
            case "Flatten":
            {
                long axisAttr = a.Int("axis", 1);
                return Host((run, v) =>
                {
                    long[] dims = Dims(v[0]);
                    int axis = axisAttr == dims.Length ? dims.Length : HostOps.Axis(axisAttr, Math.Max(dims.Length, 1), "Flatten");
                    long[] target = [HostOps.Size(dims[..axis]), HostOps.Size(dims[axis..])];
                    return [Reshape(run, v[0], target)];
                });
            }
            case "Reshape":
            {
                long[]? attrShape = opset < 5 ? a.Ints("shape") : null;
                bool allowZero = a.Int("allowzero", 0) != 0;
                return Host((run, v) =>
                {
                    long[] shape = attrShape ?? Host(v, 1, "Reshape shape").AsLongs();
                    return [Reshape(run, v[0], HostOps.ReshapeDims(Dims(v[0]), shape, allowZero))];
                });
            }
            case "Squeeze" or "Unsqueeze":
            {
                long[]? attrAxes = opset < 13 ? a.Ints("axes") : null;
                bool squeeze = node.OpType == "Squeeze";
                if (!squeeze && opset < 13 && attrAxes == null)
                {
                    throw invalid("Unsqueeze needs axes");
                }
                return Host((run, v) =>
                {
                    long[]? axes = attrAxes ?? (v.Length > 1 && v[1] != null ? Host(v, 1, "axes").AsLongs() : null);
                    long[] dims = Dims(v[0]);
                    var target = squeeze ? HostOps.SqueezeDims(dims, axes) : HostOps.UnsqueezeDims(dims, axes ?? throw new ArgumentException("Unsqueeze needs axes."));
                    return [Reshape(run, v[0], target)];
                });
            }
            case "Transpose":
            {
                long[]? perm = a.Ints("perm");
                return Host((run, v) =>
                {
                    long[] dims = Dims(v[0]);
                    var p = perm?.Select(x => (int)x).ToArray() ?? Enumerable.Range(0, dims.Length).Reverse().ToArray();
                    if (v[0] is HostTensor h)
                    {
                        return [HostTranspose(h, p)];
                    }
                    return [run.ToTensor(v[0]).Permute(p)];
                });
            }
            case "Concat":
            {
                long axis = a.Int("axis", long.MinValue);
                if (axis == long.MinValue)
                {
                    throw invalid("Concat needs an axis");
                }
                return Host((run, v) =>
                {
                    var parts = v.Where(x => x != null).ToList();
                    if (parts.All(p => p is HostTensor))
                    {
                        return [HostOps.Concat(parts.Cast<HostTensor>().ToList(), axis)];
                    }
                    var tensors = parts.Select(run.ToTensor).Where(t => t.Size > 0 || parts.Count == 1).ToList();
                    return [tensors.Count == 1 ? tensors[0] : Tensor.Concat(tensors, HostOps.Axis(axis, tensors[0].Rank, "Concat"))];
                });
            }
            case "Split":
            {
                long axisAttr = a.Int("axis", 0);
                long[]? attrSplit = opset < 13 ? a.Ints("split") : null;
                long numOutputs = opset >= 18 ? a.Int("num_outputs", 0) : 0;
                int outputs = node.Outputs.Count;
                return Host((run, v) =>
                {
                    long[] dims = Dims(v[0]);
                    int axis = HostOps.Axis(axisAttr, dims.Length, "Split");
                    long[] sizes = attrSplit ?? (v.Length > 1 && v[1] != null ? Host(v, 1, "split").AsLongs() : EvenSplit(dims[axis], numOutputs > 0 ? numOutputs : outputs));
                    if (sizes.Length != outputs || sizes.Sum() != dims[axis] || sizes.Any(s => s < 0))
                    {
                        throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] do not divide an axis of {dims[axis]} into {outputs} outputs.");
                    }
                    var results = new object?[outputs];
                    long start = 0;
                    for (int i = 0; i < outputs; i++)
                    {
                        results[i] = SliceAxis(run, v[0], axis, start, sizes[i]);
                        start += sizes[i];
                    }
                    return results;
                });
            }
            case "Slice":
            {
                long[]? attrStarts = opset < 10 ? a.Ints("starts") : null;
                long[]? attrEnds = opset < 10 ? a.Ints("ends") : null;
                long[]? attrAxes = opset < 10 ? a.Ints("axes") : null;
                if (opset < 10 && (attrStarts == null || attrEnds == null))
                {
                    throw invalid("Slice needs starts and ends");
                }
                return Host((run, v) =>
                {
                    long[] starts = attrStarts ?? Host(v, 1, "starts").AsLongs();
                    long[] ends = attrEnds ?? Host(v, 2, "ends").AsLongs();
                    long[] axes = attrAxes ?? (v.Length > 3 && v[3] != null ? Host(v, 3, "axes").AsLongs() : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray());
                    long[] steps = v.Length > 4 && v[4] != null ? Host(v, 4, "steps").AsLongs() : Enumerable.Repeat(1L, starts.Length).ToArray();
                    if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
                    {
                        throw new ArgumentException("Slice: starts, ends, axes and steps differ in length.");
                    }
                    if (v[0] is HostTensor h)
                    {
                        return [HostOps.Slice(h, starts, ends, axes, steps)];
                    }
                    var x = run.ToTensor(v[0]);
                    for (int i = 0; i < starts.Length; i++)
                    {
                        if (steps[i] != 1)
                        {
                            throw new NotSupportedException($"Slice with step {steps[i]} on a tensor is not supported (only step 1).");
                        }
                        int axis = HostOps.Axis(axes[i], x.Rank, "Slice");
                        var (begin, count) = HostOps.SliceRange(x.Shape[axis], starts[i], ends[i], 1);
                        if (begin != 0 || count != x.Shape[axis])
                        {
                            x = x.Slice(axis, (int)begin, (int)count);
                        }
                    }
                    return [x];
                });
            }
            case "Pad":
            {
                string mode = a.String("mode", "constant");
                if (mode != "constant")
                {
                    throw unsupported($"mode '{mode}' (only 'constant')");
                }
                long[]? attrPads = opset < 11 ? a.Ints(opset < 2 ? "paddings" : "pads") : null;
                float attrValue = opset < 11 ? a.Float("value", 0f) : 0f;
                return Tensors((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    long[] pads = attrPads ?? Host(v, 1, "pads").AsLongs();
                    float value = attrPads != null ? attrValue : Scalar(v, 2, 0f);
                    long[] axes = v.Length > 3 && v[3] != null ? Host(v, 3, "axes").AsLongs() : Enumerable.Range(0, x.Rank).Select(i => (long)i).ToArray();
                    if (pads.Length != 2 * axes.Length)
                    {
                        throw new ArgumentException($"Pad: {pads.Length} pads for {axes.Length} axes.");
                    }
                    for (int i = 0; i < axes.Length; i++)
                    {
                        x = PadAxis(x, HostOps.Axis(axes[i], x.Rank, "Pad"), (int)pads[i], (int)pads[i + axes.Length], value);
                    }
                    return [x];
                });
            }
            case "Dropout":
            {
                float attrRatio = opset < 12 ? a.Float("ratio", 0.5f) : 0.5f;
                a.Ignore("seed", "is_test", "consumed_inputs");
                return Tensors((run, v) =>
                {
                    float ratio = opset < 12 ? attrRatio : Scalar(v, 1, 0.5f);
                    var x = run.ToTensor(v[0]);
                    return [Functional.Dropout(x, ratio, run.Training, run.Random)];
                });
            }
            case "ReduceMean" or "ReduceSum" or "ReduceMax" or "ReduceMin":
            {
                bool axesInput = node.OpType == "ReduceSum" ? opset >= 13 : opset >= 18;
                long[]? attrAxes = axesInput ? null : a.Ints("axes");
                bool keep = a.Int("keepdims", 1) != 0;
                bool noopEmpty = axesInput && a.Int("noop_with_empty_axes", 0) != 0;
                string op = node.OpType;
                return Tensors((run, v) =>
                {
                    var x = run.ToTensor(v[0]);
                    long[]? axes = axesInput ? (v.Length > 1 && v[1] != null ? Host(v, 1, "axes").AsLongs() : null) : attrAxes;
                    if (axes == null || axes.Length == 0)
                    {
                        if (noopEmpty)
                        {
                            return [x];
                        }
                        axes = Enumerable.Range(0, x.Rank).Select(i => (long)i).ToArray();
                    }
                    var sorted = axes.Select(ax => HostOps.Axis(ax, x.Rank, op)).Distinct().OrderByDescending(ax => ax).ToList();
                    foreach (int ax in sorted)
                    {
                        x = op switch
                        {
                            "ReduceMean" => x.Mean(ax, keepDim: true),
                            "ReduceSum" => x.Sum(ax, keepDim: true),
                            "ReduceMax" => x.Max(ax, keepDim: true),
                            _ => x.Min(ax, keepDim: true),
                        };
                    }
                    if (!keep)
                    {
                        x = x.Reshape(x.Shape.ToArray().Where((_, i) => !sorted.Contains(i)).ToArray());
                    }
                    return [x];
                });
            }
            case "Shape":
            {
                long start = opset >= 15 ? a.Int("start", 0) : 0;
                long end = opset >= 15 ? a.Int("end", long.MaxValue) : long.MaxValue;
                return Host((run, v) =>
                {
                    long[] dims = Dims(v[0]);
                    long s = Math.Clamp(start < 0 ? start + dims.Length : start, 0, dims.Length);
                    long e = Math.Clamp(end < 0 ? end + dims.Length : end, 0, dims.Length);
                    return [new HostTensor([Math.Max(0, e - s)], dims[(int)s..(int)Math.Max(s, e)])];
                });
            }
            case "Size":
                return Host((run, v) => [new HostTensor([], [HostOps.Size(Dims(v[0]))])]);
            case "Gather":
            {
                long axis = a.Int("axis", 0);
                return Host((run, v) =>
                {
                    var indices = Host(v, 1, "indices");
                    if (v[0] is HostTensor h)
                    {
                        return [HostOps.Gather(h, indices, axis)];
                    }
                    var x = run.ToTensor(v[0]);
                    int ax = HostOps.Axis(axis, x.Rank, "Gather");
                    var idx = indices.AsLongs().Select(i => (int)(i < 0 ? i + x.Shape[ax] : i)).ToArray();
                    if (idx.Any(i => i < 0 || i >= x.Shape[ax]))
                    {
                        throw new ArgumentException($"Gather: an index is out of range for axis {ax} of {x.Shape}.");
                    }
                    var picked = idx.Length == 1 ? x.Slice(ax, idx[0], 1) : Tensor.Concat(idx.Select(i => x.Slice(ax, i, 1)).ToList(), ax);
                    long[] dims = [.. x.Shape.ToArray()[..ax].Select(d => (long)d), .. indices.Dims, .. x.Shape.ToArray()[(ax + 1)..].Select(d => (long)d)];
                    return [picked.Reshape(dims.Select(d => (int)d).ToArray())];
                });
            }
            case "Cast":
            {
                int to = (int)a.Int("to", 0);
                if (to is not (1 or 2 or 3 or 4 or 5 or 6 or 7 or 9 or 11 or 12 or 13))
                {
                    throw unsupported($"cast to element type {to}");
                }
                a.Ignore("saturate");
                return Host((run, v) => v[0] is HostTensor h ? [HostOps.Cast(h, to)]
                    : to is 1 or 11 ? [v[0]] : throw new NotSupportedException($"Cast of a float tensor to element type {to} is not supported."));
            }
            case "Constant":
            {
                HostTensor value;
                if (a.Tensor("value") is { } t)
                {
                    value = HostTensor.From(t) ?? throw unsupported($"a constant of element type {t.DataType}");
                }
                else if (a.Has("value_float"))
                {
                    value = new HostTensor([], [a.Float("value_float", 0f)]);
                }
                else if (a.Has("value_floats"))
                {
                    var f = a.Floats("value_floats")!;
                    value = new HostTensor([f.Length], f);
                }
                else if (a.Has("value_int"))
                {
                    value = new HostTensor([], [a.Int("value_int", 0)]);
                }
                else if (a.Has("value_ints"))
                {
                    var i = a.Ints("value_ints")!;
                    value = new HostTensor([i.Length], i);
                }
                else
                {
                    throw unsupported($"a constant given as '{string.Join(", ", node.Attributes.Select(x => x.Name))}'");
                }
                return Host((run, v) => [value]);
            }
            case "ConstantOfShape":
            {
                var t = a.Tensor("value");
                var fill = t == null ? null : HostTensor.From(t) ?? throw unsupported($"a fill value of element type {t.DataType}");
                return Host((run, v) =>
                {
                    long[] dims = Host(v, 0, "shape").AsLongs();
                    long n = HostOps.CheckedSize(dims, "ConstantOfShape");
                    if (fill == null || fill.IsFloat)
                    {
                        var f = new float[n];
                        Array.Fill(f, fill?.Floats is { Length: > 0 } ff ? ff[0] : 0f);
                        return [new HostTensor(dims, f)];
                    }
                    var l = new long[n];
                    Array.Fill(l, fill.Ints!.Length > 0 ? fill.Ints[0] : 0);
                    return [new HostTensor(dims, l, fill.ElementType)];
                });
            }
            default:
                throw unsupported("no importer for this operator");
        }
    }

    private static HostTensor Host(object?[] v, int index, string what)
        => index < v.Length && v[index] is HostTensor h ? h
            : throw new NotSupportedException($"the {what} input must be a constant (or computed from shapes) when the model is loaded.");

    private static float Scalar(object?[] v, int index, float fallback)
        => index < v.Length && v[index] != null ? Host(v, index, "scalar").AsFloats() is { Length: 1 } f ? f[0] : throw new ArgumentException("expected a scalar.") : fallback;

    /// <summary>A value on the host (a tensor's values are read; they carry no gradient from here on).</summary>
    private static HostTensor ToHost(object? v) => v switch
    {
        HostTensor h => h,
        Tensor t => new HostTensor(t.Shape.ToArray().Select(d => (long)d).ToArray(), t.ToArray()),
        _ => throw new ArgumentException("a required input is missing."),
    };

    private static long[] Dims(object? v) => v switch
    {
        Tensor t => t.Shape.ToArray().Select(d => (long)d).ToArray(),
        HostTensor h => h.Dims,
        _ => throw new ArgumentException("a required input is missing."),
    };

    private static long[] EvenSplit(long size, long parts)
    {
        long chunk = (size + parts - 1) / parts;
        return Enumerable.Range(0, (int)parts).Select(i => Math.Max(0, Math.Min(chunk, size - i * chunk))).ToArray();
    }

    private static object Reshape(OnnxRunContext run, object? v, long[] dims)
        => v is HostTensor h ? h.WithDims(dims) : run.ToTensor(v).Reshape(dims.Select(d => (int)d).ToArray());

    private static object SliceAxis(OnnxRunContext run, object? v, int axis, long start, long count)
    {
        if (v is HostTensor h)
        {
            return HostOps.Slice(h, [start], [start + count], [axis], [1]);
        }
        var x = run.ToTensor(v);
        return x.Slice(axis, (int)start, (int)count);
    }

    private static HostTensor HostTranspose(HostTensor h, int[] perm)
    {
        if (perm.Length != h.Dims.Length || perm.Any(p => p < 0 || p >= perm.Length) || perm.Distinct().Count() != perm.Length)
        {
            throw new ArgumentException($"Transpose: [{string.Join(", ", perm)}] is not a permutation of {h.Dims.Length} axes.");
        }
        var dims = perm.Select(p => h.Dims[p]).ToArray();
        var inStrides = HostOps.Strides(h.Dims);
        var outStrides = HostOps.Strides(dims);
        var pick = new int[HostOps.Size(dims)];
        for (long i = 0; i < pick.Length; i++)
        {
            long rest = i, src = 0;
            for (int k = 0; k < dims.Length; k++)
            {
                src += rest / outStrides[k] * inStrides[perm[k]];
                rest %= outStrides[k];
            }
            pick[i] = (int)src;
        }
        return h.Pick(dims, pick);
    }

    private static Tensor Binary(string op, OnnxRunContext run, object? left, object? right)
    {
        // A scalar constant on either side is an affine map (one pass, no broadcast).
        if (right is HostTensor { Count: 1 } s && left is Tensor x)
        {
            float c = s.AsFloats()[0];
            return op switch { "Add" => x.Affine(1f, c), "Sub" => x.Affine(1f, -c), "Mul" => x.Affine(c, 0f), _ => x.Affine(1f / c, 0f) };
        }
        if (left is HostTensor { Count: 1 } s2 && right is Tensor y && op is "Add" or "Mul")
        {
            float c = s2.AsFloats()[0];
            return op == "Add" ? y.Affine(1f, c) : y.Affine(c, 0f);
        }
        var a = run.ToTensor(left);
        var b = run.ToTensor(right);
        return op switch { "Add" => a + b, "Sub" => a - b, "Mul" => a * b, _ => a / b };
    }

    /// <summary>min(max(x, lo), hi) as lo + relu(x − lo) − relu(x − hi), ReLU or ReLU6 when the bounds allow.</summary>
    internal static Tensor Clip(Tensor x, float lo, float hi)
    {
        if (lo == 0f && hi == 6f)
        {
            return Functional.Relu6(x);
        }
        bool hasLo = !float.IsNegativeInfinity(lo), hasHi = !float.IsPositiveInfinity(hi);
        if (hasLo && !hasHi)
        {
            return lo == 0f ? Functional.Relu(x) : Functional.Relu(x.Affine(1f, -lo)).Affine(1f, lo);
        }
        if (!hasLo && hasHi)
        {
            return Functional.Relu(x.Affine(-1f, hi)).Affine(-1f, hi);
        }
        if (!hasLo)
        {
            return x;
        }
        return Functional.Relu(x.Affine(1f, -lo)).Affine(1f, lo) - Functional.Relu(x.Affine(1f, -hi));
    }

    private static Tensor Softmax(Tensor x, long axisAttr, bool singleAxis, bool log)
    {
        int axis = HostOps.Axis(axisAttr, x.Rank, "Softmax");
        if (singleAxis || axis == x.Rank - 1)
        {
            return log ? Functional.LogSoftmax(x, axis) : Functional.Softmax(x, axis);
        }
        var shape = x.Shape;
        var flat = x.Reshape(shape.SizeOf(0, axis), shape.SizeOf(axis, shape.Rank));
        var y = log ? Functional.LogSoftmax(flat, 1) : Functional.Softmax(flat, 1);
        return y.Reshape(shape.ToArray());
    }

    /// <summary>ONNX MatMul: 2-D, batched 3-D, [.., k]·[k, n], and [m, k]·[.., k, n].</summary>
    private static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 2 && b.Rank == 2 || a.Rank == 3 && b.Rank == 3 && a.Shape[0] == b.Shape[0])
        {
            return a.MatMul(b);
        }
        if (b.Rank == 2 && a.Rank > 2)
        {
            var lead = a.Shape.ToArray()[..^1];
            var y = a.Reshape(-1, a.Shape[-1]).MatMul(b);
            return y.Reshape([.. lead, b.Shape[1]]);
        }
        if (a.Rank == 2 && b.Rank > 2)
        {
            int r = b.Rank;
            int[] toFront = [r - 2, .. Enumerable.Range(0, r - 2), r - 1];
            var bt = b.Permute(toFront);
            var y = a.MatMul(bt.Reshape(b.Shape[-2], -1));
            var dims = bt.Shape.ToArray();
            dims[0] = a.Shape[0];
            var yr = y.Reshape(dims);
            int[] back = [.. Enumerable.Range(1, r - 2), 0, r - 1];
            return yr.Permute(back);
        }
        if (a.Rank == b.Rank && a.Rank > 3 && a.Shape.ToArray()[..^2].SequenceEqual(b.Shape.ToArray()[..^2]))
        {
            var lead = a.Shape.ToArray()[..^2];
            var y = a.Reshape(-1, a.Shape[-2], a.Shape[-1]).MatMul(b.Reshape(-1, b.Shape[-2], b.Shape[-1]));
            return y.Reshape([.. lead, a.Shape[-2], b.Shape[-1]]);
        }
        throw new ArgumentException($"MatMul of {a.Shape} and {b.Shape} is not supported (no broadcasting of batch axes).");
    }

    private static Tensor MeanOverSpatial(Tensor x)
    {
        for (int axis = x.Rank - 1; axis >= 2; axis--)
        {
            x = x.Mean(axis, keepDim: true);
        }
        return x;
    }

    /// <summary>
    /// Pads <paramref name="axis"/> of x with <paramref name="before"/> and <paramref name="after"/> entries of
    /// <paramref name="value"/> (a negative amount crops), as a concatenation, so the gradient flows to x.
    /// </summary>
    internal static Tensor PadAxis(Tensor x, int axis, int before, int after, float value)
    {
        if (before < 0)
        {
            x = x.Slice(axis, -before, x.Shape[axis] + before);
            before = 0;
        }
        if (after < 0)
        {
            x = x.Slice(axis, 0, x.Shape[axis] + after);
            after = 0;
        }
        if (before == 0 && after == 0)
        {
            return x;
        }
        var parts = new List<Tensor>(3);
        if (before > 0)
        {
            parts.Add(Tensor.Full(x.Shape.With(axis, before), value, x.Device));
        }
        parts.Add(x);
        if (after > 0)
        {
            parts.Add(Tensor.Full(x.Shape.With(axis, after), value, x.Device));
        }
        return Tensor.Concat(parts, axis);
    }

    /// <summary>The begin and end padding of one spatial axis: explicit pads, or what auto_pad asks for.</summary>
    private static (int Begin, int End) AxisPads(string autoPad, long[]? pads, int axis, int spatial, int input, int kernel, int stride, int dilation)
    {
        switch (autoPad)
        {
            case "VALID":
                return (0, 0);
            case "SAME_UPPER" or "SAME_LOWER":
                int output = (input + stride - 1) / stride;
                int total = Math.Max(0, (output - 1) * stride + (kernel - 1) * dilation + 1 - input);
                int small = total / 2;
                return autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
            default:
                return pads == null ? (0, 0) : ((int)pads[axis], (int)pads[axis + spatial]);
        }
    }

    private static string AutoPad(OnnxNodeAttributes a, Func<string, NotSupportedException> unsupported)
    {
        string autoPad = a.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw unsupported($"auto_pad '{autoPad}'");
        }
        return autoPad;
    }

    private static long[] Pair(long[]? values, int spatial, long fallback, string name, Func<string, NotSupportedException> unsupported)
    {
        if (values == null)
        {
            return Enumerable.Repeat(fallback, spatial).ToArray();
        }
        if (values.Length != spatial)
        {
            throw unsupported($"{name} [{string.Join(", ", values)}] (expected {spatial} values)");
        }
        return values;
    }

    /// <summary>The spatial rank from kernel_shape, or 2 (1-D convolutions and pools are run as 2-D with a height of 1).</summary>
    private static int SpatialRank(OnnxNodeAttributes a, long[]? kernelShape, Func<string, NotSupportedException> unsupported)
    {
        int spatial = kernelShape?.Length ?? (a.Has("strides") ? a.Ints("strides")!.Length
            : a.Has("dilations") ? a.Ints("dilations")!.Length : a.Has("pads") ? a.Ints("pads")!.Length / 2 : 2);
        if (spatial is not (1 or 2))
        {
            throw unsupported($"{spatial}-D kernels (only 1-D and 2-D)");
        }
        return spatial;
    }

    /// <summary>Views a 1-D input [N, C, L] as [N, C, 1, L] and 1-D attributes as 2-D ones.</summary>
    private static long[] Lift(long[] values, long one) => values.Length == 1 ? [one, values[0]] : values;

    private static long[]? LiftPads(long[]? pads) => pads is { Length: 2 } ? [0, pads[0], 0, pads[1]] : pads;

    private static OnnxKernel ConvKernel(OnnxNodeAttributes a, Func<string, NotSupportedException> unsupported)
    {
        string autoPad = AutoPad(a, unsupported);
        var kernelShape = a.Ints("kernel_shape");
        int spatial = SpatialRank(a, kernelShape, unsupported);
        var strides = Lift(Pair(a.Ints("strides"), spatial, 1, "strides", unsupported), 1);
        var dilations = Lift(Pair(a.Ints("dilations"), spatial, 1, "dilations", unsupported), 1);
        var pads = a.Ints("pads");
        if (pads != null && pads.Length != 2 * spatial)
        {
            throw unsupported($"pads [{string.Join(", ", pads)}]");
        }
        pads = LiftPads(pads);
        int group = (int)a.Int("group", 1);
        return (run, v) =>
        {
            var x = run.ToTensor(v[0]);
            var w = run.ToTensor(v[1]);
            var b = v.Length > 2 && v[2] != null ? run.ToTensor(v[2]) : null;
            bool oneD = x.Rank == 3;
            if (oneD)
            {
                x = x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]);
                w = w.Reshape(w.Shape[0], w.Shape[1], 1, w.Shape[2]);
            }
            if (x.Rank != 4 || w.Rank != 4)
            {
                throw new ArgumentException($"Conv expects [N, C, H, W] and [K, C/group, R, S], got {x.Shape} and {w.Shape}.");
            }
            var (pt, pb) = AxisPads(autoPad, pads, 0, 2, x.Shape[2], w.Shape[2], (int)strides[0], (int)dilations[0]);
            var (pl, pr) = AxisPads(autoPad, pads, 1, 2, x.Shape[3], w.Shape[3], (int)strides[1], (int)dilations[1]);
            int sh = Math.Min(pt, pb), sw = Math.Min(pl, pr);
            x = PadAxis(PadAxis(x, 2, pt - sh, pb - sh, 0f), 3, pl - sw, pr - sw, 0f);
            var y = Functional.Conv2d(x, w, b, ((int)strides[0], (int)strides[1]), (sh, sw), ((int)dilations[0], (int)dilations[1]), group);
            return [oneD ? y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3]) : y];
        };
    }

    private static OnnxKernel ConvTransposeKernel(OnnxNodeAttributes a, Func<string, NotSupportedException> unsupported)
    {
        string autoPad = AutoPad(a, unsupported);
        var kernelShape = a.Ints("kernel_shape");
        int spatial = SpatialRank(a, kernelShape, unsupported);
        if (spatial != 2)
        {
            throw unsupported("1-D transposed convolutions");
        }
        var strides = Pair(a.Ints("strides"), 2, 1, "strides", unsupported);
        var dilations = Pair(a.Ints("dilations"), 2, 1, "dilations", unsupported);
        var outputPadding = Pair(a.Ints("output_padding"), 2, 0, "output_padding", unsupported);
        var outputShape = a.Ints("output_shape");
        var pads = a.Ints("pads");
        if (pads != null && pads.Length != 4)
        {
            throw unsupported($"pads [{string.Join(", ", pads)}]");
        }
        if (strides[0] != strides[1] || dilations[0] != dilations[1])
        {
            throw unsupported("different strides or dilations per axis");
        }
        int group = (int)a.Int("group", 1);
        int s = (int)strides[0], d = (int)dilations[0];
        return (run, v) =>
        {
            var x = run.ToTensor(v[0]);
            var w = run.ToTensor(v[1]);
            var b = v.Length > 2 && v[2] != null ? run.ToTensor(v[2]) : null;
            if (x.Rank != 4 || w.Rank != 4)
            {
                throw new ArgumentException($"ConvTranspose expects [N, C, H, W] and [C, K/group, R, S], got {x.Shape} and {w.Shape}.");
            }
            var begin = new int[2];
            var end = new int[2];
            for (int i = 0; i < 2; i++)
            {
                int input = x.Shape[2 + i], kernel = w.Shape[2 + i];
                int full = s * (input - 1) + (kernel - 1) * d + 1 + (int)outputPadding[i];
                if (outputShape != null || autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    int target = outputShape != null ? (int)outputShape[outputShape.Length - 2 + i] : input * s;
                    int total = full - target;
                    (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
                }
                else if (autoPad != "VALID" && pads != null)
                {
                    (begin[i], end[i]) = ((int)pads[i], (int)pads[i + 2]);
                }
            }
            if (begin[0] == begin[1] && end[0] == end[1] && begin[0] == end[0] && outputPadding[0] == outputPadding[1] && begin[0] >= 0)
            {
                return [Functional.ConvTranspose2d(x, w, b, s, begin[0], (int)outputPadding[0], d, group)];
            }
            var y = Functional.ConvTranspose2d(x, w, null, s, 0, 0, d, group);
            y = PadAxis(PadAxis(y, 2, -begin[0], (int)outputPadding[0] - end[0], 0f), 3, -begin[1], (int)outputPadding[1] - end[1], 0f);
            return [b == null ? y : y + b.Reshape(1, b.Size, 1, 1)];
        };
    }

    private static OnnxKernel PoolKernel(bool max, long opset, OnnxNodeAttributes a, Func<string, NotSupportedException> unsupported)
    {
        string name = max ? "MaxPool" : "AveragePool";
        string autoPad = AutoPad(a, unsupported);
        var kernelShape = a.Ints("kernel_shape") ?? throw unsupported("a pool without kernel_shape");
        int spatial = SpatialRank(a, kernelShape, unsupported);
        var kernel = Lift(kernelShape, 1);
        var strides = Lift(Pair(a.Ints("strides"), spatial, 1, "strides", unsupported), 1);
        var dilations = Lift(Pair(a.Ints("dilations"), spatial, 1, "dilations", unsupported), 1);
        if (!max && dilations.Any(x => x != 1))
        {
            throw unsupported("dilated average pooling");
        }
        var pads = a.Ints("pads");
        if (pads != null && pads.Length != 2 * spatial)
        {
            throw unsupported($"pads [{string.Join(", ", pads)}]");
        }
        pads = LiftPads(pads);
        bool ceil = opset >= 10 && a.Int("ceil_mode", 0) != 0;
        bool includePad = !max && a.Int("count_include_pad", 0) != 0;
        if (max)
        {
            a.Ignore("storage_order");
        }
        return (run, v) =>
        {
            var x = run.ToTensor(v[0]);
            bool oneD = x.Rank == 3;
            if (oneD)
            {
                x = x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]);
            }
            if (x.Rank != 4)
            {
                throw new ArgumentException($"{name} expects [N, C, H, W], got {x.Shape}.");
            }
            int kh = (int)kernel[0], kw = (int)kernel[1], sh = (int)strides[0], sw = (int)strides[1], dh = (int)dilations[0], dw = (int)dilations[1];
            var (pt, pb) = AxisPads(autoPad, pads, 0, 2, x.Shape[2], kh, sh, dh);
            var (pl, pr) = AxisPads(autoPad, pads, 1, 2, x.Shape[3], kw, sw, dw);
            Tensor y;
            if (!max && !includePad && (pt != pb || pl != pr))
            {
                // Average over the real inputs only, with uneven padding: the sum of x over the sum of a mask of ones.
                var xp = PadAxis(PadAxis(x, 2, pt, pb, 0f), 3, pl, pr, 0f);
                using var ones = Tensor.Ones(new Shape(1, 1, x.Shape[2], x.Shape[3]), x.Device);
                var mask = PadAxis(PadAxis(ones, 2, pt, pb, 0f), 3, pl, pr, 0f);
                var g = PoolGeometry.Create(xp.Shape, kh, kw, sh, sw, 0, 0, 1, 1, ceil, name);
                var gm = PoolGeometry.Create(mask.Shape, kh, kw, sh, sw, 0, 0, 1, 1, ceil, name);
                y = Pool2dFunction.Forward(PoolKind.AvgIncludePad, xp, g) / Pool2dFunction.Forward(PoolKind.AvgIncludePad, mask, gm);
            }
            else
            {
                int ph = Math.Min(pt, pb), pw = Math.Min(pl, pr);
                float fill = max ? float.NegativeInfinity : 0f;
                x = PadAxis(PadAxis(x, 2, pt - ph, pb - ph, fill), 3, pl - pw, pr - pw, fill);
                var g = PoolGeometry.Create(x.Shape, kh, kw, sh, sw, ph, pw, dh, dw, ceil, name);
                var kind = max ? PoolKind.Max : includePad ? PoolKind.AvgIncludePad : PoolKind.AvgExcludePad;
                y = Pool2dFunction.Forward(kind, x, g);
            }
            return [oneD ? y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3]) : y];
        };
    }
}
