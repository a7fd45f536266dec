using System.Collections;
using System.Text;

namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// The dimensions of a tensor, outermost first (row-major; images are <c>[N, C, H, W]</c>).
/// Immutable; equality is by value.
/// </summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? _dims;

    /// <summary>Creates a shape from its dimensions; every dimension must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        foreach (int d in dims)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape dimensions must be non-negative, got {Format(dims)}.", nameof(dims));
            }
        }
        _dims = (int[])dims.Clone();
    }

    /// <summary>Creates a shape from a span of dimensions.</summary>
    public Shape(ReadOnlySpan<int> dims) : this(dims.ToArray())
    {
    }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public int Size
    {
        get
        {
            long n = 1;
            if (_dims != null)
            {
                foreach (int d in _dims)
                {
                    n *= d;
                }
            }
            if (n > int.MaxValue)
            {
                throw new InvalidOperationException($"Shape {this} has {n} elements, more than a single tensor can hold.");
            }
            return (int)n;
        }
    }

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => Dims[NormalizeAxis(axis)];

    /// <summary>The dimensions as a read-only span.</summary>
    public ReadOnlySpan<int> Dims => _dims ?? [];

    int IReadOnlyCollection<int>.Count => Rank;

    /// <summary>Maps a possibly negative axis to <c>[0, Rank)</c>, or throws naming the shape.</summary>
    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
        }
        return a;
    }

    /// <summary>Product of the dimensions in <c>[start, end)</c>.</summary>
    public int SizeOf(int start, int end)
    {
        int n = 1;
        for (int i = start; i < end; i++)
        {
            n *= Dims[i];
        }
        return n;
    }

    /// <summary>Row-major strides, in elements.</summary>
    public int[] Strides()
    {
        var s = new int[Rank];
        int acc = 1;
        for (int i = Rank - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= Dims[i];
        }
        return s;
    }

    /// <summary>Copy of the dimensions.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <summary>A new shape with dimension <paramref name="axis"/> replaced.</summary>
    public Shape With(int axis, int value)
    {
        var d = ToArray();
        d[NormalizeAxis(axis)] = value;
        return new Shape(d);
    }

    /// <summary>
    /// The broadcast shape of two shapes (NumPy rules: align from the right, 1 stretches).
    /// Throws naming both shapes and the operation when they are incompatible.
    /// </summary>
    public static Shape Broadcast(Shape a, Shape b, string operation)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var d = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a.Dims[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b.Dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
            {
                throw new ShapeMismatchException(operation, a, b, "the shapes cannot be broadcast together");
            }
            d[i] = da == 1 ? db : da;
        }
        return new Shape(d);
    }

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims)
        {
            h.Add(d);
        }
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3, 4]</c>.</summary>
    public override string ToString() => Format(Dims);

    private static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            sb.Append(dims[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)ToArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Implicit conversion from an array of dimensions.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);
}

/// <summary>Thrown when an operation receives tensors whose shapes do not fit; names the operation and both shapes.</summary>
public sealed class ShapeMismatchException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public ShapeMismatchException(string operation, Shape first, Shape second, string reason)
        : base($"{operation}: shapes {first} and {second} do not fit: {reason}.")
    {
        Operation = operation;
        First = first;
        Second = second;
    }

    /// <summary>Creates the exception with a free-form message.</summary>
    public ShapeMismatchException(string message) : base(message)
    {
        Operation = string.Empty;
    }

    /// <summary>Creates the exception with a free-form message.</summary>
    public ShapeMismatchException() : this("Shapes do not fit.")
    {
    }

    /// <summary>Creates the exception with a free-form message and inner exception.</summary>
    public ShapeMismatchException(string message, Exception innerException) : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>The operation (or layer) that rejected the shapes.</summary>
    public string Operation { get; }

    /// <summary>The first shape.</summary>
    public Shape First { get; }

    /// <summary>The second shape.</summary>
    public Shape Second { get; }
}
