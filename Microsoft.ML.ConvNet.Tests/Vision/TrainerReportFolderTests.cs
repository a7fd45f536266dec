using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Tests.Vision;

/// <summary><see cref="ConvNetTrainer.Options.ReportFolder"/> in an ML.NET pipeline.</summary>
[TestClass]
public sealed class TrainerReportFolderTests
{
    public sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    [TestMethod]
    public void ReportFolderWithoutValidationDataReportsOnTrainingRows()
    {
        var ds = FashionMnist.Load(FashionMnistTests.BundledFolder(), DatasetSplit.Test, new FashionMnistOptions { Limit = 300, VerifyChecksums = false });
        var ml = new MLContext(1);
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, ds.Count).Select(i => new Row { Features = ds.GetImage(i).ToArray(), Label = ds.ClassNames[ds.Labels[i]] }));
        string folder = Path.Combine(Path.GetTempPath(), $"convnet-trainer-report-{Guid.NewGuid():N}");
        try
        {
            var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
                .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
                {
                    LabelColumnName = "LabelKey", Architecture = "lenet5", SmallInput = true, Epochs = 1, Device = Device.Cpu, Seed = 1, ReportFolder = folder,
                }));
            using var model = (IDisposable)pipeline.Fit(rows);
            string html = File.ReadAllText(Path.Combine(folder, "index.html"));
            StringAssert.Contains(html, "lenet5 training report");
            StringAssert.Contains(html, "the first 300 training images (no validation data was given)");
            StringAssert.Contains(html, "; 1 epochs in", "the history of the single epoch");
            foreach (string png in new[] { "loss.png", "confusion-matrix.png", "filters.png", "saliency.png" })
            {
                Assert.IsTrue(File.Exists(Path.Combine(folder, png)), png);
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
