using Microsoft.ML;
using Microsoft.ML.ConvNet;

namespace ImageClassification_ModelBuilder;

/// <summary>Trains MLModel.zip: ML.NET's image loading and the ConvNet trainer on a folder of images, one sub-folder per class.</summary>
public partial class MLModel
{
    /// <summary>Trains on <paramref name="imageFolder"/>, evaluates on a held-out fifth of it and saves the model.</summary>
    /// <returns>The trained model (scoring in-process, with the ConvNet engine).</returns>
    public static ITransformer Train(string outputModelPath, string imageFolder, int epochs = 4, TextWriter? log = null)
    {
        log ??= Console.Out;
        var mlContext = new MLContext(seed: 1);
        var data = LoadImageFromFolder(mlContext, imageFolder);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var model = BuildPipeline(mlContext, epochs, log).Fit(split.TrainSet);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        log.WriteLine($"micro accuracy {metrics.MicroAccuracy:F3}, macro accuracy {metrics.MacroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");
        log.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        SaveModel(mlContext, model, data, outputModelPath);
        return model;
    }

    /// <summary>One row per image file: the sub-folder's name is the label, the full path the image source.</summary>
    public static IDataView LoadImageFromFolder(MLContext mlContext, string folder)
    {
        var rows = Directory.GetDirectories(folder).Order().SelectMany(classFolder => Directory.GetFiles(classFolder).Order()
            .Select(file => new ModelInput { Label = Path.GetFileName(classFolder), ImageSource = Path.GetFullPath(file) }));
        return mlContext.Data.LoadFromEnumerable(rows.ToList());
    }

    /// <summary>Saves the model with the input schema of <paramref name="trainData"/> (ModelInput's columns).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView trainData, string modelSavePath)
    {
        mlContext.Model.Save(model, trainData.Schema, modelSavePath);
    }

    /// <summary>
    /// The training pipeline: the label to a key, the image file to an image, the ConvNet trainer (it resizes to the
    /// network's 28×28 input and extracts the pixels itself), and the predicted key back to the class name.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, int epochs = 4, TextWriter? log = null)
    {
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @"Label", inputColumnName: @"Label")
            .Append(mlContext.Transforms.LoadImages(outputColumnName: @"Image", imageFolder: "", inputColumnName: @"ImageSource"))
            .Append(mlContext.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = @"Label",
                FeatureColumnName = @"Image",
                ScoreColumnName = @"Score",
                Architecture = "smallcnn",
                Epochs = epochs,
                BatchSize = 32,
                Seed = 1,
                MetricsCallback = epoch => log?.WriteLine(epoch),
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @"PredictedLabel", inputColumnName: @"PredictedLabel"));
        return pipeline;
    }
}
