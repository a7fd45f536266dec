using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Microsoft.ML.ConvNet.Tensors;
using Tensor = Microsoft.ML.ConvNet.Tensors.Tensor;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

// Matrix multiplication and convolution. Convolutions are GEMMs over the im2col view of each image and group
// (see Im2ColView): forward packs the view straight into GEMM panels; 1×1 stride-1 unpadded convolutions use the
// image as the matrix; depthwise convolutions and stride-1 ones with few outputs use direct kernels
// (DepthwiseConv, DirectConv), larger 3×3 stride-1 ones Winograd. Small output maps (late layers) put the im2col
// matrices of several images side by side in one GEMM (image blocks, 1×1 convolutions included); a single image on
// such a map with large kept filters multiplies its positions as rows by the filters as columns
// (ForwardPositionsAsRows). ConvAlgorithms.Choose holds the rules that
// pick the path, for all three directions. Work is split over images, image blocks (and groups) when there are
// enough of them, otherwise inside the GEMM.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, int aOffset, int lda, Tensor b, int bOffset, int ldb, float beta, Tensor c, int cOffset, int ldc)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        var sa = a.Span;
        var sb = b.Span;
        var sc = c.Span;
        if ((uint)aOffset > (uint)sa.Length || (uint)bOffset > (uint)sb.Length || (uint)cOffset > (uint)sc.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(aOffset), $"Gemm: offsets ({aOffset}, {bOffset}, {cOffset}) lie outside the operands {a.Shape}, {b.Shape}, {c.Shape}.");
        }
        Sgemm.Multiply(transA, transB, m, n, k, alpha, sa[aOffset..], lda, sb[bOffset..], ldb, beta, sc[cOffset..], ldc);
    }

    /// <inheritdoc/>
    public unsafe void Conv2dForward(Tensor x, Tensor w, Tensor? bias, Tensor y, in ConvGeometry g, Tensor? residual = null, UnaryOp? activation = null)
    {
        CheckConv("Conv2dForward", x, w, y, g);
        if (bias != null && bias.Size != g.K)
        {
            throw new ShapeMismatchException("Conv2dForward", w.Shape, bias.Shape, $"the bias must have {g.K} elements");
        }
        if (residual != null && residual.Shape != y.Shape)
        {
            throw new ShapeMismatchException("Conv2dForward", y.Shape, residual.Shape, "the residual must have the output's shape");
        }
        var fused = ConvEpilogue.ActivationOf(activation);
        fixed (float* pb = bias == null ? default : bias.Span)
        fixed (float* pr = residual == null ? default : residual.Span)
        {
            Conv2dForward(x, w, y, g, new ConvEpilogue(pb, pr, fused ?? FusedActivation.None));
        }
        if (fused == null)
        {
            Unary(activation!.Value, y, y, 0f);
        }
    }

    /// <summary>y = epilogue(conv(x, w)), the epilogue applied as each path writes its outputs.</summary>
    private unsafe void Conv2dForward(Tensor x, Tensor w, Tensor y, in ConvGeometry g, ConvEpilogue epilogue)
    {
        var geo = g;
        int groups = g.Groups, cg = g.CPerGroup, kg = g.KPerGroup, hw = g.H * g.W, ohw = g.OH * g.OW;
        int depth = cg * g.R * g.S;
        fixed (float* px = x.Span)
        fixed (float* pw = w.Span)
        fixed (float* py = y.Span)
        {
            nint xp = (nint)px, wp = (nint)pw, yp = (nint)py;
            var algorithm = ConvAlgorithms.Choose(g, ConvDirection.Forward);
            if (algorithm == ConvAlgorithm.Depthwise)
            {
                var ep = epilogue;
                ForChunks(g.N * g.C, (from, to) =>
                {
                    for (int t = from; t < to; t++)
                    {
                        int ch = t % geo.C;
                        DepthwiseConv.ForwardPlane((float*)xp + (nint)t * hw, (float*)wp + ch * geo.R * geo.S, ep, ch,
                            (float*)yp + (nint)t * ohw, (nint)t * ohw, geo);
                    }
                });
                return;
            }
            if (algorithm == ConvAlgorithm.FullWindow)
            {
                // y [N, K] = x [N, C·R·S] · Wᵀ (+ bias): one GEMM over the whole batch. The bias runs along C's rows
                // here, not down its columns as the GEMM's epilogue adds it: it is written first and accumulated onto,
                // and a residual or an activation is applied after the product.
                float beta = 0f;
                if (epilogue.Bias != null)
                {
                    for (int n = 0; n < g.N; n++)
                    {
                        new ReadOnlySpan<float>(epilogue.Bias, g.K).CopyTo(new Span<float>((float*)yp + (nint)n * g.K, g.K));
                    }
                    beta = 1f;
                }
                var fa = new DenseA((float*)xp, depth, trans: false);
                var fb = new DenseB((float*)wp, depth, trans: true);
                Sgemm.Run(ref fa, ref fb, g.N, g.K, depth, 1f, beta, (float*)yp, g.K);
                if (!epilogue.IsBiasOnly)
                {
                    // Without the bias, the channel of an element no longer matters: one row over the whole output.
                    epilogue.WithoutBias.Row((float*)yp, (float*)yp, 0, 0, g.N * g.K);
                }
                return;
            }
            if (algorithm == ConvAlgorithm.Winograd)
            {
                var transformed = PackedFilters.ForWinograd(w, geo);
                Winograd.Forward((float*)xp, (float*)wp, transformed == null ? null : (float*)Unsafe.AsPointer(ref transformed[0]), epilogue, (float*)yp, geo);
                return;
            }
            if (algorithm == ConvAlgorithm.Direct)
            {
                DirectConv.Forward((float*)xp, (float*)wp, epilogue, (float*)yp, geo);
                return;
            }
            if (MultipliesPositionsAsRows(g) && PackedFilters.ForGemmColumns(w, kg, depth) is float[] columns)
            {
                ForwardPositionsAsRows((float*)xp, (float*)Unsafe.AsPointer(ref columns[0]), geo, (float*)yp, epilogue);
                return;
            }
            bool pointwise = algorithm == ConvAlgorithm.Pointwise;
            // Filters that stay the same between calls are packed once (PackedFilters), others for every product.
            var packed = PackedFilters.ForGemm(w, groups, kg, depth);
            nint pp = packed == null ? 0 : (nint)Unsafe.AsPointer(ref packed[0]);
            int groupPanels = Sgemm.PackedSize(kg, depth);
            if (ImagesPerGemm(g, Math.Clamp(ForwardBlockFloats / kg, 256, NcTarget)) is int per and > 1)
            {
                ForwardImageBlocks((float*)xp, (float*)wp, (float*)pp, epilogue, (float*)yp, geo, per);
                return;
            }
            int tasks = g.N * groups;
            bool innerParallel = tasks < CpuParallel.Threads;
            var gemmEpilogue = epilogue;
            ForChunks(tasks, (from, to) =>
            {
                for (int t = from; t < to; t++)
                {
                    int n = t / groups, gi = t % groups;
                    nint yAt = ((nint)n * geo.K + gi * kg) * ohw;
                    float* xImg = (float*)xp + ((nint)n * geo.C + gi * cg) * hw;
                    var ep = gemmEpilogue.At(gi * kg, yAt);
                    if (pp != 0)
                    {
                        var a = new PackedA((float*)pp + (nint)gi * groupPanels, kg);
                        ForwardImage(ref a, pointwise, xImg, geo, (float*)yp + yAt, ep, innerParallel);
                    }
                    else
                    {
                        var a = new DenseA((float*)wp + (nint)gi * kg * depth, depth, trans: false);
                        ForwardImage(ref a, pointwise, xImg, geo, (float*)yp + yAt, ep, innerParallel);
                    }
                }
            });
        }
    }

    /// <summary>
    /// One image and group of the GEMM paths: y [K/groups, OH·OW] = epilogue(filters · x), x itself the right operand
    /// for a pointwise convolution, else its im2col view.
    /// </summary>
    private static unsafe void ForwardImage<TA>(ref TA a, bool pointwise, float* xImg, in ConvGeometry g, float* yImg, in ConvEpilogue epilogue, bool parallel)
        where TA : struct, IGemmPackA
    {
        int kg = g.KPerGroup, ohw = g.OH * g.OW, depth = g.CPerGroup * g.R * g.S;
        if (pointwise)
        {
            var b = new DenseB(xImg, g.H * g.W, trans: false);
            Sgemm.Run(ref a, ref b, kg, ohw, depth, yImg, ohw, epilogue, parallel);
        }
        else
        {
            var b = new Im2ColPackB(new Im2ColView(xImg, g));
            Sgemm.Run(ref a, ref b, kg, ohw, depth, yImg, ohw, epilogue, parallel);
        }
    }

    /// <summary>Takes <see cref="ForwardPositionsAsRows"/> on any small ungrouped image, on this thread (tests of the path).</summary>
    [ThreadStatic]
    internal static bool PositionsAsRowsAtAnySize;

    /// <summary>
    /// Whether the product of one ungrouped image with kept filters is computed transposed (<see cref="ForwardPositionsAsRows"/>):
    /// on a small output map with more filters than positions, and filters larger than a core's L2 cache. The usual
    /// product splits its columns, the positions, between the threads: 49 of them (7×7) make two 32-column strips,
    /// one a third empty, and each thread streams all of the filters. Transposed, each thread streams its own half
    /// of them. ResNet-18's 512→512 layer at 7×7, 2 threads, filters not in cache: 0.85 against 1.10 ms.
    /// </summary>
    internal static bool MultipliesPositionsAsRows(in ConvGeometry g)
        => g.N == 1 && g.Groups == 1 && g.OH * g.OW <= PositionsAsRowsMax
            && (PositionsAsRowsAtAnySize || (g.OH * g.OW < g.K && (long)g.K * g.C * g.R * g.S >= PositionsAsRowsMinFilterFloats));

    /// <summary>Most output positions multiplied as rows (<see cref="MultipliesPositionsAsRows"/>).</summary>
    private const int PositionsAsRowsMax = 256;

    /// <summary>Fewest filter floats multiplied as columns (<see cref="MultipliesPositionsAsRows"/>): 2 MiB.</summary>
    private const int PositionsAsRowsMinFilterFloats = 1 << 19;

    /// <summary>
    /// One ungrouped image: yᵀ [OH·OW, K] = xcolᵀ · Wᵀ, the output positions as the product's rows (packed whole by
    /// <see cref="PositionRows"/>) and the kept filters as its columns, split between the threads so that each streams
    /// its own share of them; then transposed into y through the epilogue.
    /// </summary>
    private static unsafe void ForwardPositionsAsRows(float* x, float* filterColumns, in ConvGeometry g, float* y, in ConvEpilogue epilogue)
    {
        int ohw = g.OH * g.OW, depth = g.C * g.R * g.S;
        float* positions = Sgemm.PackBuffer(ref _positionRows, Sgemm.PackedSize(ohw, depth));
        float* yt = Sgemm.PackBuffer(ref _transposedOutput, ohw * g.K);
        PositionRows.Pack(x, g, positions);
        var a = new PackedA(positions, ohw);
        var b = new PackedB(filterColumns, g.K);
        Sgemm.Run(ref a, ref b, ohw, g.K, depth, 1f, 0f, yt, g.K);
        epilogue.Transposed(yt, ohw, g.K, y);
    }

    [ThreadStatic]
    private static float[]? _positionRows, _transposedOutput;

    /// <inheritdoc/>
    public unsafe void Conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, in ConvGeometry g)
    {
        CheckConv("Conv2dBackwardData", dx, w, dy, g);
        var geo = g;
        int groups = g.Groups, cg = g.CPerGroup, kg = g.KPerGroup, hw = g.H * g.W, ohw = g.OH * g.OW;
        int depth = cg * g.R * g.S;
        fixed (float* pdy = dy.Span)
        fixed (float* pw = w.Span)
        fixed (float* pdx = dx.Span)
        {
            nint dyp = (nint)pdy, wp = (nint)pw, dxp = (nint)pdx;
            var algorithm = ConvAlgorithms.Choose(g, ConvDirection.BackwardData);
            if (algorithm == ConvAlgorithm.Depthwise)
            {
                ForChunks(g.N * g.C, (from, to) =>
                {
                    for (int t = from; t < to; t++)
                    {
                        int ch = t % geo.C;
                        DepthwiseConv.BackwardDataPlane((float*)dyp + (nint)t * ohw, (float*)wp + ch * geo.R * geo.S, (float*)dxp + (nint)t * hw, geo);
                    }
                });
                return;
            }
            if (algorithm == ConvAlgorithm.FullWindow)
            {
                // dx [N, C·R·S] = dy [N, K] · W.
                var fa = new DenseA((float*)dyp, g.K, trans: false);
                var fb = new DenseB((float*)wp, depth, trans: false);
                Sgemm.Run(ref fa, ref fb, g.N, depth, g.K, 1f, 0f, (float*)dxp, depth);
                return;
            }
            if (algorithm == ConvAlgorithm.Winograd)
            {
                Winograd.BackwardData((float*)dyp, (float*)wp, (float*)dxp, geo);
                return;
            }
            if (algorithm == ConvAlgorithm.Direct)
            {
                DirectConv.BackwardData((float*)dyp, (float*)wp, (float*)dxp, geo);
                return;
            }
            bool pointwise = algorithm == ConvAlgorithm.Pointwise;
            int tasks = g.N * groups;
            bool innerParallel = tasks < CpuParallel.Threads;
            // Without the pointwise shortcut the GEMM writes the column-matrix gradient for a slice of output
            // positions into a buffer sized to stay in L2, and col2im adds that slice into dx.
            int slice = Math.Min(ohw, Math.Max(32, ColumnSliceFloats / depth / 32 * 32));
            if (!pointwise && ImagesPerGemm(g, Math.Clamp(2 * ColumnSliceFloats / depth, 64, NcTarget)) is int per and > 1)
            {
                BackwardDataImageBlocks((float*)dyp, (float*)wp, (float*)dxp, geo, per);
                return;
            }
            ForChunks(tasks, (from, to) =>
            {
                float[]? scratch = pointwise ? null : BufferPool.Rent(depth * slice);
                try
                {
                    fixed (float* col = scratch)
                    {
                        for (int t = from; t < to; t++)
                        {
                            int n = t / groups, gi = t % groups;
                            float* dyImg = (float*)dyp + ((nint)n * geo.K + gi * kg) * ohw;
                            float* dxImg = (float*)dxp + ((nint)n * geo.C + gi * cg) * hw;
                            // op(A) = W_gᵀ [depth, kg], op(B) = dY_g [kg, ohw] (or a slice of its columns).
                            var a = new DenseA((float*)wp + (nint)gi * kg * depth, depth, trans: true);
                            if (pointwise)
                            {
                                var b = new DenseB(dyImg, ohw, trans: false);
                                Sgemm.Run(ref a, ref b, depth, ohw, kg, 1f, 0f, dxImg, hw, innerParallel);
                                continue;
                            }
                            new Span<float>(dxImg, cg * hw).Clear();
                            var view = new Im2ColView(dxImg, geo);
                            for (int j0 = 0; j0 < ohw; j0 += slice)
                            {
                                int count = Math.Min(slice, ohw - j0);
                                var b = new DenseB(dyImg + j0, ohw, trans: false);
                                Sgemm.Run(ref a, ref b, depth, count, kg, 1f, 0f, col, count, innerParallel);
                                view.Accumulate(col, depth, j0, count);
                            }
                        }
                    }
                }
                finally
                {
                    if (scratch != null)
                    {
                        BufferPool.Return(scratch);
                    }
                }
            });
        }
    }

    /// <inheritdoc/>
    public unsafe void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, in ConvGeometry g)
    {
        CheckConv("Conv2dBackwardFilter", x, dw, dy, g);
        if (g.N == 0)
        {
            dw.Span.Clear();
            return;
        }
        var geo = g;
        int groups = g.Groups, cg = g.CPerGroup, kg = g.KPerGroup, hw = g.H * g.W, ohw = g.OH * g.OW;
        int depth = cg * g.R * g.S;
        fixed (float* px = x.Span)
        fixed (float* pdy = dy.Span)
        fixed (float* pdw = dw.Span)
        {
            nint xp = (nint)px, dyp = (nint)pdy, dwp = (nint)pdw;
            var algorithm = ConvAlgorithms.Choose(g, ConvDirection.BackwardFilter);
            if (algorithm == ConvAlgorithm.Depthwise)
            {
                int rs = g.R * g.S;
                dw.Span.Clear();
                ForChunks(g.C, (from, to) =>
                {
                    for (int ch = from; ch < to; ch++)
                    {
                        for (int n = 0; n < geo.N; n++)
                        {
                            nint plane = (nint)n * geo.C + ch;
                            DepthwiseConv.BackwardFilterPlane((float*)xp + plane * hw, (float*)dyp + plane * ohw, (float*)dwp + ch * rs, geo);
                        }
                    }
                });
                return;
            }
            if (algorithm == ConvAlgorithm.FullWindow)
            {
                // dW [K, C·R·S] = dyᵀ [K, N] · x [N, C·R·S]: each element summed over the images by one thread, in order.
                var fa = new DenseA((float*)dyp, g.K, trans: true);
                var fb = new DenseB((float*)xp, depth, trans: false);
                Sgemm.Run(ref fa, ref fb, g.K, depth, g.N, 1f, 0f, (float*)dwp, depth);
                return;
            }
            if (algorithm == ConvAlgorithm.Winograd)
            {
                Winograd.BackwardFilter((float*)xp, (float*)dyp, (float*)dwp, geo);
                return;
            }
            if (algorithm == ConvAlgorithm.Direct)
            {
                DirectConv.BackwardFilter((float*)xp, (float*)dyp, (float*)dwp, geo);
                return;
            }
            bool pointwise = algorithm == ConvAlgorithm.Pointwise;
            // dw (+)= Σ over images n in [from, to) of dY_n · col_nᵀ, group by group; colᵀ is packed from the image.
            bool batched = !pointwise && ohw < BatchedPositions;
            void Accumulate(float* acc, int from, int to, bool first, bool innerParallel)
            {
                if (batched && to > from)
                {
                    // All images of the range in one GEMM per group: dW_g = [dY_n]_n · [col_n]_nᵀ, summed over
                    // the images and positions in a fixed order.
                    for (int gi = 0; gi < groups; gi++)
                    {
                        nint imageX = (nint)geo.C * hw, imageY = (nint)geo.K * ohw;
                        var a = new BatchRowsA((float*)dyp + from * imageY + (nint)gi * kg * ohw, imageY, ohw);
                        var b = new Im2ColBatchTransposedPackB((float*)xp + from * imageX + (nint)gi * cg * hw, imageX, geo);
                        Sgemm.Run(ref a, ref b, kg, depth, (to - from) * ohw, 1f, first ? 0f : 1f, acc + (nint)gi * kg * depth, depth, innerParallel);
                    }
                    return;
                }
                for (int n = from; n < to; n++, first = false)
                {
                    for (int gi = 0; gi < groups; gi++)
                    {
                        float* dyImg = (float*)dyp + ((nint)n * geo.K + gi * kg) * ohw;
                        float* xImg = (float*)xp + ((nint)n * geo.C + gi * cg) * hw;
                        float* dwGroup = acc + (nint)gi * kg * depth;
                        float beta = first ? 0f : 1f;
                        // op(A) = dY_g [kg, ohw], op(B) = colᵀ [ohw, depth].
                        var a = new DenseA(dyImg, ohw, trans: false);
                        if (pointwise)
                        {
                            var b = new DenseB(xImg, hw, trans: true);
                            Sgemm.Run(ref a, ref b, kg, depth, ohw, 1f, beta, dwGroup, depth, innerParallel);
                        }
                        else
                        {
                            var b = new Im2ColTransposedPackB(new Im2ColView(xImg, geo));
                            Sgemm.Run(ref a, ref b, kg, depth, ohw, 1f, beta, dwGroup, depth, innerParallel);
                        }
                    }
                }
            }

            if (CpuParallel.Threads <= 1 || g.N < CpuParallel.Threads)
            {
                // Few images: one pass straight into dw, each GEMM using every core.
                Accumulate((float*)dwp, 0, g.N, true, true);
                return;
            }

            // Many images: a fixed split into one slice of images per core. Slice 0 sums straight into dw, the others
            // into their own buffers, which are then added in slice order, so the result does not depend on which
            // thread ran first (same seed, same training run).
            int filterSize = dw.Size;
            int slices = CpuParallel.Threads, images = g.N;
            var partials = new float[slices - 1][];
            CpuParallel.For(slices, slice =>
            {
                int from = (int)((long)images * slice / slices), to = (int)((long)images * (slice + 1) / slices);
                if (slice == 0)
                {
                    Accumulate((float*)dwp, from, to, true, false);
                    return;
                }
                var sum = BufferPool.Rent(filterSize);
                fixed (float* acc = sum)
                {
                    Accumulate(acc, from, to, true, false);
                }
                partials[slice - 1] = sum;
            });
            var total = new Span<float>((float*)dwp, filterSize);
            foreach (var sum in partials)
            {
                TensorPrimitives.Add(total, sum, total);
                BufferPool.Return(sum);
            }
        }
    }

    /// <summary>
    /// Whether 3×3 stride-1 convolutions use <see cref="Winograd"/> (true, the default) or the im2col GEMM path: a
    /// switch for comparing the speed of the two paths.
    /// </summary>
    internal static bool UseWinograd { get; set; } = true;

    /// <summary>
    /// Whether stride-1 convolutions with few outputs use <see cref="DirectConv"/> (true, the default) or the im2col GEMM path:
    /// a switch for comparing the speed of the two paths.
    /// </summary>
    internal static bool UseDirectConv { get; set; } = true;

    /// <summary>
    /// Output positions per image below which a convolution multiplies several images in one GEMM (their im2col
    /// matrices side by side): small late-network feature maps would otherwise leave the micro-kernel's 32-wide tiles
    /// part empty and repack the filters for every image.
    /// </summary>
    private const int BatchedPositions = 512;

    /// <summary>Columns per GEMM the image blocks aim for (one packed B block).</summary>
    private const int NcTarget = Sgemm.NC;

    /// <summary>Size (floats) of the per-block forward result buffer the image blocks aim for (1 MiB).</summary>
    private const int ForwardBlockFloats = 256 * 1024;

    /// <summary>
    /// Images per GEMM for the image-block paths: about <paramref name="columns"/> GEMM columns' worth, at most a share
    /// of the batch that still gives every core work; 1 (the per-image path) for large maps.
    /// </summary>
    private static int ImagesPerGemm(in ConvGeometry g, int columns)
    {
        int ohw = g.OH * g.OW;
        if (ohw >= BatchedPositions || g.N < 2)
        {
            return 1;
        }
        // Whole rounds of blocks for the cores, images spread evenly over the blocks.
        int threads = CpuParallel.Threads;
        int blocks = (g.N + Math.Max(1, columns / ohw) - 1) / Math.Max(1, columns / ohw);
        blocks = Math.Min(g.N, (blocks + threads - 1) / threads * threads);
        return (g.N + blocks - 1) / blocks;
    }

    /// <summary>
    /// Forward over blocks of <paramref name="per"/> images: Y_block [kg, per·ohw] = W_g · [col_n]_n in one GEMM into
    /// a buffer, then scattered (plus bias) to the images' output planes.
    /// </summary>
    private static unsafe void ForwardImageBlocks(float* x, float* w, float* packed, ConvEpilogue epilogue, float* y, ConvGeometry g, int per)
    {
        int cg = g.CPerGroup, kg = g.KPerGroup, hw = g.H * g.W, ohw = g.OH * g.OW, depth = cg * g.R * g.S;
        nint xp = (nint)x, wp = (nint)w, pp = (nint)packed, yp = (nint)y;
        int groupPanels = Sgemm.PackedSize(kg, depth);
        ForImageBlocks(g, per, kg * per * ohw, (tp, n0, count, gi, innerParallel) =>
        {
            int cols = count * ohw;
            nint imageX = (nint)g.C * hw;
            var b = new Im2ColBatchPackB((float*)xp + n0 * imageX + (nint)gi * cg * hw, imageX, g);
            if (pp != 0)
            {
                var a = new PackedA((float*)pp + (nint)gi * groupPanels, kg);
                Sgemm.Run(ref a, ref b, kg, cols, depth, 1f, 0f, tp, cols, innerParallel);
            }
            else
            {
                var a = new DenseA((float*)wp + (nint)gi * kg * depth, depth, trans: false);
                Sgemm.Run(ref a, ref b, kg, cols, depth, 1f, 0f, tp, cols, innerParallel);
            }
            for (int i = 0; i < count; i++)
            {
                nint yImg = ((nint)(n0 + i) * g.K + gi * kg) * ohw;
                for (int k = 0; k < kg; k++)
                {
                    nint at = yImg + (nint)k * ohw;
                    epilogue.Row(tp + (nint)k * cols + i * ohw, (float*)yp + at, gi * kg + k, at, ohw);
                }
            }
        });
    }

    /// <summary>
    /// Backward data over blocks of <paramref name="per"/> images: dCol [depth, per·ohw] = W_gᵀ · [dY_n]_n in one GEMM
    /// into a buffer, then col2im into each image's gradient.
    /// </summary>
    private static unsafe void BackwardDataImageBlocks(float* dy, float* w, float* dx, ConvGeometry g, int per)
    {
        int cg = g.CPerGroup, kg = g.KPerGroup, hw = g.H * g.W, ohw = g.OH * g.OW, depth = cg * g.R * g.S;
        nint dyp = (nint)dy, wp = (nint)w, dxp = (nint)dx;
        ForImageBlocks(g, per, depth * per * ohw, (cp, n0, count, gi, innerParallel) =>
        {
            int cols = count * ohw;
            nint imageY = (nint)g.K * ohw;
            var a = new DenseA((float*)wp + (nint)gi * kg * depth, depth, trans: true);
            var b = new BatchRowsB((float*)dyp + n0 * imageY + (nint)gi * kg * ohw, imageY, ohw);
            Sgemm.Run(ref a, ref b, depth, cols, kg, 1f, 0f, cp, cols, innerParallel);
            for (int i = 0; i < count; i++)
            {
                float* dxImg = (float*)dxp + ((nint)(n0 + i) * g.C + gi * cg) * hw;
                new Span<float>(dxImg, cg * hw).Clear();
                new Im2ColView(dxImg, g).Accumulate(cp + i * ohw, cols, depth, 0, ohw);
            }
        });
    }

    /// <summary>One (image block, group) task of the image-block paths: its buffer, first image, image count and group.</summary>
    private unsafe delegate void ImageBlockTask(float* buffer, int firstImage, int images, int group, bool innerParallel);

    /// <summary>
    /// Runs <paramref name="task"/> for every block of <paramref name="per"/> images and every group, in parallel,
    /// each thread with one pooled buffer of <paramref name="bufferFloats"/> floats; a GEMM inside a task uses all
    /// cores when there are fewer tasks than cores.
    /// </summary>
    private static unsafe void ForImageBlocks(ConvGeometry g, int per, int bufferFloats, ImageBlockTask task)
    {
        int groups = g.Groups, blocks = (g.N + per - 1) / per, tasks = blocks * groups;
        bool innerParallel = tasks < CpuParallel.Threads;
        ForChunks(tasks, (from, to) =>
        {
            var buffer = BufferPool.Rent(bufferFloats);
            try
            {
                fixed (float* bp = buffer)
                {
                    for (int t = from; t < to; t++)
                    {
                        int n0 = t / groups * per;
                        task(bp, n0, Math.Min(per, g.N - n0), t % groups, innerParallel);
                    }
                }
            }
            finally
            {
                BufferPool.Return(buffer);
            }
        });
    }

    /// <summary>Size (floats) of the column-matrix slice backward-data works through at a time (512 KiB, half of L2).</summary>
    private const int ColumnSliceFloats = 128 * 1024;

    /// <summary>Checks that the image, filter and output tensors have the sizes the geometry implies.</summary>
    private static void CheckConv(string op, Tensor image, Tensor filter, Tensor output, in ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(output);
        if (g.Groups < 1 || g.C % g.Groups != 0 || g.K % g.Groups != 0 || g.OH < 1 || g.OW < 1)
        {
            throw new ArgumentException($"{op}: invalid geometry {g}.");
        }
        if (image.Size != g.N * g.C * g.H * g.W)
        {
            throw new ShapeMismatchException($"{op}: the input {image.Shape} does not match the geometry [{g.N}, {g.C}, {g.H}, {g.W}].");
        }
        if (filter.Size != g.K * g.CPerGroup * g.R * g.S)
        {
            throw new ShapeMismatchException($"{op}: the filter {filter.Shape} does not match the geometry [{g.K}, {g.CPerGroup}, {g.R}, {g.S}].");
        }
        if (output.Size != g.N * g.K * g.OH * g.OW)
        {
            throw new ShapeMismatchException($"{op}: the output {output.Shape} does not match the geometry [{g.N}, {g.K}, {g.OH}, {g.OW}].");
        }
    }

    /// <summary>
    /// Runs body(from, to) over contiguous ranges covering [0, count) on all cores (about four ranges per core, handed
    /// out as cores become free). Runs inline on one core or for one item.
    /// </summary>
    internal static void ForChunks(int count, Action<int, int> body) => CpuParallel.ForRanges(count, body);
}
