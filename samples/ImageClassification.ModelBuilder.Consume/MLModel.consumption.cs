using Microsoft.ML;
using Microsoft.ML.Data;

namespace ImageClassification_ModelBuilder;

/// <summary>
/// Scores images with a saved <c>MLModel.zip</c>. The model is an ordinary ML.NET model (image transforms, the network
/// in an <c>OnnxTransformer</c>, key mappings), so this half of the class needs Microsoft.ML, ImageAnalytics and
/// OnnxTransformer only.
/// </summary>
public partial class MLModel
{
    /// <summary>One image to classify.</summary>
    public class ModelInput
    {
        /// <summary>The class name (only read when training; empty when predicting).</summary>
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public string Label { get; set; } = "";

        /// <summary>The path of the image file.</summary>
        [LoadColumn(1)]
        [ColumnName(@"ImageSource")]
        public string ImageSource { get; set; } = "";
    }

    /// <summary>What the model predicts for an image.</summary>
    public class ModelOutput
    {
        /// <summary>The most probable class name.</summary>
        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        /// <summary>The probability of every class, in the order of <see cref="GetLabels"/>.</summary>
        [ColumnName(@"Score")]
        public float[] Score { get; set; } = [];
    }

    private static readonly string MLNetModelPath = Path.GetFullPath("MLModel.zip");

    /// <summary>A prediction engine over MLModel.zip in the working folder, created on first use.</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(MLNetModelPath), true);

    /// <summary>Predicts the class of one image with MLModel.zip in the working folder.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Every class name with its probability, most probable first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(PredictionEngine<ModelInput, ModelOutput> engine, ModelInput input)
    {
        var result = engine.Predict(input);
        return GetLabels(engine.OutputSchema).Zip(result.Score, (label, score) => new KeyValuePair<string, float>(label, score))
            .OrderByDescending(pair => pair.Value);
    }

    /// <summary>Loads a saved model and creates a prediction engine over it (one engine per thread).</summary>
    public static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine(string modelPath)
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(modelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }

    /// <summary>The class names in the order of the Score column: the key values of the predicted label.</summary>
    public static string[] GetLabels(DataViewSchema schema)
    {
        var predicted = schema.LastOrDefault(column => column.Name == "PredictedLabel" && column.Type is KeyDataViewType);
        if (predicted.Name == null)
        {
            throw new InvalidOperationException("The model has no key column 'PredictedLabel' with the class names.");
        }
        VBuffer<ReadOnlyMemory<char>> names = default;
        predicted.GetKeyValues(ref names);
        return [.. names.DenseValues().Select(name => name.ToString())];
    }
}
