using Microsoft.ML.ConvNet;

namespace Microsoft.ML;

/// <summary>
/// The ConvNet trainers in ML.NET's catalogs: <c>mlContext.MulticlassClassification.Trainers.ConvNet(...)</c> and
/// <c>mlContext.BinaryClassification.Trainers.ConvNet(...)</c>.
/// </summary>
public static class ConvNetCatalog
{
    /// <summary>
    /// A trainer of a convolutional network classifier (<see cref="ConvNetTrainer"/>). The label is a key column
    /// (from <c>MapValueToKey</c>); the output columns are <c>Score</c> (class probabilities) and <c>PredictedLabel</c>
    /// (a key with the label's values, so <c>MapKeyToValue</c> gives the class names back).
    /// </summary>
    public static ConvNetTrainer ConvNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, ConvNetTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ConvNetTrainer(options, ConvNetTask.Multiclass);
    }

    /// <summary>A multiclass ConvNet trainer with default settings apart from the given ones.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The key label column.</param>
    /// <param name="featureColumnName">The image column (image, raw bytes or pixel vector).</param>
    /// <param name="architecture">A model zoo name.</param>
    /// <param name="epochs">Passes over the training data.</param>
    public static ConvNetTrainer ConvNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string architecture = "resnet18", int epochs = 10)
        => catalog.ConvNet(Options(labelColumnName, featureColumnName, architecture, epochs));

    /// <summary>
    /// A trainer of a two-class convolutional network classifier on a Boolean label. The output columns are the ones
    /// ML.NET's binary evaluator expects: <c>Score</c> (the raw score, log p(true)/p(false)), <c>Probability</c>
    /// (p(true)) and <c>PredictedLabel</c> (Boolean).
    /// </summary>
    public static ConvNetTrainer ConvNet(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, ConvNetTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ConvNetTrainer(options, ConvNetTask.Binary);
    }

    /// <summary>A binary ConvNet trainer with default settings apart from the given ones.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">The Boolean label column.</param>
    /// <param name="featureColumnName">The image column (image, raw bytes or pixel vector).</param>
    /// <param name="architecture">A model zoo name.</param>
    /// <param name="epochs">Passes over the training data.</param>
    public static ConvNetTrainer ConvNet(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string architecture = "resnet18", int epochs = 10)
        => catalog.ConvNet(Options(labelColumnName, featureColumnName, architecture, epochs));

    /// <summary>
    /// A pretrained network's features of each image (<see cref="ConvNetFeaturizer"/>): the first transfer-learning
    /// scenario done the ML.NET way, followed by one of ML.NET's own trainers.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The feature column written, a vector of Single.</param>
    /// <param name="inputColumnName">The image column: an <c>MLImage</c>, raw bytes or a pixel vector.</param>
    /// <param name="model">The network, e.g. <see cref="PretrainedModel.ResNet18ImageNet"/> or an ONNX file.</param>
    public static ConvNetFeaturizerEstimator ConvNetFeaturize(this TransformsCatalog catalog, string outputColumnName, string inputColumnName, PretrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ConvNetFeaturizerEstimator(outputColumnName, inputColumnName, model);
    }

    private static ConvNetTrainer.Options Options(string labelColumnName, string featureColumnName, string architecture, int epochs) => new()
    {
        LabelColumnName = labelColumnName,
        FeatureColumnName = featureColumnName,
        Architecture = architecture,
        Epochs = epochs,
    };
}
