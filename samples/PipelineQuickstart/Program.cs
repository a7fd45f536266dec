using Microsoft.ML;
using Microsoft.ML.ConvNet;
using Microsoft.ML.Data;

// An image folder with one sub-folder per class; without an argument, three classes of striped 32×32 PNGs are drawn.
string root = Path.GetFullPath(args.Length > 0 ? args[0] : DrawStripes("stripes", perClass: 200));
var ml = new MLContext(seed: 1);
var images = Directory.GetDirectories(root).Order().SelectMany(folder => Directory.GetFiles(folder).Order()
    .Select(file => new ImageRow { ImagePath = Path.GetRelativePath(root, file), Label = Path.GetFileName(folder) }));
var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(images.ToList()), testFraction: 0.2, seed: 1);

var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: root, inputColumnName: "ImagePath"))
    .Append(ml.Transforms.ResizeImages("Image", 28, 28))
    .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
    .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
    {
        LabelColumnName = "LabelKey", FeatureColumnName = "Features", Architecture = "smallcnn", Epochs = 4, BatchSize = 32, Seed = 1,
        MetricsCallback = epoch => Console.WriteLine(epoch),
    }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
using (var model = pipeline.Fit(split.TrainSet))
{
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet), labelColumnName: "LabelKey");
    Console.WriteLine($"micro accuracy {metrics.MicroAccuracy:F3}, macro accuracy {metrics.MacroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");
    Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
    ml.Model.Save(model, split.TrainSet.Schema, "model.zip");   // an ordinary ML.NET model: loads without this library
}

// Later, or in another app: load the model and score single images.
var loaded = ml.Model.Load("model.zip", out _);
var engine = ml.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(loaded);   // one per thread
foreach (var image in ml.Data.CreateEnumerable<ImageRow>(split.TestSet, reuseRowObject: false).Take(5))
{
    var prediction = engine.Predict(image);
    Console.WriteLine($"{image.ImagePath,-22} {image.Label,-10} predicted {prediction.PredictedName,-10} with probability {prediction.Score.Max():F2}");
}

// Draws stripes (horizontal, vertical, diagonal) of a random period, phase and colour into root/<class>/<n>.png.
static string DrawStripes(string root, int perClass)
{
    var random = new Random(1);
    (string Name, Func<int, int, int> Position)[] classes = [("horizontal", (x, y) => y), ("vertical", (x, y) => x), ("diagonal", (x, y) => x + y)];
    foreach (var (name, position) in classes)
    {
        Directory.CreateDirectory(Path.Combine(root, name));
        for (int i = 0; i < perClass; i++)
        {
            int period = random.Next(2, 6), phase = random.Next(12);
            byte[] on = [(byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 255];
            byte[] off = [(byte)(255 - on[0]), (byte)(255 - on[1]), (byte)(255 - on[2]), 255];
            var pixels = new byte[32 * 32 * 4];
            for (int p = 0; p < 32 * 32; p++)
            {
                ((position(p % 32, p / 32) + phase) / period % 2 == 0 ? on : off).CopyTo(pixels, 4 * p);
            }
            using var image = MLImage.CreateFromPixels(32, 32, MLPixelFormat.Rgba32, pixels);
            image.Save(Path.Combine(root, name, $"{i:D3}.png"));
        }
    }
    return root;
}

public sealed class ImageRow
{
    public string ImagePath { get; set; } = "";

    public string Label { get; set; } = "";
}

public sealed class ImagePrediction
{
    public string PredictedName { get; set; } = "";

    public float[] Score { get; set; } = [];
}
