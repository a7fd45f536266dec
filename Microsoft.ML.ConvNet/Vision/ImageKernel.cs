using System.Globalization;
using System.Text;

namespace Microsoft.ML.ConvNet.Vision;

/// <summary>
/// How a filter sees pixels outside the image, as OpenCV's border types (<c>cv::BorderTypes</c>) do; with the image
/// row <c>abcdefgh</c>:
/// </summary>
public enum BorderMode
{
    /// <summary><c>gfedcb|abcdefgh|gfedcba</c>: reflection without repeating the edge pixel (OpenCV's <c>BORDER_REFLECT_101</c>, its default).</summary>
    Reflect101,

    /// <summary><c>iiiiii|abcdefgh|iiiiiii</c>: a constant value, zero unless given (OpenCV's <c>BORDER_CONSTANT</c>).</summary>
    Constant,

    /// <summary><c>aaaaaa|abcdefgh|hhhhhhh</c>: the edge pixel repeated (OpenCV's <c>BORDER_REPLICATE</c>).</summary>
    Replicate,
}

/// <summary>
/// A 2-D filter kernel with odd height and width, applied as a cross-correlation (as OpenCV's <c>filter2D</c> and
/// <c>Conv2d</c> do): <c>out[y, x] = Σ k[i, j] · in[y + i − h/2, x + j − w/2]</c>.
/// </summary>
public sealed class ImageKernel
{
    private readonly float[] _values;

    /// <summary>A kernel of <paramref name="height"/> × <paramref name="width"/> values in row-major order.</summary>
    /// <param name="name">A short name, e.g. "sobel-x" (used in messages and pictures).</param>
    /// <param name="height">Rows; odd and positive.</param>
    /// <param name="width">Columns; odd and positive.</param>
    /// <param name="values">height × width finite values, row by row.</param>
    /// <param name="description">What the kernel does, in a few words.</param>
    public ImageKernel(string name, int height, int width, ReadOnlySpan<float> values, string description = "custom kernel")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (height <= 0 || width <= 0 || height % 2 == 0 || width % 2 == 0)
        {
            throw new ArgumentException($"Kernel '{name}': the size must be odd in both directions (a centre pixel), got {height}x{width}.", nameof(height));
        }
        if (values.Length != height * width)
        {
            throw new ArgumentException($"Kernel '{name}': a {height}x{width} kernel needs {height * width} values, got {values.Length}.", nameof(values));
        }
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"Kernel '{name}': value {i} (row {i / width}, column {i % width}) is {values[i].ToString(CultureInfo.InvariantCulture)}; kernels need finite values.", nameof(values));
            }
        }
        Name = name;
        Height = height;
        Width = width;
        Description = description;
        _values = values.ToArray();
    }

    /// <summary>A kernel from a 2-D array (rows first).</summary>
    public static ImageKernel Custom(float[,] values, string name = "custom")
    {
        ArgumentNullException.ThrowIfNull(values);
        int h = values.GetLength(0), w = values.GetLength(1);
        var flat = new float[h * w];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                flat[y * w + x] = values[y, x];
            }
        }
        return new ImageKernel(name, h, w, flat);
    }

    /// <summary>The kernel's name, e.g. "sobel-x".</summary>
    public string Name { get; }

    /// <summary>What the kernel does.</summary>
    public string Description { get; }

    /// <summary>Rows (odd).</summary>
    public int Height { get; }

    /// <summary>Columns (odd).</summary>
    public int Width { get; }

    /// <summary>The values, row by row.</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>The value at row <paramref name="row"/> and column <paramref name="column"/>.</summary>
    public float this[int row, int column] => _values[row * Width + column];

    /// <summary>The sum of the values (1 for a blur, 0 for an edge detector).</summary>
    public float Sum()
    {
        double s = 0;
        foreach (float v in _values)
        {
            s += v;
        }
        return (float)s;
    }

    /// <summary>For example <c>sobel-x 3x3 [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Name} {Height}x{Width} [");
        for (int y = 0; y < Height; y++)
        {
            sb.Append(y == 0 ? "[" : ", [");
            for (int x = 0; x < Width; x++)
            {
                sb.Append(x == 0 ? "" : ", ").Append(this[y, x].ToString("G6", CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        return sb.Append(']').ToString();
    }
}
