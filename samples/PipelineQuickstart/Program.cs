using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Pipelines;

var ctx = new ConvNetContext(seed: 1);
var train = ctx.Data.LoadFromFashionMnist(split: DatasetSplit.Train, options: new FashionMnistOptions { Limit = 2000 });
var test = ctx.Data.LoadFromFashionMnist(split: DatasetSplit.Test, options: new FashionMnistOptions { Limit = 1000 });

var pipeline = ctx.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
    {
        Architecture = "smallcnn", FeatureColumnName = "Pixels", LabelColumnName = "Label", Epochs = 2, Seed = 1,
        MetricsCallback = epoch => Console.WriteLine(epoch),
    })
    .Append(ctx.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
using (var model = pipeline.Fit(train))
{
    var metrics = ctx.MulticlassClassification.Evaluate(model.Transform(test), topKPredictionCount: 3);
    Console.WriteLine($"micro accuracy {metrics.MicroAccuracy:F3}, macro accuracy {metrics.MacroAccuracy:F3}, " +
        $"log-loss {metrics.LogLoss:F3}, top-3 accuracy {metrics.TopKAccuracy:F3}");
    Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
    ctx.Model.Save(model, train.Schema, "fashion-model.zip");   // one versioned zip, written atomically
}

// Later, or in another process: load the model and score single images.
var loaded = ctx.Model.Load("fashion-model.zip", out var inputSchema);
using (loaded as IDisposable)
{
    var engine = ctx.Model.CreatePredictionEngine<FashionImage, FashionPrediction>(loaded);   // one per thread
    foreach (var image in ctx.Data.CreateEnumerable<FashionImage>(ctx.Data.TakeRows(test, 5), reuseRowObject: false))
    {
        var prediction = engine.Predict(image);
        Console.WriteLine($"{FashionMnist.ClassNames[(int)image.Label - 1],-12} predicted {prediction.PredictedClass,-12} " +
            $"with probability {prediction.Score.Max():F2}");
    }
}

public sealed class FashionImage
{
    [VectorType(1, 28, 28)]
    public float[] Pixels { get; set; } = [];

    [KeyType(10)]
    public uint Label { get; set; }
}

public sealed class FashionPrediction
{
    public string PredictedClass { get; set; } = "";

    public float[] Score { get; set; } = [];
}
