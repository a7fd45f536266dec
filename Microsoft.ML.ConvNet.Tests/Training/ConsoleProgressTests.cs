using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Training;

[TestClass]
public sealed class ConsoleProgressTests
{
    [TestMethod]
    public void BarShowsBatchesThroughputAndTheEpochsRemainingTime()
    {
        var progress = new ConsoleProgress(TextWriter.Null, interactive: true) { Epochs = 5 };
        string line = progress.Format(new BatchReport(2, 249, 1000, 64, 0.5, 0.8, 0.41234, 0.85123, 5210.4), TimeSpan.FromSeconds(10));
        Assert.AreEqual("epoch 2/5 [######------------------]  25%  250/1000  loss 0.4123  acc 0.8512  5210 img/s  ETA 0:30", line);
    }

    [TestMethod]
    public void RedirectedOutputGetsOnlyTheEpochLines()
    {
        using var plain = new StringWriter();
        var quiet = new ConsoleProgress(plain, interactive: false);
        using var terminal = new StringWriter();
        var bar = new ConsoleProgress(terminal, interactive: true);
        for (int b = 0; b < 3; b++)
        {
            var report = new BatchReport(1, b, 3, 10, 1, 0.5, 1, 0.5, 100);
            quiet.Batch(report);
            bar.Batch(report);
        }
        quiet.Epoch("epoch 1/1 done");
        bar.Epoch("epoch 1/1 done");
        Assert.AreEqual("epoch 1/1 done" + Environment.NewLine, plain.ToString());
        string drawn = terminal.ToString();
        StringAssert.Contains(drawn, "\repoch 1 [");
        StringAssert.Contains(drawn, "3/3", "the last batch is always drawn");
        Assert.EndsWith("\repoch 1/1 done" + Environment.NewLine, drawn, "the bar is cleared before the epoch line");
    }
}
