using Microsoft.ML.ConvNet.Tests.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>The ONNX files that ML.NET names <c>.ort</c> at random, which ONNX Runtime misreads, and the repeated load.</summary>
[TestClass]
public sealed class OnnxTempFileTests
{
    [TestMethod]
    public void AnOnnxFileNamedOrt_IsMisreadByOnnxRuntime_AndRecognised()
    {
        string dir = Directory.CreateTempSubdirectory("convnet-ort-").FullName;
        try
        {
            string onnx = OnnxImportOperatorTests.FixturePath("norms_dropout");
            string ort = Path.Combine(dir, "abcdefgh.ort");
            File.Copy(onnx, ort);
            using (var session = new InferenceSession(onnx))
            {
                Assert.IsNotEmpty(session.InputMetadata);
            }
            var e = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(ort).Dispose());
            Assert.IsTrue(OnnxTempFile.IsOrtFormatMisread(new InvalidOperationException("Error initializing model", e)), e.Message);
            Assert.IsFalse(OnnxTempFile.IsOrtFormatMisread(new InvalidOperationException("Error initializing model", new InvalidDataException("Protobuf parsing failed."))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Retry_RepeatsOnlyTheMisreadLoad_AtMostThreeTimes()
    {
        static Exception Misread() => new InvalidOperationException("Error initializing model", new InvalidDataException("[ErrorCode:Fail] inference_session.cc:2238 operator() ORT model verification failed."));
        int calls = 0;
        Assert.AreEqual(7, OnnxTempFile.Retry(() => ++calls < 3 ? throw Misread() : 7));
        Assert.AreEqual(3, calls);

        calls = 0;
        Assert.Throws<InvalidOperationException>(() => OnnxTempFile.Retry<int>(() => { calls++; throw Misread(); }));
        Assert.AreEqual(3, calls, "three names in a row ending .ort are not a name collision");

        calls = 0;
        Assert.Throws<FileNotFoundException>(() => OnnxTempFile.Retry<int>(() => { calls++; throw new FileNotFoundException("gone"); }));
        Assert.AreEqual(1, calls, "any other failure is reported at once");
    }
}
