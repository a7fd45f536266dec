using System.Globalization;
using ImageClassification_ModelBuilder;

// Usage: ImageClassification.ModelBuilder.Consume <MLModel.zip> <image>...
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ImageClassification.ModelBuilder.Consume <MLModel.zip> <image>...");
    return 2;
}

var engine = MLModel.CreatePredictEngine(args[0]);
var labels = MLModel.GetLabels(engine.OutputSchema);
foreach (string image in args[1..])
{
    var output = engine.Predict(new MLModel.ModelInput { ImageSource = Path.GetFullPath(image) });
    Console.WriteLine($"Image: {image}");
    Console.WriteLine($"PredictedLabel: {output.PredictedLabel}");
    Console.WriteLine("Score: " + string.Join(" ", output.Score.Select(score => score.ToString("R", CultureInfo.InvariantCulture))));
    foreach (var (label, score) in labels.Zip(output.Score).OrderByDescending(pair => pair.Second))
    {
        Console.WriteLine($"  {label,-16} {score:F4}");
    }
}
return 0;
