using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>Schema checks of the trainer and transformer; errors read like ML.NET's own schema mismatches.</summary>
internal static class ConvNetSchema
{
    /// <summary>The error for column <paramref name="name"/> of role <paramref name="role"/> whose type is not the expected one.</summary>
    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, DataViewType actual)
        => new("inputSchema", $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}.");

    /// <summary>The column named <paramref name="name"/>; its absence is an error naming it.</summary>
    public static DataViewSchema.Column Find(DataViewSchema schema, string name, string role)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, role + "ColumnName");
        return schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException("inputSchema", $"Could not find {role} column '{name}' in the input ({string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}).");
    }

    /// <summary>
    /// The label column: a key of at least two categories (multiclass) or a Boolean (binary). Returns the class count.
    /// </summary>
    public static (DataViewSchema.Column Column, int Classes) Label(DataViewSchema schema, string name, ConvNetTask task)
    {
        var column = Find(schema, name, "label");
        if (task == ConvNetTask.Binary)
        {
            return column.Type is BooleanDataViewType
                ? (column, 2)
                : throw Mismatch("label", name, "Boolean", column.Type);
        }
        if (column.Type is not KeyDataViewType key || key.Count < 2 || key.Count > int.MaxValue)
        {
            throw Mismatch("label", name, "Key of at least 2 categories (use MapValueToKey)", column.Type);
        }
        return (column, (int)key.Count);
    }

    /// <summary>The key values of <paramref name="label"/> as strings with their raw array (null when the key has none).</summary>
    public static (Array? Values, string[] Names) KeyValues(DataViewSchema.Column label, int classes)
    {
        if (label.Type is BooleanDataViewType)
        {
            return (new[] { false, true }, [bool.FalseString, bool.TrueString]);
        }
        if (label.Annotations.Schema.GetColumnOrNull("KeyValues") is { Type: VectorDataViewType { ItemType: var item } })
        {
            Array? values = item switch
            {
                TextDataViewType => Read<ReadOnlyMemory<char>>(label).Select(v => v.ToString()).ToArray(),
                var t when t == NumberDataViewType.Single => Read<float>(label),
                var t when t == NumberDataViewType.Double => Read<double>(label),
                var t when t == NumberDataViewType.Int32 => Read<int>(label),
                var t when t == NumberDataViewType.Int64 => Read<long>(label),
                var t when t == NumberDataViewType.UInt32 => Read<uint>(label),
                BooleanDataViewType => Read<bool>(label),
                _ => null,
            };
            if (values != null && values.Length == classes)
            {
                return (values, values.Cast<object>().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray());
            }
        }
        return (null, Enumerable.Range(1, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    }

    private static T[] Read<T>(DataViewSchema.Column column)
    {
        VBuffer<T> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().ToArray();
    }
}

/// <summary>What a <see cref="ConvNetTrainer"/> learns.</summary>
internal enum ConvNetTask
{
    /// <summary>A key label of K categories; Score is K probabilities, PredictedLabel a key.</summary>
    Multiclass,

    /// <summary>A Boolean label; Score is the raw score, Probability p(true), PredictedLabel a Boolean.</summary>
    Binary,
}
