using Microsoft.ML;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary>
/// Loads saved models with ML.NET's own <c>mlContext.Model.Load</c>, as users do, repeating a load that failed only
/// because ML.NET named its temporary ONNX file <c>.ort</c> (see <see cref="OnnxTempFile"/>).
/// </summary>
internal static class SavedModels
{
    /// <summary>Saves <paramref name="model"/> into memory and loads it back.</summary>
    public static ITransformer RoundTrip(MLContext ml, ITransformer model, DataViewSchema inputSchema)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, inputSchema, stream);
        return OnnxTempFile.Retry(() =>
        {
            stream.Position = 0;
            return ml.Model.Load(stream, out _);
        });
    }

    /// <summary>Loads the model zip at <paramref name="path"/>.</summary>
    public static ITransformer Load(MLContext ml, string path, out DataViewSchema inputSchema)
    {
        DataViewSchema? schema = null;
        var model = OnnxTempFile.Retry(() => ml.Model.Load(path, out schema));
        inputSchema = schema!;
        return model;
    }
}
