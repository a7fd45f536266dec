using System.Reflection;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>Marks an array member as a vector column of the given shape (ML.NET's <c>VectorTypeAttribute</c>); without it, a vector of variable size.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class VectorTypeAttribute(params int[] dimensions) : Attribute
{
    /// <summary>The shape of the vector.</summary>
    public IReadOnlyList<int> Dimensions { get; } = [.. dimensions];
}

/// <summary>Marks a <see cref="uint"/> member as a key column of <paramref name="count"/> categories (ML.NET's <c>KeyTypeAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class KeyTypeAttribute(ulong count) : Attribute
{
    /// <summary>The number of categories.</summary>
    public ulong Count { get; } = count;
}

/// <summary>Marks a member as an image column of the given size (ML.NET's <c>ImageTypeAttribute</c>); 0 = not known.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ImageTypeAttribute(int height = 0, int width = 0) : Attribute
{
    /// <summary>The height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>The width in pixels.</summary>
    public int Width { get; } = width;
}

/// <summary>Names the column of a member (ML.NET's <c>ColumnNameAttribute</c>); default: the member's name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ColumnNameAttribute(string name) : Attribute
{
    /// <summary>The column name.</summary>
    public string Name { get; } = name;
}

/// <summary>Excludes a member from the columns (ML.NET's <c>NoColumnAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class NoColumnAttribute : Attribute
{
}

/// <summary>The index of a member's field in a text file (ML.NET's <c>LoadColumnAttribute</c>); without it, text files are matched by header name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class LoadColumnAttribute(int fieldIndex) : Attribute
{
    /// <summary>The zero-based field index.</summary>
    public int FieldIndex { get; } = fieldIndex;
}

/// <summary>How the public members of a class map to columns.</summary>
internal sealed class RowTypeMember
{
    private RowTypeMember(MemberInfo member, Type valueType, string name, DataViewType type)
    {
        Member = member;
        ValueType = valueType;
        Name = name;
        Type = type;
    }

    public MemberInfo Member { get; }

    public Type ValueType { get; }

    public string Name { get; }

    public DataViewType Type { get; }

    public int? LoadColumn => Member.GetCustomAttribute<LoadColumnAttribute>()?.FieldIndex;

    public object? Get(object row) => Member is PropertyInfo p ? p.GetValue(row) : ((FieldInfo)Member).GetValue(row);

    public void Set(object row, object? value)
    {
        if (Member is PropertyInfo p)
        {
            p.SetValue(row, value);
        }
        else
        {
            ((FieldInfo)Member).SetValue(row, value);
        }
    }

    /// <summary>The columns of <paramref name="rowType"/>: public instance fields and properties (readable; writable when <paramref name="forWriting"/>), minus [NoColumn].</summary>
    public static List<RowTypeMember> Of(Type rowType, bool forWriting)
    {
        var members = new List<RowTypeMember>();
        foreach (var m in rowType.GetMembers(BindingFlags.Public | BindingFlags.Instance))
        {
            Type t;
            if (m is PropertyInfo p && p.GetIndexParameters().Length == 0 && p.CanRead && (!forWriting || p.CanWrite))
            {
                t = p.PropertyType;
            }
            else if (m is FieldInfo f && !f.IsInitOnly)
            {
                t = f.FieldType;
            }
            else
            {
                continue;
            }
            if (m.GetCustomAttribute<NoColumnAttribute>() != null)
            {
                continue;
            }
            string name = m.GetCustomAttribute<ColumnNameAttribute>()?.Name ?? m.Name;
            members.Add(new RowTypeMember(m, t, name, TypeOf(rowType, m, t)));
        }
        return members;
    }

    private static DataViewType TypeOf(Type rowType, MemberInfo m, Type t)
    {
        if (m.GetCustomAttribute<ImageTypeAttribute>() is { } img)
        {
            return !t.IsValueType ? new ImageDataViewType(img.Height, img.Width)
                : throw Unsupported(rowType, m, t, "an image member must be of a reference type");
        }
        if (m.GetCustomAttribute<KeyTypeAttribute>() is { } key)
        {
            return t == typeof(uint) ? new KeyDataViewType(key.Count) : throw Unsupported(rowType, m, t, "a [KeyType] member must be uint");
        }
        if (t == typeof(string))
        {
            return TextDataViewType.Instance;
        }
        if (t == typeof(bool))
        {
            return BooleanDataViewType.Instance;
        }
        if (NumberDataViewType.FromRawType(t) is { } n)
        {
            return n;
        }
        if (t.IsArray && t.GetArrayRank() == 1)
        {
            var e = t.GetElementType()!;
            PrimitiveDataViewType? item = e == typeof(string) ? TextDataViewType.Instance : e == typeof(bool) ? BooleanDataViewType.Instance : NumberDataViewType.FromRawType(e);
            if (item != null)
            {
                int[] dims = [.. m.GetCustomAttribute<VectorTypeAttribute>()?.Dimensions ?? []];
                return new VectorDataViewType(item, dims);
            }
        }
        throw Unsupported(rowType, m, t, "supported: string, float, double, byte, int, uint, long, bool, arrays of these, uint with [KeyType], reference types with [ImageType]");
    }

    private static ArgumentException Unsupported(Type rowType, MemberInfo m, Type t, string why) =>
        new($"Member '{rowType.Name}.{m.Name}' of type {t.Name} cannot be a column: {why}.");
}
