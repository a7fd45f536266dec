using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Vision;

/// <summary>
/// The classic hand-crafted image kernels (identity, edge detection, sharpen, blurs, unsharp masking, Sobel, Prewitt,
/// Scharr, Laplacian) and custom ones, run as convolutions on the engine: the image is padded by the border mode and
/// convolved with a fixed-weight depthwise <see cref="Functional.Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/>, each
/// channel on its own. Results equal OpenCV's <c>filter2D</c>, <c>Sobel</c>, <c>Scharr</c>, <c>GaussianBlur</c> (σ = 0)
/// and <c>Laplacian</c> (ksize 1) with the same border mode. <see cref="Initialize(Conv2d, ImageKernel[])"/> puts
/// kernels into a layer's filters instead.
/// </summary>
public static class ImageFilters
{
    private static readonly ImageKernel[] All =
    [
        K("identity", "leaves the image unchanged", 3, [0, 0, 0, 0, 1, 0, 0, 0, 0]),
        K("edge-diagonal", "edge detection (diagonal differences)", 3, [1, 0, -1, 0, 0, 0, -1, 0, 1]),
        K("edge-4", "edge detection (4 neighbours)", 3, [0, 1, 0, 1, -4, 1, 0, 1, 0]),
        K("edge-8", "edge detection (8 neighbours)", 3, [-1, -1, -1, -1, 8, -1, -1, -1, -1]),
        K("sharpen", "sharpen", 3, [0, -1, 0, -1, 5, -1, 0, -1, 0]),
        K("box-blur", "box blur (3x3 mean)", 3, Scale(1f / 9, [1, 1, 1, 1, 1, 1, 1, 1, 1])),
        K("gaussian-blur-3", "Gaussian blur 3x3 (as OpenCV's GaussianBlur, sigma 0)", 3, Scale(1f / 16, [1, 2, 1, 2, 4, 2, 1, 2, 1])),
        K("gaussian-blur-5", "Gaussian blur 5x5 (as OpenCV's GaussianBlur, sigma 0)", 5, Scale(1f / 256,
            [1, 4, 6, 4, 1, 4, 16, 24, 16, 4, 6, 24, 36, 24, 6, 4, 16, 24, 16, 4, 1, 4, 6, 4, 1])),
        K("unsharp-mask-5", "unsharp masking 5x5 (image plus its difference from a Gaussian blur)", 5, Scale(-1f / 256,
            [1, 4, 6, 4, 1, 4, 16, 24, 16, 4, 6, 24, -476, 24, 6, 4, 16, 24, 16, 4, 1, 4, 6, 4, 1])),
        K("sobel-x", "Sobel derivative in x (vertical edges)", 3, [-1, 0, 1, -2, 0, 2, -1, 0, 1]),
        K("sobel-y", "Sobel derivative in y (horizontal edges)", 3, [-1, -2, -1, 0, 0, 0, 1, 2, 1]),
        K("prewitt-x", "Prewitt derivative in x", 3, [-1, 0, 1, -1, 0, 1, -1, 0, 1]),
        K("prewitt-y", "Prewitt derivative in y", 3, [-1, -1, -1, 0, 0, 0, 1, 1, 1]),
        K("scharr-x", "Scharr derivative in x", 3, [-3, 0, 3, -10, 0, 10, -3, 0, 3]),
        K("scharr-y", "Scharr derivative in y", 3, [-3, -10, -3, 0, 0, 0, 3, 10, 3]),
        K("laplacian", "Laplacian (as OpenCV's Laplacian, ksize 1)", 3, [0, 1, 0, 1, -4, 1, 0, 1, 0]),
    ];

    /// <summary>The gradient-magnitude filters: name → (x kernel, y kernel).</summary>
    private static readonly (string Name, string X, string Y)[] Magnitudes =
    [
        ("sobel-magnitude", "sobel-x", "sobel-y"),
        ("prewitt-magnitude", "prewitt-x", "prewitt-y"),
        ("scharr-magnitude", "scharr-x", "scharr-y"),
    ];

    /// <summary>The named kernels, in the order of the classic table.</summary>
    public static IReadOnlyList<ImageKernel> Kernels => All;

    /// <summary>
    /// Every filter name <see cref="Apply(Tensor, string, BorderMode, float)"/> accepts: the kernels' names and the
    /// gradient magnitudes <c>sobel-magnitude</c>, <c>prewitt-magnitude</c> and <c>scharr-magnitude</c>
    /// (√(gx² + gy²) of the two derivative kernels).
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(k => k.Name), .. Magnitudes.Select(m => m.Name)];

    /// <summary>What the named filter does (for help texts).</summary>
    public static string Describe(string name)
    {
        foreach (var m in Magnitudes)
        {
            if (string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return $"gradient magnitude sqrt(gx^2 + gy^2) of {m.X} and {m.Y}";
            }
        }
        return Kernel(name).Description;
    }

    /// <summary>The kernel called <paramref name="name"/> (case-insensitive), e.g. "sobel-x".</summary>
    /// <exception cref="ArgumentException">No kernel has that name; the message lists the names.</exception>
    public static ImageKernel Kernel(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown kernel '{name}'. Known kernels: {string.Join(", ", All.Select(k => k.Name))}.", nameof(name));
    }

    /// <summary>Identity: leaves the image unchanged.</summary>
    public static ImageKernel Identity => All[0];

    /// <summary>Sobel derivative in x: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]].</summary>
    public static ImageKernel SobelX => Kernel("sobel-x");

    /// <summary>Sobel derivative in y: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]].</summary>
    public static ImageKernel SobelY => Kernel("sobel-y");

    /// <summary>Gaussian blur 3×3: [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16.</summary>
    public static ImageKernel GaussianBlur3 => Kernel("gaussian-blur-3");

    /// <summary>Gaussian blur 5×5: the outer product of [1, 4, 6, 4, 1] / 16 with itself.</summary>
    public static ImageKernel GaussianBlur5 => Kernel("gaussian-blur-5");

    /// <summary>Laplacian: [[0, 1, 0], [1, -4, 1], [0, 1, 0]].</summary>
    public static ImageKernel Laplacian => Kernel("laplacian");

    /// <summary>
    /// Runs the named filter (a kernel of <see cref="Kernels"/> or a gradient magnitude, see <see cref="Names"/>) on
    /// images <c>[N, C, H, W]</c> or <c>[C, H, W]</c>, each channel on its own; the output has the input's shape.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the names) or a tensor of another rank.</exception>
    public static Tensor Apply(Tensor images, string filter, BorderMode border = BorderMode.Reflect101, float borderValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(filter);
        foreach (var m in Magnitudes)
        {
            if (string.Equals(m.Name, filter, StringComparison.OrdinalIgnoreCase))
            {
                return GradientMagnitude(images, Kernel(m.X), Kernel(m.Y), border, borderValue);
            }
        }
        if (!All.Any(k => string.Equals(k.Name, filter, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"Unknown filter '{filter}'. Known filters: {string.Join(", ", Names)}.", nameof(filter));
        }
        return Apply(images, Kernel(filter), border, borderValue);
    }

    /// <summary>
    /// Filters images <c>[N, C, H, W]</c> or <c>[C, H, W]</c> with <paramref name="kernel"/>, each channel on its own
    /// (a depthwise convolution with fixed weights after padding by <paramref name="border"/>); the output has the
    /// input's shape. No gradient flows back to <paramref name="images"/>.
    /// </summary>
    /// <param name="images">The images, on any device.</param>
    /// <param name="kernel">The kernel (see <see cref="Kernels"/> or <see cref="ImageKernel.Custom"/>).</param>
    /// <param name="border">How pixels outside the image are taken (default OpenCV's <c>BORDER_REFLECT_101</c>).</param>
    /// <param name="borderValue">The outside value of <see cref="BorderMode.Constant"/>.</param>
    public static Tensor Apply(Tensor images, ImageKernel kernel, BorderMode border = BorderMode.Reflect101, float borderValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(kernel);
        var x4 = AsBatch(images, nameof(Apply));
        int channels = x4.Shape[1];
        using var noGrad = new NoGradScope();
        var padded = Pad(x4, kernel.Height / 2, kernel.Height / 2, kernel.Width / 2, kernel.Width / 2, border, borderValue);
        var weight = DepthwiseWeight(kernel, channels, images.Device);
        try
        {
            var y = Functional.Conv2d(padded, weight, null, stride: 1, padding: 0, dilation: 1, groups: channels);
            if (images.Rank == 4)
            {
                return y;
            }
            var chw = y.Reshape(images.Shape.Dims.ToArray());
            y.Dispose(); // the reshaped view keeps the memory
            return chw;
        }
        finally
        {
            padded.Dispose();
            weight.Dispose();
            if (!ReferenceEquals(x4, images))
            {
                x4.Dispose();
            }
        }
    }

    /// <summary>
    /// The gradient magnitude √(gx² + gy²) of images <c>[N, C, H, W]</c> or <c>[C, H, W]</c>, gx and gy being the
    /// images filtered with <paramref name="x"/> and <paramref name="y"/> (as OpenCV's <c>magnitude</c> of two
    /// <c>Sobel</c> results).
    /// </summary>
    public static Tensor GradientMagnitude(Tensor images, ImageKernel x, ImageKernel y, BorderMode border = BorderMode.Reflect101, float borderValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        using var noGrad = new NoGradScope();
        var gx = Apply(images, x, border, borderValue);
        var gy = Apply(images, y, border, borderValue);
        var gx2 = gx.Square();
        var gy2 = gy.Square();
        var sum = gx2.Add(gy2);
        try
        {
            return sum.Sqrt();
        }
        finally
        {
            foreach (var t in new[] { gx, gy, gx2, gy2, sum })
            {
                t.Dispose();
            }
        }
    }

    /// <summary>
    /// Pads images <c>[N, C, H, W]</c> by the given number of rows and columns on each side, taking the new pixels as
    /// <paramref name="border"/> says (OpenCV's <c>copyMakeBorder</c>). No gradient flows through it.
    /// </summary>
    public static Tensor Pad(Tensor images, int top, int bottom, int left, int right, BorderMode border = BorderMode.Reflect101, float borderValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4)
        {
            throw new ArgumentException($"Pad expects images [N, C, H, W], got {images.Shape}.", nameof(images));
        }
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(top), $"Padding must not be negative, got top {top}, bottom {bottom}, left {left}, right {right}.");
        }
        if (!Enum.IsDefined(border))
        {
            throw new ArgumentOutOfRangeException(nameof(border), $"Unknown border mode {border}.");
        }
        int n = images.Shape[0], c = images.Shape[1], h = images.Shape[2], w = images.Shape[3];
        int ph = h + top + bottom, pw = w + left + right;
        var source = images.ToArray();
        var padded = new float[n * c * ph * pw];
        var rows = new int[ph];
        var cols = new int[pw];
        for (int y = 0; y < ph; y++)
        {
            rows[y] = BorderIndex(y - top, h, border);
        }
        for (int x = 0; x < pw; x++)
        {
            cols[x] = BorderIndex(x - left, w, border);
        }
        for (int plane = 0; plane < n * c; plane++)
        {
            var src = source.AsSpan(plane * h * w, h * w);
            var dst = padded.AsSpan(plane * ph * pw, ph * pw);
            for (int y = 0; y < ph; y++)
            {
                int sy = rows[y];
                for (int x = 0; x < pw; x++)
                {
                    int sx = cols[x];
                    dst[y * pw + x] = sy < 0 || sx < 0 ? borderValue : src[sy * w + sx];
                }
            }
        }
        return Tensor.FromArray(padded, new Shape(n, c, ph, pw), images.Device);
    }

    /// <summary>
    /// The source index of position <paramref name="p"/> of a row of <paramref name="length"/> pixels, or −1 for the
    /// constant border (OpenCV's <c>borderInterpolate</c>).
    /// </summary>
    internal static int BorderIndex(int p, int length, BorderMode border)
    {
        if ((uint)p < (uint)length)
        {
            return p;
        }
        switch (border)
        {
            case BorderMode.Constant:
                return -1;
            case BorderMode.Replicate:
                return p < 0 ? 0 : length - 1;
            default:
                if (length == 1)
                {
                    return 0;
                }
                do
                {
                    p = p < 0 ? -p : 2 * (length - 1) - p;
                }
                while ((uint)p >= (uint)length);
                return p;
        }
    }

    /// <summary>
    /// A depthwise <see cref="Conv2d"/> over <paramref name="channels"/> channels whose filters are <paramref name="kernel"/>
    /// (no bias, frozen: its weight does not require a gradient) with zero padding that keeps the size, i.e. the filter
    /// with <see cref="BorderMode.Constant"/> as a layer of a network.
    /// </summary>
    public static Conv2d CreateConv2d(ImageKernel kernel, int channels)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var conv = new Conv2d(channels, channels, new Size2(kernel.Height, kernel.Width), padding: new Size2(kernel.Height / 2, kernel.Width / 2),
            groups: channels, bias: false);
        Initialize(conv, kernel);
        conv.Freeze();
        return conv;
    }

    /// <summary>Puts the named kernels into <paramref name="layer"/>'s filters; see <see cref="Initialize(Conv2d, ImageKernel[])"/>.</summary>
    public static void Initialize(Conv2d layer, params string[] kernelNames)
    {
        ArgumentNullException.ThrowIfNull(kernelNames);
        Initialize(layer, [.. kernelNames.Select(Kernel)]);
    }

    /// <summary>
    /// Initialises <paramref name="layer"/>'s filters with hand-crafted kernels: filter <c>o</c> gets
    /// <c>kernels[o % kernels.Length]</c>, centred in the layer's kernel size (zeros around it), on each of its input
    /// channels divided by their number (so the filter applies the kernel to the mean of its channels; exactly the
    /// kernel for one channel or a depthwise layer); the bias, if any, becomes zero.
    /// </summary>
    /// <exception cref="ArgumentException">No kernel, or a kernel larger than the layer's, or one that cannot be centred in it.</exception>
    public static void Initialize(Conv2d layer, params ImageKernel[] kernels)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(kernels);
        if (kernels.Length == 0)
        {
            throw new ArgumentException("Give at least one kernel.", nameof(kernels));
        }
        int kh = layer.KernelSize.H, kw = layer.KernelSize.W, inPerGroup = layer.InChannels / layer.Groups;
        foreach (var k in kernels)
        {
            if (k.Height > kh || k.Width > kw || (kh - k.Height) % 2 != 0 || (kw - k.Width) % 2 != 0)
            {
                throw new ArgumentException(
                    $"Kernel '{k.Name}' ({k.Height}x{k.Width}) cannot be centred in the {kh}x{kw} filters of {layer}; it must be no larger and differ by an even number of rows and columns.",
                    nameof(kernels));
            }
        }
        var weight = new float[layer.OutChannels * inPerGroup * kh * kw];
        for (int o = 0; o < layer.OutChannels; o++)
        {
            var k = kernels[o % kernels.Length];
            int dy = (kh - k.Height) / 2, dx = (kw - k.Width) / 2;
            for (int i = 0; i < inPerGroup; i++)
            {
                int baseIndex = (o * inPerGroup + i) * kh * kw;
                for (int y = 0; y < k.Height; y++)
                {
                    for (int x = 0; x < k.Width; x++)
                    {
                        weight[baseIndex + (y + dy) * kw + x + dx] = k[y, x] / inPerGroup;
                    }
                }
            }
        }
        layer.Weight.CopyFrom(weight);
        layer.Bias?.CopyFrom(new float[layer.OutChannels]);
    }

    private static Tensor AsBatch(Tensor images, string caller) => images.Rank switch
    {
        4 => images,
        3 => images.Reshape(1, images.Shape[0], images.Shape[1], images.Shape[2]),
        _ => throw new ArgumentException($"{caller} expects images [N, C, H, W] or [C, H, W], got {images.Shape}.", nameof(images)),
    };

    private static Tensor DepthwiseWeight(ImageKernel kernel, int channels, Backends.Device device)
    {
        var w = new float[channels * kernel.Height * kernel.Width];
        for (int c = 0; c < channels; c++)
        {
            kernel.Values.CopyTo(w.AsSpan(c * kernel.Values.Length));
        }
        return Tensor.FromArray(w, new Shape(channels, 1, kernel.Height, kernel.Width), device);
    }

    private static ImageKernel K(string name, string description, int size, float[] values) => new(name, size, size, values, description);

    private static float[] Scale(float s, float[] v) => [.. v.Select(x => x * s)];
}
