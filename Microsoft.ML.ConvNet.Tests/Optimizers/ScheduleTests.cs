using System.Text.Json;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Optimizers.Schedulers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Optimizers;

/// <summary>The schedules against torch.optim.lr_scheduler (fixtures from build/reference/make_augmentation_fixtures.py).</summary>
[TestClass]
public sealed class ScheduleTests
{
    private static List<JsonElement> Cases(string kind)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Folder, "schedules.json")));
        return doc.RootElement.GetProperty("schedules").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == kind).Select(e => e.Clone()).ToList();
    }

    private static Sgd Optimizer(float lr) => new([Tensor.Zeros(new Shape(1)).Unscope()], lr);

    /// <summary>Steps <paramref name="scheduler"/> and compares the optimizer's rate after each step with PyTorch's (rtol 1e-5).</summary>
    private static void Follow(JsonElement e, LearningRateScheduler scheduler, Action<int>? step = null)
    {
        var expected = e.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        string name = e.GetProperty("name").GetString()!;
        for (int t = 0; t < expected.Length; t++)
        {
            if (t > 0)
            {
                (step ?? (_ => scheduler.Step()))(t - 1);
            }
            Assert.AreEqual(expected[t], scheduler.Optimizer.LearningRate, 1e-5 * expected.Max() + 1e-9, $"{name} at step {t}");
            if (scheduler is not ReduceLROnPlateau)
            {
                Assert.AreEqual(expected[t], scheduler.LearningRateAt(t), 1e-5 * expected.Max() + 1e-9, $"{name} LearningRateAt({t})");
            }
        }
    }

    [TestMethod]
    public void CosineAnnealingMatchesPyTorch()
    {
        var cases = Cases("cosine");
        Assert.HasCount(2, cases);
        foreach (var e in cases)
        {
            var opt = Optimizer(e.GetProperty("lr").GetSingle());
            Follow(e, new CosineAnnealingLR(opt, e.GetProperty("tMax").GetInt32(), e.GetProperty("etaMin").GetSingle()));
        }
    }

    [TestMethod]
    public void OneCycleMatchesPyTorch()
    {
        var cases = Cases("onecycle");
        Assert.HasCount(3, cases);
        foreach (var e in cases)
        {
            var opt = Optimizer(1f);
            var s = new OneCycleLR(opt, e.GetProperty("maxLr").GetSingle(), e.GetProperty("totalSteps").GetInt32(), e.GetProperty("pctStart").GetSingle(),
                threePhase: e.GetProperty("threePhase").GetBoolean());
            Assert.AreEqual(SchedulerStepping.Batch, s.Stepping);
            Follow(e, s);
        }
    }

    [TestMethod]
    public void LinearWarmupThenCosineMatchesPyTorchsSequentialLR()
    {
        var cases = Cases("warmup-cosine");
        Assert.HasCount(2, cases);
        foreach (var e in cases)
        {
            var opt = Optimizer(e.GetProperty("lr").GetSingle());
            var s = new LinearWarmup(new CosineAnnealingLR(opt, e.GetProperty("tMax").GetInt32()), e.GetProperty("warmup").GetInt32(), e.GetProperty("startFactor").GetSingle());
            Follow(e, s);
        }
    }

    [TestMethod]
    public void ReduceOnPlateauMatchesPyTorch()
    {
        var cases = Cases("plateau");
        Assert.HasCount(3, cases);
        foreach (var e in cases)
        {
            var opt = Optimizer(e.GetProperty("lr").GetSingle());
            var metrics = e.GetProperty("metrics").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var s = new ReduceLROnPlateau(opt, e.GetProperty("mode").GetString() == "max" ? PlateauMode.Max : PlateauMode.Min, e.GetProperty("factor").GetSingle(),
                e.GetProperty("patience").GetInt32(), cooldown: e.GetProperty("cooldown").GetInt32(), minLearningRate: e.GetProperty("minLr").GetSingle());
            Follow(e, s, t => s.Step(metrics[t]));
            Assert.AreEqual(s.LastLearningRate, s.LearningRateAt(metrics.Length));
        }
        Assert.ThrowsExactly<InvalidOperationException>(() => new ReduceLROnPlateau(Optimizer(0.1f)).Step());
    }

    [TestMethod]
    public void OpenLengthSchedulesSpanTheRun()
    {
        var opt = Optimizer(0.1f);
        var cosine = new CosineAnnealingLR(opt, stepping: SchedulerStepping.Batch);
        Assert.ThrowsExactly<InvalidOperationException>(() => cosine.LearningRateAt(3));
        cosine.SetTrainingLength(epochs: 3, stepsPerEpoch: 10);
        Assert.AreEqual(30, cosine.TMax);
        Assert.AreEqual(0f, cosine.LearningRateAt(30), 1e-9);

        var opt2 = Optimizer(0.1f);
        var warm = new LinearWarmup(new CosineAnnealingLR(opt2), warmupSteps: 2, startFactor: 0.5f);
        Assert.AreEqual(0.05f, opt2.LearningRate, 1e-7, "the warm-up's first rate is set at once");
        warm.SetTrainingLength(epochs: 10, stepsPerEpoch: 7);
        Assert.AreEqual(8, ((CosineAnnealingLR)warm.Inner).TMax, "per-epoch inner schedule: 10 epochs minus 2 of warm-up");
        Assert.AreEqual(SchedulerStepping.Epoch, warm.Stepping);

        var opt3 = Optimizer(123f);
        var cycle = new OneCycleLR(opt3, 0.01f);
        cycle.SetTrainingLength(4, 25);
        Assert.AreEqual(100, cycle.TotalSteps);
        Assert.AreEqual(0.01f / 25, opt3.LearningRate, 1e-9, "step 0 of the cycle is applied when the length is known");
    }

    /// <summary>Fit steps a per-batch schedule after every optimizer step and a per-epoch one after every epoch.</summary>
    [TestMethod]
    public void FitStepsPerBatchOrPerEpoch()
    {
        var rng = new Random(1);
        var data = new ImageDataset(Enumerable.Range(0, 40 * 4).Select(_ => (float)rng.NextDouble()).ToArray(), new Shape(4), Enumerable.Range(0, 40).Select(i => i % 2).ToArray(), ["a", "b"]);
        foreach (bool perBatch in new[] { true, false })
        {
            RandomSource.ManualSeed(1);
            using var model = new Sequential(new Linear(4, 2));
            using var opt = new Adam(model.Parameters(), 0.01f);
            var schedule = new CosineAnnealingLR(opt, stepping: perBatch ? SchedulerStepping.Batch : SchedulerStepping.Epoch);
            var rates = new List<float>();
            var history = Trainer.Fit(model, opt, data, null, new TrainingOptions
            {
                Epochs = 3, BatchSize = 8, Seed = 1, Scheduler = schedule,
                BatchCompleted = _ => rates.Add(opt.LearningRate),
            });
            int steps = perBatch ? 15 : 3;
            Assert.AreEqual(steps, schedule.TMax);
            Assert.AreEqual(steps, schedule.LastEpoch);
            Assert.AreEqual(0f, opt.LearningRate, 1e-9);
            Assert.AreEqual(0.01, history.Epochs[0].LearningRate, 1e-9);
            if (perBatch)
            {
                for (int i = 0; i < rates.Count; i++)
                {
                    Assert.AreEqual(schedule.LearningRateAt(i + 1), rates[i], 1e-9, $"after step {i}");
                }
            }
            else
            {
                Assert.AreEqual(schedule.LearningRateAt(1), (float)history.Epochs[1].LearningRate, 1e-7);
            }
        }
    }
}
