using System.Text.Json;
using Microsoft.ML.ConvNet.Cli;

namespace Microsoft.ML.ConvNet.Tests.Cli;

/// <summary>The <c>convnet summary</c> command, run in-process.</summary>
[TestClass]
public sealed class SummaryCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = ConvNetCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static JsonElement LastLineJson(string stdout)
    {
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        using var doc = JsonDocument.Parse(last);
        return doc.RootElement.Clone();
    }

    [TestMethod]
    public void Json_LeNet5On1x32x32_LastLineHasTotals()
    {
        var (code, stdout, stderr) = Run("summary", "--arch", "lenet5", "--input", "1x32x32", "--classes", "10", "--json");
        Assert.AreEqual(0, code, stderr);
        var json = LastLineJson(stdout);
        Assert.AreEqual(61_706L, json.GetProperty("totalParameters").GetInt64());
        Assert.AreEqual(61_706L, json.GetProperty("trainableParameters").GetInt64());
        Assert.AreEqual(416_520L, json.GetProperty("macs").GetInt64());
        Assert.AreEqual(12, json.GetProperty("rows").GetArrayLength());
        Assert.AreEqual(156, json.GetProperty("rows")[0].GetProperty("parameters").GetInt32());
        Assert.AreEqual(string.Empty, stderr);
    }

    [TestMethod]
    public void Table_SmallCnnWithSmallInputOption_PrintsRowsAndTotals()
    {
        var (code, stdout, stderr) = Run("summary", "--arch", "SmallCnn", "--input", "1x28x28", "--classes", "10");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "Conv2d");
        StringAssert.Contains(stdout, "32×28×28");
        StringAssert.Contains(stdout, "total");

        // --small-input on LeNet-5 pads C1 so that 28×28 inputs work.
        var (code2, stdout2, stderr2) = Run("summary", "-a", "lenet5", "-i", "1x28x28", "-k", "10", "--small-input", "--json");
        Assert.AreEqual(0, code2, stderr2);
        Assert.AreEqual(61_706L, LastLineJson(stdout2).GetProperty("totalParameters").GetInt64());
    }

    [TestMethod]
    public void List_NamesTheRegisteredArchitectures()
    {
        var (code, stdout, _) = Run("summary", "--list");
        Assert.AreEqual(0, code);
        var names = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        CollectionAssert.Contains(names, "lenet5");
        CollectionAssert.Contains(names, "smallcnn");
    }

    [TestMethod]
    [DataRow("summary --arch nosuchnet --input 3x32x32", "nosuchnet")]
    [DataRow("summary --arch lenet5 --input 1x32", "1x32")]
    [DataRow("summary --arch lenet5 --input 1xAx32", "1xAx32")]
    [DataRow("summary --arch lenet5 --input 1x0x32", "1x0x32")]
    [DataRow("summary --input 1x32x32", "--arch")]
    [DataRow("summary --arch lenet5 --classes 0", "--classes")]
    [DataRow("summary --arch lenet5 --input 1x8x8 --classes 10", "1x8x8")]
    [DataRow("summary --bogus x", "--bogus")]
    [DataRow("summary --arch lenet5 --input 1x32x32 --device tpu", "--device tpu")]
    [DataRow("", "command")]
    public void UsageErrors_GoToStderrWithExitCode2(string commandLine, string expectedInMessage)
    {
        var (code, stdout, stderr) = Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.AreEqual(2, code, $"stdout: {stdout}\nstderr: {stderr}");
        StringAssert.Contains(stderr, expectedInMessage);
        Assert.AreEqual(string.Empty, stdout);
    }

    [TestMethod]
    public void DeviceOptionRunsOnTheCpuOrExplainsWhyCudaIsUnavailable()
    {
        var (code, stdout, stderr) = Run("summary", "--arch", "lenet5", "--input", "1x32x32", "--classes", "10", "--device", "cpu");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "Conv2d");
        var (cudaCode, cudaOut, cudaErr) = Run("summary", "--arch", "lenet5", "--input", "1x32x32", "--classes", "10", "--device", "cuda:0");
        if (Microsoft.ML.ConvNet.Backends.Cuda.CudaBackend.Availability.IsAvailable)
        {
            Assert.AreEqual(0, cudaCode, cudaErr);
            Assert.AreEqual(stdout, cudaOut, "the same table on the GPU");
        }
        else
        {
            Assert.AreEqual(1, cudaCode, "an unusable device is a failure, not a usage error");
            StringAssert.Contains(cudaErr, "--device cuda:0 (cuda:0): " + Microsoft.ML.ConvNet.Backends.Cuda.CudaBackend.Availability.Reason!.Split('\n')[0]);
        }
    }
}
