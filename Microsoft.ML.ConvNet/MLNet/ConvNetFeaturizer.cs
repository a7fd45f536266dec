using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.Data;

namespace Microsoft.ML.ConvNet;

/// <summary>
/// Fits a <see cref="ConvNetFeaturizer"/>: <c>mlContext.Transforms.ConvNetFeaturize(outputColumnName, inputColumnName,
/// model)</c>. The pretrained network (transfer learning's first scenario, done the ML.NET way) turns each image into
/// a feature vector for ML.NET's own trainers, e.g. followed by <c>LbfgsMaximumEntropy</c> or <c>LightGbm</c>.
/// </summary>
public sealed class ConvNetFeaturizerEstimator : IEstimator<ConvNetFeaturizer>
{
    private readonly string _output;
    private readonly string _input;
    private readonly PretrainedModel _model;

    internal ConvNetFeaturizerEstimator(string outputColumnName, string inputColumnName, PretrainedModel model)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentException.ThrowIfNullOrEmpty(inputColumnName);
        ArgumentNullException.ThrowIfNull(model);
        if (!model.HasNetwork)
        {
            throw new ArgumentException($"ConvNetFeaturize needs a network (an ONNX file or PretrainedModel.ResNet18ImageNet); '{model.Source}' holds weights only.", nameof(model));
        }
        _output = outputColumnName;
        _input = inputColumnName;
        _model = model;
    }

    /// <summary>
    /// Checks the image column (an <c>MLImage</c>, raw bytes or a pixel vector, as for <see cref="ConvNetTrainer"/>),
    /// loads the network in evaluation mode and measures its feature size; reads no rows.
    /// </summary>
    public ConvNetFeaturizer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var image = ImageInput.Resolve(input.Schema, new ConvNetTrainer.Options { FeatureColumnName = _input, Pretrained = _model });
        var network = _model.BuildNetwork();
        try
        {
            network.Eval();
            int width;
            using (new NoGradScope())
            using (new TensorScope())
            {
                width = network.Forward(Tensor.Zeros(new Shape(1, image.Channels, image.Height, image.Width))).Size;
            }
            return new ConvNetFeaturizer(network, image, _output, width, input.Schema);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The input's columns and the feature column, a vector of Single.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!inputSchema.Any(c => c.Name == _input))
        {
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find input column '{_input}'.");
        }
        // ML.NET lets only its own components make schema-shape columns: take a known-size Single vector from a loader.
        var ml = new MLContext();
        var vector = ml.Data.CreateTextLoader([new TextLoader.Column(_output, DataKind.Single, 0, 1)])
            .Append(ml.Transforms.CopyColumns(_output, _output)).GetOutputSchema().Single(c => c.Name == _output);
        return new SchemaShape(inputSchema.Where(c => c.Name != _output).Append(vector));
    }
}

/// <summary>
/// A pretrained network as an ML.NET transform: adds a column of features (Vector&lt;Single, F&gt;, the network's
/// output flattened) computed in batches (<see cref="ConvNetTransformer.ScoringBatch"/>) by the library's engine. Saved
/// with <c>Model.Save</c> as ML.NET's own image transforms and an <c>OnnxTransformer</c> holding the network, so the
/// saved model loads without this library. It owns the network: dispose it to release the weights.
/// </summary>
public sealed class ConvNetFeaturizer : ITransformer, IBatchScorer, IDisposable
{
    private readonly Lock _lock = new();
    private readonly ImageInput _image;
    private readonly string _output;
    private readonly DataViewSchema _trainingSchema;
    private readonly MLContext _ml = new(0);
    private Module? _network;

    internal ConvNetFeaturizer(Module network, ImageInput image, string outputColumnName, int width, DataViewSchema trainingSchema)
    {
        _network = network;
        _image = image;
        _output = outputColumnName;
        FeatureCount = width;
        _trainingSchema = trainingSchema;
    }

    /// <summary>Values in each feature vector.</summary>
    public int FeatureCount { get; }

    /// <summary>The network (in evaluation mode).</summary>
    public Module Network => _network ?? throw new ObjectDisposedException(nameof(ConvNetFeaturizer));

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    ImageInput IBatchScorer.Input => _image;

    int IBatchScorer.ScoreWidth => FeatureCount;

    int IBatchScorer.AddedColumnCount => 1;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var seen = ImageInput.Resolve(inputSchema, new ConvNetTrainer.Options
        {
            FeatureColumnName = _image.ColumnName, Channels = _image.Channels, ImageHeight = _image.Height, ImageWidth = _image.Width,
        });
        if (seen.Kind != _image.Kind)
        {
            throw ConvNetSchema.Mismatch("input", _image.ColumnName, $"the column type the featurizer was fitted on ({_image.Kind})", inputSchema[_image.ColumnName].Type);
        }
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => c.Name != _output));
        builder.AddColumn(_output, new VectorDataViewType(NumberDataViewType.Single, FeatureCount));
        return builder.ToSchema();
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var schema = GetOutputSchema(input.Schema);
        ObjectDisposedException.ThrowIf(_network == null, this);
        return new ScoredDataView(this, input, _image.Preparer(_ml, input.Schema).Transform(input), schema);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
        => new ScoringRowMapper(this, inputSchema, GetOutputSchema(inputSchema), _image.Preparer(_ml, inputSchema));

    void IBatchScorer.Score(float[] features, int count, float[] scores)
    {
        lock (_lock)
        {
            var network = Network;
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            var x = Tensor.FromArray(features.AsSpan(0, count * _image.Size), new Shape(count, _image.Channels, _image.Height, _image.Width), network.Device);
            var y = network.Forward(x);
            if (y.Size != count * FeatureCount)
            {
                throw new InvalidOperationException($"ConvNetFeaturizer: the network returned {y.Shape}, expected {count} rows of {FeatureCount} features.");
            }
            y.ToArray().CopyTo(scores, 0);
        }
    }

    ValueGetter<TValue> IBatchScorer.Getter<TValue>(int added, ScoresOfRow scores)
    {
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
        {
            var row = scores();
            var editor = VBufferEditor.Create(ref value, row.Length);
            row.CopyTo(editor.Values);
            value = editor.Commit();
        };
        return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected 'VBuffer<Single>'.");
    }

    /// <summary>Saves the featurizer as ML.NET's own image transforms and an <c>OnnxTransformer</c> holding the network.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        using var chain = ToMLNetTransformer();
        ((ICanSaveModel)chain).Save(ctx);
    }

    /// <summary>The equivalent chain of ML.NET's own transformers (what <c>Model.Save</c> stores); it scores through ONNX Runtime.</summary>
    public TransformerChain<ITransformer> ToMLNetTransformer()
    {
        var form = SavedForm.Trace(_image, Network, _lock, FeatureCount);
        form.Graph.AddOutput(form.Output, _output, Onnx.OnnxElementType.Float, FeatureCount);
        var transformers = form.Fit(_ml, _trainingSchema, [_output]);
        var internalColumns = form.PreprocessingColumns.ToArray();
        return internalColumns.Length == 0
            ? new TransformerChain<ITransformer>([.. transformers])
            : SavedForm.Chain(transformers, _trainingSchema, _ml.Transforms.DropColumns(internalColumns));
    }

    /// <summary>Releases the network.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _network?.Dispose();
            _network = null;
        }
    }
}
