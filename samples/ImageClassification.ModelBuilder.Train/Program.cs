using ImageClassification_ModelBuilder;

// Usage: ImageClassification.ModelBuilder.Train [image folder, one sub-folder per class] [MLModel.zip]
// Without a folder, a small synthetic one (three classes of stripes) is drawn into ./images.
string imageFolder = args.Length > 0 ? args[0] : SampleImages.DrawStripes("images", perClass: 200);
string modelPath = args.Length > 1 ? args[1] : "MLModel.zip";
MLModel.Train(modelPath, imageFolder);
Console.WriteLine($"Saved {Path.GetFullPath(modelPath)}; score images with ImageClassification.ModelBuilder.Consume {modelPath} <image>...");
