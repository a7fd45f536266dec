namespace Microsoft.ML.ConvNet;

/// <summary>
/// Works around a name collision between ML.NET and ONNX Runtime. ML.NET hands an ONNX model held in memory
/// (<c>ApplyOnnxModel</c> from a stream, and every <c>OnnxTransformer</c> loaded from a model zip) to ONNX Runtime
/// through a temporary file named by <see cref="Path.GetRandomFileName"/>, whose three-letter extension is random. Once
/// in 32 768 names it is <c>.ort</c>, and ONNX Runtime then reads the file as its own ORT format and fails with "ORT
/// model verification failed". The same model under another name loads, so such a load is repeated.
/// </summary>
internal static class OnnxTempFile
{
    private const string OrtFormatMisread = "ORT model verification failed";

    /// <summary>Runs <paramref name="load"/>, again (up to three times in all) while it fails only because its temporary file was named <c>.ort</c>.</summary>
    public static T Retry<T>(Func<T> load)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return load();
            }
            catch (Exception e) when (attempt < 3 && IsOrtFormatMisread(e))
            {
            }
        }
    }

    /// <summary>Whether <paramref name="e"/> or one of its inner exceptions is ONNX Runtime reading an ONNX file as the ORT format.</summary>
    public static bool IsOrtFormatMisread(Exception e)
    {
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x.Message.Contains(OrtFormatMisread, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
