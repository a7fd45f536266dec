using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// The trainer's output <see cref="SchemaShape"/>. ML.NET lets only its own assemblies make schema-shape columns, so the
/// score and predicted-label columns are taken from what ML.NET's own classifier (L-BFGS maximum entropy or logistic
/// regression) declares for the same label: the shapes ML.NET's evaluators and key mappers expect.
/// </summary>
internal static class ConvNetSchemaShape
{
    public static SchemaShape Output(SchemaShape input, ConvNetTrainer.Options o, ConvNetTask task)
    {
        var label = Find(input, o.LabelColumnName, "label");
        bool labelOk = task == ConvNetTask.Binary
            ? label.Kind == SchemaShape.Column.VectorKind.Scalar && label.ItemType is BooleanDataViewType
            : label.Kind == SchemaShape.Column.VectorKind.Scalar && label.IsKey;
        if (!labelOk)
        {
            throw ConvNetSchema.Mismatch("label", label.Name, task == ConvNetTask.Binary ? "Boolean" : "Key (use MapValueToKey)", Describe(label));
        }
        var features = Find(input, o.FeatureColumnName, "feature");
        bool featuresOk = features.Kind == SchemaShape.Column.VectorKind.Scalar
            ? features.ItemType is ImageDataViewType
            : features.ItemType == NumberDataViewType.Single || (features.ItemType == NumberDataViewType.Byte && features.Kind == SchemaShape.Column.VectorKind.VariableVector);
        if (!featuresOk)
        {
            throw ConvNetSchema.Mismatch("feature", features.Name, "Image (LoadImages), Vector<Byte> (LoadRawImageBytes) or Vector<Single> (ExtractPixels)", Describe(features));
        }

        var ml = new MLContext();
        const string Value = "ConvNet.LabelValue", Vector = "ConvNet.LabelVector";
        IEstimator<ITransformer> chain = ml.Transforms.Conversion.ConvertType(Value, o.LabelColumnName, DataKind.Single)
            .Append(ml.Transforms.Concatenate(Vector, Value));
        chain = task == ConvNetTask.Binary
            ? chain.Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(o.LabelColumnName, Vector))
            : chain.Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(o.LabelColumnName, Vector));
        chain = chain.Append(ml.Transforms.CopyColumns(o.ScoreColumnName, "Score"))
            .Append(ml.Transforms.CopyColumns(o.PredictedLabelColumnName, "PredictedLabel"));
        var template = chain.GetOutputSchema(input);

        var added = new List<string> { o.ScoreColumnName, o.PredictedLabelColumnName };
        if (task == ConvNetTask.Binary)
        {
            added.Add(ConvNetOutput.ProbabilityColumnName);
        }
        return new SchemaShape(input.Where(c => !added.Contains(c.Name)).Concat(added.Select(name => template.Single(c => c.Name == name))));
    }

    private static SchemaShape.Column Find(SchemaShape schema, string name, string role)
    {
        foreach (var column in schema)
        {
            if (column.Name == name)
            {
                return column;
            }
        }
        throw new ArgumentOutOfRangeException("inputSchema", $"Could not find {role} column '{name}' in the input ({string.Join(", ", schema.Select(c => c.Name))}).");
    }

    private static DataViewType Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => column.ItemType,
        _ => new VectorDataViewType((PrimitiveDataViewType)column.ItemType),
    };
}
