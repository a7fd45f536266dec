using System.Runtime.Intrinsics;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// The MobileNet inverted residual block for inference in one pass over bands of output rows: 1×1 expansion
/// (+ bias, activation), k×k depthwise convolution (+ bias, activation), 1×1 projection (+ bias, + the input when
/// <c>residual</c>), all with batch norm already folded into the filters. Layer by layer, the expanded tensor (6 times
/// the input's channels) is written to memory by the expansion, read back by the depthwise convolution, whose output
/// is written and read back by the projection. Here each band of the expanded and the depthwise tensors lives in a
/// per-thread buffer that stays in cache (<see cref="BandFloats"/>), and only the block's input and output travel to
/// memory. Bands of the expanded tensor overlap by the filter's halo (k − stride rows), which are computed twice.
/// Blocks with small output maps run instead one image at a time channels last (<see cref="ForwardChannelsLast"/>).
/// </summary>
internal static unsafe class InvertedResidualKernel
{
    /// <summary>
    /// Floats of expanded activations one band aims at (1 MiB): measured on MobileNet-v2 at batch 32, bands of 64 K floats
    /// (which fit L2 with the depthwise output) lost more to the recomputed halo rows than they saved (121 images/s against
    /// 131 layer by layer); from 256 K floats on, 143–146.
    /// </summary>
    private const int BandFloats = 256 * 1024;

    /// <summary>
    /// The geometry of one block: input [N, C, H, W], expansion to Hidden channels, k×k depthwise with the stride,
    /// projection to Out (Out = Hidden for a block run without its projection).
    /// </summary>
    public readonly record struct Shape(int N, int C, int H, int W, int Hidden, int Kernel, int Stride, int Out)
    {
        /// <summary>Output rows and columns.</summary>
        public int OH => (H + 2 * (Kernel / 2) - Kernel) / Stride + 1;

        /// <summary>Output columns.</summary>
        public int OW => (W + 2 * (Kernel / 2) - Kernel) / Stride + 1;

        /// <summary>Output rows a band computes: as many as keep its expanded rows within <see cref="BandFloats"/>.</summary>
        public int BandRows => Math.Clamp(((BandFloats / Math.Max(1, Hidden * W)) - Kernel) / Stride + 1, 1, OH);

        /// <summary>Bands of all images: the parallel tasks.</summary>
        public int Tasks => N * ((OH + BandRows - 1) / BandRows);
    }

    /// <summary>
    /// y [N, Out, OH, OW] = project(depthwise(expand(x))) (+ x). Filters: expand [Hidden, C], depthwise [Hidden, k·k],
    /// project [Out, Hidden], each with its bias; <paramref name="activation"/> follows the expansion and the depthwise
    /// convolution. Without a projection (<paramref name="project"/> null, for blocks with a squeeze-excitation between
    /// the depthwise convolution and the projection), y [N, Hidden, OH, OW] = depthwise(expand(x)).
    /// <paramref name="expandPacked"/> and <paramref name="projectPacked"/>, where not null, are those filters already
    /// packed as GEMM left operands (<see cref="PackedFilters.ForGemm"/>), which every band would otherwise pack again.
    /// </summary>
    public static void Forward(float* x, float* expand, float* expandPacked, float* expandBias, float* depthwise, float* depthwiseBias,
        float* project, float* projectPacked, float* projectBias, FusedActivation activation, bool residual, float* y, Shape s)
    {
        int oh = s.OH, ow = s.OW, bandRows = s.BandRows, bands = (oh + bandRows - 1) / bandRows, pad = s.Kernel / 2;
        int maxRows = (bandRows - 1) * s.Stride + s.Kernel;
        nint xp = (nint)x, yp = (nint)y, e = (nint)expand, eb = (nint)expandBias, d = (nint)depthwise, db = (nint)depthwiseBias;
        nint p = (nint)project, pb = (nint)projectBias, ep = (nint)expandPacked, pp = (nint)projectPacked;
        CpuBackend.ForChunks(s.N * bands, (from, to) =>
        {
            // The expanded band, and the depthwise band where a projection reads it (otherwise it goes straight to y).
            var work = BufferPool.Rent(s.Hidden * (maxRows * s.W + (p == 0 ? 0 : bandRows * ow)));
            try
            {
                fixed (float* pw = work)
                {
                    float* expanded = pw, filtered = pw + (nint)s.Hidden * maxRows * s.W;
                    for (int t = from; t < to; t++)
                    {
                        int n = t / bands, o0 = t % bands * bandRows, rows = Math.Min(bandRows, oh - o0);
                        // The band reads the (virtual, zero-padded) input rows [top, top + inRows); of those, the rows
                        // [r0, r1) lie inside the image.
                        int inRows = (rows - 1) * s.Stride + s.Kernel, top = o0 * s.Stride - pad;
                        int r0 = Math.Max(0, top), r1 = Math.Min(s.H, top + inRows);
                        float* xImg = (float*)xp + (nint)n * s.C * s.H * s.W;
                        int bandSize = inRows * s.W;

                        // Expansion of the rows inside the image; the rows above and below it are the depthwise
                        // convolution's zero padding.
                        for (int c = 0; c < s.Hidden; c++)
                        {
                            float* plane = expanded + (nint)c * bandSize;
                            new Span<float>(plane, (r0 - top) * s.W).Clear();
                            new Span<float>(plane + (r1 - top) * s.W, (top + inRows - r1) * s.W).Clear();
                        }
                        Pointwise((float*)e, (float*)ep, s.Hidden, s.C, xImg + (nint)r0 * s.W, s.H * s.W, (r1 - r0) * s.W,
                            expanded + (r0 - top) * s.W, bandSize, new ConvEpilogue((float*)eb, null, activation));

                        // Depthwise convolution of the band: its own rows are the padding, so no vertical padding.
                        var g = new ConvGeometry(1, s.Hidden, inRows, s.W, s.Hidden, s.Kernel, s.Kernel, s.Stride, s.Stride, 0, pad, 1, 1, s.Hidden);
                        var depthwiseEpilogue = new ConvEpilogue((float*)db, null, activation);
                        for (int c = 0; c < s.Hidden; c++)
                        {
                            float* output = p == 0 ? (float*)yp + ((nint)n * s.Hidden + c) * oh * ow + (nint)o0 * ow : filtered + (nint)c * rows * ow;
                            DepthwiseConv.ForwardPlane(expanded + (nint)c * bandSize, (float*)d + c * s.Kernel * s.Kernel, depthwiseEpilogue,
                                c, output, 0, g);
                        }
                        if (p == 0)
                        {
                            continue;
                        }

                        // Projection into the output rows [o0, o0 + rows), the input added back as its epilogue.
                        nint at = (nint)n * s.Out * oh * ow + (nint)o0 * ow;
                        Pointwise((float*)p, (float*)pp, s.Out, s.Hidden, filtered, rows * ow, rows * ow, (float*)yp + at, oh * ow,
                            new ConvEpilogue((float*)pb, residual ? xImg + (nint)o0 * ow : null, FusedActivation.None));
                    }
                }
            }
            finally
            {
                BufferPool.Return(work);
            }
        });
    }

    /// <summary>
    /// Most output positions (OH·OW) of a block computed channels last (<see cref="ForwardChannelsLast"/>): on maps up
    /// to 16×16, a depthwise plane is too small for the plane kernels' blocks of rows, and the 1×1 products' 49 or 196
    /// columns leave the micro-kernel's 32-wide tiles part empty. MobileNet-v2 at batch 32, against the bands of rows:
    /// 160→960→160 at 7×7 3.9 against 6.2–6.3 ms (2.5–3.1 ms of which went to the depthwise planes), 96→576→96 at
    /// 14×14 6.3 against 7.0 ms, 32→192→64 from 28×28 to 14×14 2.9–3.2 against 4.7 ms; but 32→192→32 at 28×28 6.6
    /// against 5.2–5.3 ms.
    /// </summary>
    private const int ChannelsLastPositions = 256;

    /// <summary>Whether a block of shape <paramref name="s"/> is computed channels last (<see cref="ForwardChannelsLast"/>) when its 1×1 filters are kept as columns.</summary>
    public static bool UsesChannelsLast(in Shape s) => s.OH * s.OW <= ChannelsLastPositions;

    /// <summary>
    /// The block as <see cref="Forward"/> computes it, one image per task with every tensor channels last ([positions,
    /// channels]): the expansion multiplies the image's positions as rows by the filters as columns
    /// (<paramref name="expandColumns"/>, <see cref="PackedFilters.ForGemmColumns"/>), the depthwise convolution runs
    /// over 8 channels at a time at each output position, and the projection multiplies those positions by its own
    /// filters as columns (<paramref name="projectColumns"/>); its result, or the depthwise output where there is no
    /// projection, is transposed into y through the epilogue.
    /// </summary>
    public static void ForwardChannelsLast(float* x, float* expandColumns, float* expandBias, float* depthwise, float* depthwiseBias,
        float* projectColumns, float* projectBias, FusedActivation activation, bool residual, float* y, Shape s)
    {
        int hw = s.H * s.W, ohw = s.OH * s.OW, taps = s.Kernel * s.Kernel, hidden = s.Hidden;
        bool project = projectColumns != null;
        var tapsFirst = BufferPool.Rent(taps * hidden);
        try
        {
            fixed (float* pt = tapsFirst)
            {
                // The depthwise filters [Hidden, k·k] tap by tap: [k·k, Hidden].
                for (int c = 0; c < hidden; c++)
                {
                    for (int t = 0; t < taps; t++)
                    {
                        pt[(nint)t * hidden + c] = depthwise[(nint)c * taps + t];
                    }
                }
                nint xp = (nint)x, yp = (nint)y, ec = (nint)expandColumns, eb = (nint)expandBias, wt = (nint)pt, db = (nint)depthwiseBias;
                nint pc = (nint)projectColumns, pb = (nint)projectBias;
                CpuBackend.ForChunks(s.N, (from, to) =>
                {
                    var work = BufferPool.Rent((hw + ohw) * hidden + (project ? ohw * s.Out : 0));
                    try
                    {
                        fixed (float* pw = work)
                        {
                            float* expanded = pw, filtered = pw + (nint)hw * hidden, projected = filtered + (nint)ohw * hidden;
                            for (int n = from; n < to; n++)
                            {
                                float* xImg = (float*)xp + (nint)n * s.C * hw;
                                var a = new DenseA(xImg, hw, trans: true);
                                var b = new PackedB((float*)ec, hidden);
                                Sgemm.Run(ref a, ref b, hw, hidden, s.C, 1f, 0f, expanded, hidden, parallel: false);
                                AddBiasAndActivate(expanded, hw, hidden, (float*)eb, activation);
                                DepthwiseChannelsLast(expanded, (float*)wt, (float*)db, activation, filtered, s);
                                float* yImg = (float*)yp + (nint)n * s.Out * ohw;
                                if (!project)
                                {
                                    default(ConvEpilogue).Transposed(filtered, ohw, hidden, yImg);
                                    continue;
                                }
                                var pa = new DenseA(filtered, hidden, trans: false);
                                var pbm = new PackedB((float*)pc, s.Out);
                                Sgemm.Run(ref pa, ref pbm, ohw, s.Out, hidden, 1f, 0f, projected, s.Out, parallel: false);
                                new ConvEpilogue((float*)pb, residual ? xImg : null, FusedActivation.None).Transposed(projected, ohw, s.Out, yImg);
                            }
                        }
                    }
                    finally
                    {
                        BufferPool.Return(work);
                    }
                });
            }
        }
        finally
        {
            BufferPool.Return(tapsFirst);
        }
    }

    /// <summary>Each of the <paramref name="rows"/> rows of t [rows, channels] = activation(row + bias).</summary>
    private static void AddBiasAndActivate(float* t, int rows, int channels, float* bias, FusedActivation activation)
    {
        for (int i = 0; i < rows; i++)
        {
            float* row = t + (nint)i * channels;
            int c = 0;
            for (; c + 8 <= channels; c += 8)
            {
                Vector256.Store(ConvEpilogue.Activate(Vector256.Load(row + c) + Vector256.Load(bias + c), activation), row + c);
            }
            for (; c < channels; c++)
            {
                row[c] = ConvEpilogue.Activate(row[c] + bias[c], activation);
            }
        }
    }

    /// <summary>
    /// o [OH·OW, Hidden] = activation(bias + the k×k depthwise convolution of e [H·W, Hidden] with zero padding k/2),
    /// filters w [k·k, Hidden], 8 channels at a time over the taps inside the image. Four outputs of a row whose taps
    /// all lie inside the row are computed together, each filter vector loaded once for the four (5 loads for 4
    /// multiply-adds instead of 8, the repeated input vectors from L1): a 5×5 layer 480 channels wide at 14×14, batch
    /// 32, took 5.3 ms one output at a time.
    /// </summary>
    private static void DepthwiseChannelsLast(float* e, float* w, float* bias, FusedActivation activation, float* o, in Shape s)
    {
        int k = s.Kernel, pad = k / 2, hidden = s.Hidden, stride = s.Stride;
        nint step = (nint)stride * hidden;
        for (int oh = 0; oh < s.OH; oh++)
        {
            int ih0 = oh * stride - pad, r0 = Math.Max(0, -ih0), r1 = Math.Min(k, s.H - ih0);
            for (int ow = 0; ow < s.OW; ow++)
            {
                int iw0 = ow * stride - pad;
                float* output = o + ((nint)oh * s.OW + ow) * hidden;
                if (iw0 >= 0 && ow + 4 <= s.OW && iw0 + 3 * stride + k <= s.W)
                {
                    for (int c = 0; c + 8 <= hidden; c += 8)
                    {
                        var s0 = Vector256.Load(bias + c);
                        Vector256<float> s1 = s0, s2 = s0, s3 = s0;
                        for (int r = r0; r < r1; r++)
                        {
                            float* input = e + ((nint)(ih0 + r) * s.W + iw0) * hidden + c;
                            float* filter = w + (nint)r * k * hidden + c;
                            for (int q = 0; q < k; q++, input += hidden)
                            {
                                var f = Vector256.Load(filter + (nint)q * hidden);
                                s0 = Vector256.FusedMultiplyAdd(f, Vector256.Load(input), s0);
                                s1 = Vector256.FusedMultiplyAdd(f, Vector256.Load(input + step), s1);
                                s2 = Vector256.FusedMultiplyAdd(f, Vector256.Load(input + 2 * step), s2);
                                s3 = Vector256.FusedMultiplyAdd(f, Vector256.Load(input + 3 * step), s3);
                            }
                        }
                        Vector256.Store(ConvEpilogue.Activate(s0, activation), output + c);
                        Vector256.Store(ConvEpilogue.Activate(s1, activation), output + hidden + c);
                        Vector256.Store(ConvEpilogue.Activate(s2, activation), output + 2 * hidden + c);
                        Vector256.Store(ConvEpilogue.Activate(s3, activation), output + 3 * hidden + c);
                    }
                    for (int j = 0; j < 4; j++)
                    {
                        DepthwiseTail(e, w, bias, activation, output + j * hidden, hidden / 8 * 8, ih0, r0, r1, iw0 + j * stride, 0, k, s);
                    }
                    ow += 3;
                    continue;
                }
                int q0 = Math.Max(0, -iw0), q1 = Math.Min(k, s.W - iw0);
                int ch = 0;
                for (; ch + 8 <= hidden; ch += 8)
                {
                    var sum = Vector256.Load(bias + ch);
                    for (int r = r0; r < r1; r++)
                    {
                        float* input = e + ((nint)(ih0 + r) * s.W + iw0) * hidden + ch;
                        float* filter = w + (nint)r * k * hidden + ch;
                        for (int q = q0; q < q1; q++)
                        {
                            sum = Vector256.FusedMultiplyAdd(Vector256.Load(filter + (nint)q * hidden), Vector256.Load(input + (nint)q * hidden), sum);
                        }
                    }
                    Vector256.Store(ConvEpilogue.Activate(sum, activation), output + ch);
                }
                DepthwiseTail(e, w, bias, activation, output, ch, ih0, r0, r1, iw0, q0, q1, s);
            }
        }
    }

    /// <summary>Channels [c0, Hidden) of one output of <see cref="DepthwiseChannelsLast"/>, one at a time, over taps rows [r0, r1) and columns [q0, q1).</summary>
    private static void DepthwiseTail(float* e, float* w, float* bias, FusedActivation activation, float* output, int c0,
        int ih0, int r0, int r1, int iw0, int q0, int q1, in Shape s)
    {
        int k = s.Kernel, hidden = s.Hidden;
        for (int c = c0; c < hidden; c++)
        {
            float sum = bias[c];
            for (int r = r0; r < r1; r++)
            {
                for (int q = q0; q < q1; q++)
                {
                    sum += w[((nint)r * k + q) * hidden + c] * e[((nint)(ih0 + r) * s.W + iw0 + q) * hidden + c];
                }
            }
            output[c] = ConvEpilogue.Activate(sum, activation);
        }
    }

    /// <summary>
    /// c [m, n] (row stride ldc) = epilogue(filters [m, k] · b [k, n] (row stride ldb)) on this thread, with the filters
    /// as packed beforehand where <paramref name="packed"/> is not null.
    /// </summary>
    private static void Pointwise(float* filters, float* packed, int m, int k, float* b, int ldb, int n, float* c, int ldc, in ConvEpilogue epilogue)
    {
        var right = new DenseB(b, ldb, trans: false);
        if (packed != null)
        {
            var left = new PackedA(packed, m);
            Sgemm.Run(ref left, ref right, m, n, k, c, ldc, epilogue, parallel: false);
        }
        else
        {
            var left = new DenseA(filters, k, trans: false);
            Sgemm.Run(ref left, ref right, m, n, k, c, ldc, epilogue, parallel: false);
        }
    }
}
