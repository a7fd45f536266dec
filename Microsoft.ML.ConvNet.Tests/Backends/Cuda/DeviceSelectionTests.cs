using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Optimizers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Tests.Backends.Cuda;

/// <summary>Device selection and its CPU fallback; runs everywhere.</summary>
[TestClass]
public sealed class DeviceSelectionTests
{
    [TestMethod]
    public void AutoIsCudaExactlyWhenCudaIsAvailableAndOtherwiseTellsWhy()
    {
        var availability = CudaBackend.Availability;
        Assert.AreSame(availability, CudaBackend.Availability, "probed once");
        if (availability.IsAvailable)
        {
            Assert.AreEqual(Device.Cuda(0), Device.Auto);
            Assert.IsNull(availability.Reason);
            Assert.IsGreaterThan(0, availability.DeviceCount);
        }
        else
        {
            Assert.AreEqual(Device.Cpu, Device.Auto);
            Assert.IsFalse(string.IsNullOrWhiteSpace(availability.Reason));
            StringAssert.StartsWith(availability.ToString(), "CUDA unavailable: ");
            Assert.AreEqual(0, availability.DeviceCount);
        }
    }

    [TestMethod]
    public void AskingForCudaWithoutItFailsWithTheSameReason()
    {
        if (CudaBackend.Availability.IsAvailable)
        {
            Assert.Inconclusive("CUDA is available here; the failure path is covered on machines without it.");
        }
        var e = Assert.Throws<Exception>(() => Tensor.Zeros(new Shape(2), Device.Cuda(0)));
        Assert.AreEqual(CudaBackend.Availability.Reason, e.Message);
    }

    [TestMethod]
    public void DeviceNamesParse()
    {
        Assert.AreEqual(Device.Cpu, Device.Parse("cpu"));
        Assert.AreEqual(Device.Cuda(0), Device.Parse("CUDA"));
        Assert.AreEqual(Device.Cuda(3), Device.Parse("cuda:3"));
        Assert.AreEqual(Device.Auto, Device.Parse("auto"));
        Assert.AreEqual("cuda:1", Device.Cuda(1).ToString());
        var e = Assert.ThrowsExactly<FormatException>(() => Device.Parse("tpu"));
        StringAssert.Contains(e.Message, "cpu, cuda, cuda:N or auto");
        Assert.ThrowsExactly<FormatException>(() => Device.Parse("cuda:-1"));
    }

    [TestMethod]
    public void ToTheSameDeviceReturnsTheTensorAndModuleToCpuKeepsTheTensorObjects()
    {
        using var t = Tensor.FromArray([1f, 2f, 3f], 3);
        Assert.AreSame(t, t.To(Device.Cpu));
        using var layer = new Linear(3, 2);
        var weight = layer.Weight;
        var before = weight.ToArray();
        Assert.AreSame(layer, layer.To(Device.Cpu));
        Assert.AreSame(weight, layer.Weight);
        CollectionAssert.AreEqual(before, weight.ToArray());
        Assert.AreEqual(Device.Cpu, layer.Device);
    }

    [TestMethod]
    public void BFloat16TrainingIsRefusedOnTheCpu()
    {
        var data = new ImageDataset(new float[4 * 4], new Shape(1, 2, 2), [0, 1, 0, 1], ["a", "b"]);
        using var model = new Sequential(new Flatten(), new Linear(4, 2));
        using var sgd = new Sgd(model.Parameters(), 0.1f);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Trainer.Fit(model, sgd, data, null, new TrainingOptions
        {
            Epochs = 1,
            MixedPrecision = MixedPrecision.BFloat16,
            Device = Device.Cpu,
        }));
        StringAssert.Contains(e.Message, "BFloat16 needs a CUDA device");
    }

    [TestMethod]
    public void AutocastScopesNestPerThread()
    {
        Assert.IsFalse(Autocast.IsBFloat16Enabled);
        using (Autocast.BFloat16())
        {
            using (Autocast.BFloat16())
            {
                Assert.IsTrue(Autocast.IsBFloat16Enabled);
            }
            Assert.IsTrue(Autocast.IsBFloat16Enabled);
            bool other = true;
            var thread = new Thread(() => other = Autocast.IsBFloat16Enabled);
            thread.Start();
            thread.Join();
            Assert.IsFalse(other, "another thread is not affected");
        }
        Assert.IsFalse(Autocast.IsBFloat16Enabled);
    }
}
