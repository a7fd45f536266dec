using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Vision;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>The trainer's augmentation and schedule options in an ML.NET pipeline.</summary>
[TestClass]
public sealed class ConvNetAugmentationTests
{
    public sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];
    }

    /// <summary>Counts the images it sees and flips them.</summary>
    private sealed class CountingFlip : ImageAugmentation
    {
        public int Calls;

        protected override void Transform(Span<float> image, int channels, int height, int width, Random random)
        {
            Interlocked.Increment(ref Calls);
            for (int r = 0; r < channels * height; r++)
            {
                image.Slice(r * width, width).Reverse();
            }
        }
    }

    private static (IDataView Train, IDataView Test, int TrainRows) Data(MLContext ml)
    {
        var ds = FashionMnist.Load(null, DatasetSplit.Train, new FashionMnistOptions { Limit = 200, Normalize = true });
        var rows = Enumerable.Range(0, ds.Count).Select(i => new Row { Features = ds.GetImage(i).ToArray(), Label = ds.ClassNames[ds.Labels[i]] }).ToList();
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(rows), 0.25, seed: 1);
        return (split.TrainSet, split.TestSet, ml.Data.CreateEnumerable<Row>(split.TrainSet, false).Count());
    }

    [TestMethod]
    public void AugmentationRunsOnTrainingImagesOnlyAndNeverAtValidationOrPrediction()
    {
        var ml = new MLContext(1);
        var (train, test, trainRows) = Data(ml);
        var counting = new CountingFlip();
        var keys = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label");
        var pipeline = keys.Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
        {
            LabelColumnName = "LabelKey", Architecture = "lenet5", SmallInput = true, Epochs = 2, BatchSize = 16, Device = Device.Cpu, Seed = 1,
            Augmentation = counting, ValidationSet = keys.Fit(train).Transform(test),
        }));
        var model = pipeline.Fit(train);
        Assert.AreEqual(2 * trainRows, counting.Calls, "each training image once per epoch, no validation image");
        var scored = model.Transform(test);
        _ = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "LabelKey");
        var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model);
        _ = engine.Predict(ml.Data.CreateEnumerable<Row>(test, false).First());
        Assert.AreEqual(2 * trainRows, counting.Calls, "scoring, evaluation or prediction augmented");
    }

    [TestMethod]
    public void DefaultsAreOneCycleWithoutAugmentationAndTheStandardPresetIsCropAndFlip()
    {
        var o = new ConvNetTrainer.Options();
        Assert.IsNull(o.Augmentation);
        Assert.IsNull(o.Mixing);
        Assert.AreEqual(16, o.BatchSize);
        Assert.AreEqual(3e-3f, o.LearningRate);
        Assert.AreEqual(0.1f, o.LabelSmoothing);
        Assert.IsTrue(o.StandardizeInput);
        var steps = ((Compose)ConvNetTrainer.Options.StandardAugmentation).Steps;
        Assert.IsInstanceOfType<RandomCrop>(steps[0]);
        Assert.AreEqual(3, ((RandomCrop)steps[0]).PaddingFor(28, 28));
        Assert.IsInstanceOfType<RandomHorizontalFlip>(steps[1]);
        using var opt = new Microsoft.ML.ConvNet.Optimizers.Sgd([Microsoft.ML.ConvNet.Tensors.Tensor.Zeros(new Microsoft.ML.ConvNet.Tensors.Shape(1)).Unscope()], 0.1f);
        var schedule = ConvNetTrainer.Options.CosineSchedule(opt);
        Assert.IsInstanceOfType<CosineAnnealingLR>(schedule);
        Assert.AreEqual(SchedulerStepping.Batch, schedule.Stepping);
        var oneCycle = o.LearningRateSchedule!(opt);
        Assert.IsInstanceOfType<OneCycleLR>(oneCycle);
        Assert.AreEqual(0.1f, ((OneCycleLR)oneCycle).MaxLearningRate, "the peak is the optimizer's rate");
        Assert.AreEqual(SchedulerStepping.Batch, oneCycle.Stepping);
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameModelWithAugmentationMixingAndOneCycle()
    {
        float[] Scores()
        {
            var ml = new MLContext(1);
            var (train, test, _) = Data(ml);
            var model = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
                .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
                {
                    LabelColumnName = "LabelKey", Architecture = "lenet5", SmallInput = true, Epochs = 2, BatchSize = 16, Device = Device.Cpu, Seed = 3,
                    Augmentation = new Compose(new RandomCrop(2, BorderMode.Reflect101), new RandomRotation(10) { Probability = 0.5 }, new RandomErasing()),
                    Mixing = new CutMix(), LearningRateSchedule = opt => new OneCycleLR(opt, 0.005f),
                }))
                .Fit(train);
            return ml.Data.CreateEnumerable<Prediction>(model.Transform(test), false).SelectMany(p => p.Score).ToArray();
        }
        var first = Scores();
        var second = Scores();
        CollectionAssert.AreEqual(first, second);
        Assert.IsTrue(first.All(float.IsFinite));
    }
}
