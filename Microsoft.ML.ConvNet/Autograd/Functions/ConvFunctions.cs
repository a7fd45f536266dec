using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd.Functions;

/// <summary>
/// 2-D convolution. Forward: x [N, C, H, W], w [K, C/groups, R, S], b [K] → y [N, K, OH, OW].
/// Backward: dx [N, C, H, W] = backward-data(dy, w); dw [K, C/groups, R, S] = backward-filter(x, dy);
/// db [K] = Σ over N, OH, OW of dy.
/// </summary>
internal sealed class Conv2dFunction(ConvGeometry geometry) : Function
{
    public override string Name => "Conv2d";

    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        ConvChecks.SameDevice("Conv2d", x, w, b);
        var g = ConvGeometry.Create(x.Shape, w.Shape, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups, "Conv2d");
        ConvChecks.Bias("Conv2d", w, b, g.K);
        var y = x.EmptyLike(new Shape(g.N, g.K, g.OH, g.OW));
        x.Backend.Conv2dForward(x, w, b, y, g);
        var fn = new Conv2dFunction(g);
        return b == null ? Record(fn, y, x, w) : Record(fn, y, x, w, b);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = Inputs[0], w = Inputs[1];
        Tensor? dx = null, dw = null, db = null;
        if (NeedsGrad(0))
        {
            dx = x.EmptyLike();
            dy.Backend.Conv2dBackwardData(dy, w, dx, geometry);
        }
        if (NeedsGrad(1))
        {
            dw = w.EmptyLike();
            dy.Backend.Conv2dBackwardFilter(x, dy, dw, geometry);
        }
        if (Inputs.Length > 2 && NeedsGrad(2))
        {
            db = ConvChecks.ChannelSum(dy, geometry.K);
        }
        return [dx, dw, db];
    }

    /// <summary>ONNX Conv with the same kernel, strides, pads (top, left, bottom, right), dilations and groups.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
        => graph.AddNode("Conv", inputs, ConvChecks.OnnxAttributes(geometry));
}

/// <summary>
/// Transposed 2-D convolution, the adjoint of <see cref="Conv2dFunction"/> with respect to its input.
/// Forward: x [N, Cin, H, W], w [Cin, Cout/groups, R, S], b [Cout] → y [N, Cout, OH, OW] with
/// OH = (H − 1)·s − 2p + d·(R − 1) + outputPadding + 1, computed as the backward-data pass of the convolution
/// that maps y's shape to x's (filter w read as [K = Cin, C/groups = Cout/groups, R, S]).
/// Backward: dx = that convolution applied to dy; dw = its backward-filter with dy as the image and x as the
/// output gradient; db [Cout] = Σ over N, OH, OW of dy.
/// </summary>
internal sealed class ConvTranspose2dFunction(ConvGeometry geometry, int inH, int inW) : Function
{
    public override string Name => "ConvTranspose2d";

    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, int stride, int padding, int outputPadding, int dilation, int groups)
    {
        const string op = "ConvTranspose2d";
        ConvChecks.SameDevice(op, x, w, b);
        if (x.Rank != 4 || w.Rank != 4)
        {
            throw new ShapeMismatchException(op, x.Shape, w.Shape, "input must be [N, Cin, H, W] and weight [Cin, Cout/groups, R, S]");
        }
        if (groups < 1 || x.Shape[1] % groups != 0)
        {
            throw new ShapeMismatchException(op, x.Shape, w.Shape, $"input channels must be divisible by groups={groups}");
        }
        if (w.Shape[0] != x.Shape[1])
        {
            throw new ShapeMismatchException(op, x.Shape, w.Shape, $"input has {x.Shape[1]} channels but the weight expects {w.Shape[0]}");
        }
        if (stride < 1 || dilation < 1 || padding < 0 || outputPadding < 0)
        {
            throw new ArgumentException($"{op}: stride and dilation must be >= 1, padding and output padding >= 0.");
        }
        if (outputPadding >= Math.Max(stride, dilation))
        {
            throw new ArgumentException($"{op}: output padding {outputPadding} must be smaller than the stride ({stride}) or the dilation ({dilation}).");
        }
        int n = x.Shape[0], cin = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int cout = w.Shape[1] * groups, r = w.Shape[2], s = w.Shape[3];
        int oh = (h - 1) * stride - 2 * padding + dilation * (r - 1) + outputPadding + 1;
        int ow = (wd - 1) * stride - 2 * padding + dilation * (s - 1) + outputPadding + 1;
        if (oh < 1 || ow < 1)
        {
            throw new ShapeMismatchException(op, x.Shape, w.Shape, $"the output would be {oh}x{ow}; the padding is too large for the input");
        }
        ConvChecks.Bias(op, w, b, cout);
        var g = new ConvGeometry(n, cout, oh, ow, cin, r, s, stride, stride, padding, padding, dilation, dilation, groups);
        var y = x.EmptyLike(new Shape(n, cout, oh, ow));
        using (var xg = PadToGeometry(x, g))
        {
            x.Backend.Conv2dBackwardData(xg, w, y, g);
        }
        if (b != null)
        {
            using var bias = ConvChecks.View(b, new Shape(cout, 1, 1));
            x.Backend.Binary(BinaryOp.Add, y, bias, y);
        }
        var fn = new ConvTranspose2dFunction(g, h, wd);
        return b == null ? Record(fn, y, x, w) : Record(fn, y, x, w, b);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = Inputs[0], w = Inputs[1];
        Tensor? dx = null, dw = null, db = null;
        if (NeedsGrad(0))
        {
            if (geometry.OH == inH && geometry.OW == inW)
            {
                dx = x.EmptyLike();
                dy.Backend.Conv2dForward(dy, w, null, dx, geometry);
            }
            else
            {
                using var full = x.EmptyLike(new Shape(geometry.N, geometry.K, geometry.OH, geometry.OW));
                dy.Backend.Conv2dForward(dy, w, null, full, geometry);
                dx = x.EmptyLike();
                int planes = geometry.N * geometry.K;
                for (int row = 0; row < inH; row++)
                {
                    dy.Backend.CopyBlocks(full, row * geometry.OW, geometry.OH * geometry.OW, dx, row * inW, inH * inW, inW, planes);
                }
            }
        }
        if (NeedsGrad(1))
        {
            dw = w.EmptyLike();
            using var xg = PadToGeometry(x, geometry);
            dy.Backend.Conv2dBackwardFilter(dy, xg, dw, geometry);
        }
        if (Inputs.Length > 2 && NeedsGrad(2))
        {
            db = ConvChecks.ChannelSum(dy, geometry.C);
        }
        return [dx, dw, db];
    }

    /// <summary>ONNX ConvTranspose; output_padding is what the output size has beyond the strided input.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        var g = geometry;
        long outputPadH = g.H - ((inH - 1L) * g.StrideH - 2L * g.PadH + g.DilationH * (g.R - 1L) + 1);
        long outputPadW = g.W - ((inW - 1L) * g.StrideW - 2L * g.PadW + g.DilationW * (g.S - 1L) + 1);
        return graph.AddNode("ConvTranspose", inputs, [.. ConvChecks.OnnxAttributes(g), OnnxAttribute.Ints("output_padding", outputPadH, outputPadW)]);
    }

    /// <summary>
    /// x as the output of the convolution <paramref name="g"/>: x itself (a view) when the sizes agree, otherwise
    /// x zero-padded at the bottom/right (outputPadding ≥ stride, allowed when smaller than the dilation).
    /// </summary>
    private static Tensor PadToGeometry(Tensor x, in ConvGeometry g)
    {
        int h = x.Shape[2], wd = x.Shape[3];
        if (g.OH == h && g.OW == wd)
        {
            return ConvChecks.View(x, x.Shape);
        }
        var padded = x.EmptyLike(new Shape(g.N, g.K, g.OH, g.OW));
        x.Backend.Fill(padded, 0f);
        for (int row = 0; row < h; row++)
        {
            x.Backend.CopyBlocks(x, row * wd, h * wd, padded, row * g.OW, g.OH * g.OW, wd, g.N * g.K);
        }
        return padded;
    }
}

/// <summary>
/// Fully connected layer. Forward: x [..., in], w [out, in], b [out] → y [..., out] = x·wᵀ + b.
/// Backward: dx = dy·w; dw = dyᵀ·x (rows of every leading axis summed); db = column sums of dy.
/// </summary>
internal sealed class LinearFunction : Function
{
    public override string Name => "Linear";

    public static Tensor Forward(Tensor x, Tensor w, Tensor? b)
    {
        const string op = "Linear";
        ConvChecks.SameDevice(op, x, w, b);
        if (w.Rank != 2 || x.Rank < 1 || x.Shape[x.Rank - 1] != w.Shape[1])
        {
            throw new ShapeMismatchException(op, x.Shape, w.Shape, "the input must be [..., in] and the weight [out, in]");
        }
        int inF = w.Shape[1], outF = w.Shape[0];
        ConvChecks.Bias(op, w, b, outF);
        int rows = x.Size / Math.Max(inF, 1);
        var y = x.EmptyLike(x.Shape.With(x.Rank - 1, outF));
        float beta = 0f;
        if (b != null)
        {
            x.Backend.CopyBlocks(b, 0, 0, y, 0, outF, outF, rows);
            beta = 1f;
        }
        x.Backend.Gemm(false, true, rows, outF, inF, 1f, x, 0, inF, w, 0, inF, beta, y, 0, outF);
        return b == null ? Record(new LinearFunction(), y, x, w) : Record(new LinearFunction(), y, x, w, b);
    }

    public override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = Inputs[0], w = Inputs[1];
        int inF = w.Shape[1], outF = w.Shape[0];
        int rows = x.Size / Math.Max(inF, 1);
        Tensor? dx = null, dw = null, db = null;
        if (NeedsGrad(0))
        {
            dx = x.EmptyLike();
            dy.Backend.Gemm(false, false, rows, inF, outF, 1f, dy, 0, outF, w, 0, inF, 0f, dx, 0, inF);
        }
        if (NeedsGrad(1))
        {
            dw = w.EmptyLike();
            dy.Backend.Gemm(true, false, outF, inF, rows, 1f, dy, 0, outF, x, 0, inF, 0f, dw, 0, inF);
        }
        if (Inputs.Length > 2 && NeedsGrad(2))
        {
            db = Inputs[2].EmptyLike();
            using var rowsView = ConvChecks.View(dy, new Shape(rows, outF));
            dy.Backend.SumTo(rowsView, db);
        }
        return [dx, dw, db];
    }

    /// <summary>ONNX Gemm (transB) for [N, in] inputs; MatMul with the transposed weight plus the bias otherwise.</summary>
    public override string ExportOnnx(OnnxGraph graph, string[] inputs, Tensor output)
    {
        if (Inputs[0].Rank == 2)
        {
            return graph.AddNode("Gemm", inputs, OnnxAttribute.Int("transB", 1));
        }
        var weightT = graph.AddNode("Transpose", [inputs[1]], OnnxAttribute.Ints("perm", 1, 0));
        var y = graph.AddNode("MatMul", [inputs[0], weightT]);
        return inputs.Length > 2 ? graph.AddNode("Add", [y, inputs[2]]) : y;
    }
}

/// <summary>Checks and helpers shared by the convolution and linear functions.</summary>
internal static class ConvChecks
{
    public static void SameDevice(string op, Tensor x, Tensor w, Tensor? b)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        if (w.Device != x.Device || (b != null && b.Device != x.Device))
        {
            throw new ArgumentException($"{op}: the input is on {x.Device} but the weight is on {w.Device}{(b == null ? string.Empty : $" and the bias on {b.Device}")}.");
        }
    }

    public static void Bias(string op, Tensor w, Tensor? b, int channels)
    {
        if (b != null && (b.Rank != 1 || b.Size != channels))
        {
            throw new ShapeMismatchException(op, w.Shape, b.Shape, $"the bias must be [{channels}]");
        }
    }

    /// <summary>An unrecorded view of t's memory with another shape of the same size; dispose it after use.</summary>
    public static Tensor View(Tensor t, Shape shape)
    {
        t.Storage.AddRef();
        return new Tensor(shape, t.Storage, register: false);
    }

    /// <summary>The ONNX Conv/ConvTranspose attributes of a geometry: kernel_shape, strides, pads, dilations, group.</summary>
    public static OnnxAttribute[] OnnxAttributes(in ConvGeometry g) =>
    [
        OnnxAttribute.Ints("kernel_shape", g.R, g.S),
        OnnxAttribute.Ints("strides", g.StrideH, g.StrideW),
        OnnxAttribute.Ints("pads", g.PadH, g.PadW, g.PadH, g.PadW),
        OnnxAttribute.Ints("dilations", g.DilationH, g.DilationW),
        OnnxAttribute.Int("group", g.Groups),
    ];

    /// <summary>db [channels] = Σ of dy [N, channels, ...] over every axis but the channel axis.</summary>
    public static Tensor ChannelSum(Tensor dy, int channels)
    {
        int n = dy.Shape[0];
        int spatial = dy.Size / Math.Max(n * channels, 1);
        var db = dy.EmptyLike(new Shape(channels));
        using var src = View(dy, new Shape(n, channels, spatial));
        using var dst = View(db, new Shape(channels, 1));
        dy.Backend.SumTo(src, dst);
        return db;
    }
}
