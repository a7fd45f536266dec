namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>
/// The type of a data view column, as in ML.NET. Each type has a <see cref="RawType"/>: the .NET type of the values a
/// getter returns. Differences from ML.NET: text values are <see cref="string"/> (ML.NET uses
/// <c>ReadOnlyMemory&lt;char&gt;</c>); vector values are plain arrays <c>T[]</c> (ML.NET uses <c>VBuffer&lt;T&gt;</c>, always
/// dense here); image values are any reference type (the decoded image object).
/// </summary>
public abstract class DataViewType : IEquatable<DataViewType>
{
    /// <summary>Creates a type whose values are <paramref name="rawType"/>.</summary>
    protected DataViewType(Type rawType)
    {
        ArgumentNullException.ThrowIfNull(rawType);
        RawType = rawType;
    }

    /// <summary>The .NET type of the values of this type (<c>string</c>, <c>float</c>, <c>uint</c> for keys, <c>float[]</c>, ...).</summary>
    public Type RawType { get; }

    /// <summary>Whether two types are the same.</summary>
    public abstract bool Equals(DataViewType? other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DataViewType t && Equals(t);

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();

    /// <summary>Whether a getter of <paramref name="valueType"/> can read values of this type.</summary>
    internal virtual bool AcceptsValueType(Type valueType) => valueType == RawType;
}

/// <summary>A type whose values are scalars (not vectors): text, numbers, Booleans, keys.</summary>
public abstract class PrimitiveDataViewType : DataViewType
{
    /// <summary>Creates a primitive type whose values are <paramref name="rawType"/>.</summary>
    protected PrimitiveDataViewType(Type rawType) : base(rawType)
    {
    }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is PrimitiveDataViewType p && p.GetType() == GetType() && p.RawType == RawType;

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();
}

/// <summary>Text. Values are <see cref="string"/> (ML.NET: <c>ReadOnlyMemory&lt;char&gt;</c>).</summary>
public sealed class TextDataViewType : PrimitiveDataViewType
{
    private TextDataViewType() : base(typeof(string))
    {
    }

    /// <summary>The single instance.</summary>
    public static TextDataViewType Instance { get; } = new();

    /// <summary>"String", as ML.NET prints it.</summary>
    public override string ToString() => "String";
}

/// <summary>Booleans; values are <see cref="bool"/>.</summary>
public sealed class BooleanDataViewType : PrimitiveDataViewType
{
    private BooleanDataViewType() : base(typeof(bool))
    {
    }

    /// <summary>The single instance.</summary>
    public static BooleanDataViewType Instance { get; } = new();

    /// <summary>"Boolean".</summary>
    public override string ToString() => "Boolean";
}

/// <summary>Numbers: <see cref="Single"/>, <see cref="Double"/>, <see cref="Byte"/>, <see cref="Int32"/>, <see cref="UInt32"/>, <see cref="Int64"/>.</summary>
public sealed class NumberDataViewType : PrimitiveDataViewType
{
    private NumberDataViewType(Type rawType) : base(rawType)
    {
    }

    /// <summary>32-bit floats (<see cref="float"/>).</summary>
    public static NumberDataViewType Single { get; } = new(typeof(float));

    /// <summary>64-bit floats (<see cref="double"/>).</summary>
    public static NumberDataViewType Double { get; } = new(typeof(double));

    /// <summary>Bytes (<see cref="byte"/>); a vector of bytes holds raw file or pixel bytes.</summary>
    public static NumberDataViewType Byte { get; } = new(typeof(byte));

    /// <summary>32-bit signed integers (<see cref="int"/>).</summary>
    public static NumberDataViewType Int32 { get; } = new(typeof(int));

    /// <summary>32-bit unsigned integers (<see cref="uint"/>).</summary>
    public static NumberDataViewType UInt32 { get; } = new(typeof(uint));

    /// <summary>64-bit signed integers (<see cref="long"/>).</summary>
    public static NumberDataViewType Int64 { get; } = new(typeof(long));

    /// <summary>The number type of <paramref name="type"/>, or null when it is not one.</summary>
    public static NumberDataViewType? FromRawType(Type type) =>
        type == typeof(float) ? Single : type == typeof(double) ? Double : type == typeof(byte) ? Byte
        : type == typeof(int) ? Int32 : type == typeof(uint) ? UInt32 : type == typeof(long) ? Int64 : null;

    /// <summary>The .NET name of the raw type ("Single", "Double", ...), as ML.NET prints it.</summary>
    public override string ToString() => RawType.Name;
}

/// <summary>
/// A key: a category index in <c>[1, Count]</c>, with 0 meaning missing (as in ML.NET). Values are <see cref="uint"/>.
/// The names of the categories are the column's <see cref="AnnotationUtils.Kinds.KeyValues"/> annotation.
/// </summary>
public sealed class KeyDataViewType : PrimitiveDataViewType
{
    /// <summary>
    /// Creates a key type of <paramref name="count"/> categories. A count of 0 means "known only after <c>Fit</c>": it is
    /// used in the output schemas of estimators (ML.NET expresses this with <c>SchemaShape</c>).
    /// </summary>
    public KeyDataViewType(ulong count) : base(typeof(uint))
    {
        if (count > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"A key type holds at most {uint.MaxValue} categories, got {count}.");
        }
        Count = count;
    }

    /// <summary>The number of categories (0: not known yet).</summary>
    public ulong Count { get; }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is KeyDataViewType k && k.Count == Count;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(typeof(KeyDataViewType), Count);

    /// <summary>"Key&lt;UInt32, 0-9&gt;" as ML.NET prints it, or "Key&lt;UInt32&gt;" when the count is not known yet.</summary>
    public override string ToString() => Count == 0 ? "Key<UInt32>" : $"Key<UInt32, 0-{Count - 1}>";
}

/// <summary>
/// A vector of <see cref="ItemType"/> values with a shape (<see cref="Dimensions"/>, row-major). Values are dense
/// arrays <c>T[]</c> of the item's raw type (ML.NET: <c>VBuffer&lt;T&gt;</c>); raw bytes are a vector of
/// <see cref="NumberDataViewType.Byte"/>. No dimensions, or a dimension of 0, means a vector of variable size.
/// </summary>
public sealed class VectorDataViewType : DataViewType
{
    /// <summary>Creates a vector type of <paramref name="itemType"/> items with <paramref name="dimensions"/> (none: variable size).</summary>
    public VectorDataViewType(PrimitiveDataViewType itemType, params int[] dimensions)
        : base((itemType ?? throw new ArgumentNullException(nameof(itemType))).RawType.MakeArrayType())
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Any(d => d < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), $"Vector dimensions must be non-negative, got [{string.Join(", ", dimensions)}].");
        }
        ItemType = itemType;
        Dimensions = [.. dimensions];
        long size = dimensions.Length == 0 ? 0 : 1;
        foreach (int d in dimensions)
        {
            size *= d;
        }
        if (size > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), $"A vector of [{string.Join(", ", dimensions)}] holds more than {int.MaxValue} items.");
        }
        Size = (int)size;
    }

    /// <summary>The type of the items.</summary>
    public PrimitiveDataViewType ItemType { get; }

    /// <summary>The shape of the vector (empty: variable size).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The number of items (product of the dimensions), or 0 for a vector of variable size.</summary>
    public int Size { get; }

    /// <summary>Whether every vector of this type has <see cref="Size"/> items.</summary>
    public bool IsKnownSize => Size > 0;

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) =>
        other is VectorDataViewType v && v.ItemType.Equals(ItemType) && v.Dimensions.SequenceEqual(Dimensions);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ItemType, Size, Dimensions.Count);

    /// <summary>"Vector&lt;Single, 1, 28, 28&gt;" or "Vector&lt;Single&gt;" (variable size), as ML.NET prints it.</summary>
    public override string ToString() => Dimensions.Count == 0 || Size == 0
        ? $"Vector<{ItemType}>"
        : $"Vector<{ItemType}, {string.Join(", ", Dimensions)}>";
}

/// <summary>
/// A decoded image of <see cref="Height"/>×<see cref="Width"/> pixels (0: not known). Values are the image objects
/// themselves: any reference type, checked by the type, not by the value's .NET type.
/// </summary>
public sealed class ImageDataViewType : DataViewType
{
    /// <summary>Creates an image type; 0 for a size not known before the images are read.</summary>
    public ImageDataViewType(int height = 0, int width = 0) : base(typeof(object))
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        Height = height;
        Width = width;
    }

    /// <summary>The height in pixels (0: not known).</summary>
    public int Height { get; }

    /// <summary>The width in pixels (0: not known).</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is ImageDataViewType i && i.Height == Height && i.Width == Width;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(typeof(ImageDataViewType), Height, Width);

    /// <summary>"Image&lt;64, 48&gt;" (height, width) or "Image" when the size is not known, as ML.NET prints it.</summary>
    public override string ToString() => Height == 0 && Width == 0 ? "Image" : $"Image<{Height}, {Width}>";

    internal override bool AcceptsValueType(Type valueType) => !valueType.IsValueType;
}
