using System.Reflection;

namespace Microsoft.ML.ConvNet.Pipelines;

/// <summary>Reads the current row's value of a column into <paramref name="value"/> (an array given is reused when its length fits).</summary>
public delegate void ValueGetter<TValue>(ref TValue value);

/// <summary>
/// A table read by cursors, as ML.NET's <c>IDataView</c>: a <see cref="Schema"/>, an optional row count, and
/// forward-only cursors over the rows. Transformed views are lazy: values are computed when a cursor's getter is called.
/// </summary>
public interface IDataView
{
    /// <summary>The columns.</summary>
    DataViewSchema Schema { get; }

    /// <summary>Whether <see cref="GetRowCursor"/> can visit the rows in a random order.</summary>
    bool CanShuffle { get; }

    /// <summary>The number of rows when known without reading them, else null.</summary>
    long? GetRowCount();

    /// <summary>
    /// A cursor over the rows that makes <paramref name="columnsNeeded"/> readable (others may be inactive). With
    /// <paramref name="rand"/> and <see cref="CanShuffle"/>, the rows come in an order drawn from it.
    /// </summary>
    DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null);
}

/// <summary>One row of a data view, read through typed getters.</summary>
public abstract class DataViewRow : IDisposable
{
    /// <summary>The index of the current row in the cursor's sequence (-1 before the first <c>MoveNext</c>).</summary>
    public abstract long Position { get; }

    /// <summary>The columns of the row.</summary>
    public abstract DataViewSchema Schema { get; }

    /// <summary>Whether <paramref name="column"/> can be read.</summary>
    public abstract bool IsColumnActive(DataViewSchema.Column column);

    /// <summary>
    /// A getter of <paramref name="column"/>'s values. <typeparamref name="TValue"/> must be the column type's raw type
    /// (<c>string</c> for text, <c>uint</c> for keys, <c>float[]</c> for vectors of Single; any reference type for images).
    /// </summary>
    /// <exception cref="InvalidOperationException">The column is not active, or <typeparamref name="TValue"/> does not match its type (the message names the column and both types).</exception>
    public abstract ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column);

    /// <summary>Releases the row's resources.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the row's resources (<paramref name="disposing"/>: called from <see cref="Dispose()"/>).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Throws unless <paramref name="column"/> belongs to this row, is active and is read as <typeparamref name="TValue"/>.</summary>
    protected void CheckGetter<TValue>(DataViewSchema.Column column)
    {
        if ((uint)column.Index >= (uint)Schema.Count || Schema[column.Index].Name != column.Name)
        {
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' (index {column.Index}) is not in this row's schema: {Schema}.");
        }
        if (!IsColumnActive(column))
        {
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor; ask for it in GetRowCursor's columnsNeeded.");
        }
        GetterUtils.CheckValueType<TValue>(column);
    }
}

/// <summary>A forward-only cursor over the rows of a data view.</summary>
public abstract class DataViewRowCursor : DataViewRow
{
    /// <summary>Moves to the next row; false when there is none.</summary>
    public abstract bool MoveNext();
}

/// <summary>Helpers to check and adapt getters.</summary>
internal static class GetterUtils
{
    private static readonly MethodInfo GetGetterMethod = typeof(DataViewRow).GetMethod(nameof(DataViewRow.GetGetter))!;
    private static readonly MethodInfo CastMethod = typeof(GetterUtils).GetMethod(nameof(CastGetter), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Throws unless values of <paramref name="column"/> can be read as <typeparamref name="TValue"/>.</summary>
    public static void CheckValueType<TValue>(DataViewSchema.Column column)
    {
        if (!column.Type.AcceptsValueType(typeof(TValue)))
        {
            throw new InvalidOperationException(
                $"Invalid TValue in GetGetter for column '{column.Name}': expected type '{Describe(column.Type.RawType)}' (column type {column.Type}), got '{Describe(typeof(TValue))}'.");
        }
    }

    /// <summary>The name of a .NET type as written in C# for arrays ("Single[]").</summary>
    public static string Describe(Type t) => t.Name;

    /// <summary>A getter of <paramref name="column"/> typed as its raw type (a <c>ValueGetter&lt;RawType&gt;</c>).</summary>
    public static Delegate GetGetterUntyped(DataViewRow row, DataViewSchema.Column column) =>
        (Delegate)GetGetterMethod.MakeGenericMethod(column.Type.RawType).Invoke(row, [column])!;

    /// <summary><paramref name="getter"/> as a <see cref="ValueGetter{TValue}"/>, adapting image getters of another reference type.</summary>
    public static ValueGetter<TValue> Adapt<TValue>(Delegate getter, DataViewSchema.Column column)
    {
        if (getter is ValueGetter<TValue> typed)
        {
            return typed;
        }
        var from = getter.GetType().GetGenericArguments()[0];
        if (column.Type is ImageDataViewType && !from.IsValueType)
        {
            return (ValueGetter<TValue>)CastMethod.MakeGenericMethod(from, typeof(TValue)).Invoke(null, [getter, column.Name])!;
        }
        throw new InvalidOperationException(
            $"Invalid TValue in GetGetter for column '{column.Name}': expected type '{Describe(from)}' (column type {column.Type}), got '{Describe(typeof(TValue))}'.");
    }

    private static ValueGetter<TTo> CastGetter<TFrom, TTo>(ValueGetter<TFrom> getter, string name) =>
        (ref TTo value) =>
        {
            TFrom v = default!;
            getter(ref v);
            value = v switch
            {
                null => default!,
                TTo t => t,
                _ => throw new InvalidCastException($"Column '{name}' holds a {v.GetType().Name}, which is not a {typeof(TTo).Name}."),
            };
        };

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/>: arrays are copied (into the given array when its length fits), other values assigned.</summary>
    public static void CopyValue<TValue>(TValue source, ref TValue destination)
    {
        if (source is Array src && typeof(TValue).IsArray)
        {
            if (destination is Array dst && dst.Length == src.Length)
            {
                Array.Copy(src, dst, src.Length);
            }
            else
            {
                destination = (TValue)src.Clone();
            }
        }
        else
        {
            destination = source;
        }
    }
}
