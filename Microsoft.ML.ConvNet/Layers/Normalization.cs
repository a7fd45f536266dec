using System.Globalization;
using System.Text;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Backends;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Batch normalisation per channel (axis 1): y = (x − mean) / √(var + eps) · weight + bias. In training the mean
/// and (biased) variance come from the batch, and the running statistics are updated:
/// running = (1 − momentum)·running + momentum·batch (unbiased variance), as PyTorch. In evaluation the running
/// statistics are used. Parameters <c>weight</c> (ones) and <c>bias</c> (zeros) [C] when affine; buffers
/// <c>running_mean</c> (zeros), <c>running_var</c> (ones) [C] and <c>num_batches_tracked</c> [] when tracking.
/// </summary>
public abstract class BatchNormBase : Module
{
    private Tensor? _scratchMean;
    private Tensor? _scratchVar;
    private ConvBatchNormFolding.Folded? _folded;

    /// <summary>Creates the layer.</summary>
    /// <param name="numFeatures">Channels C.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="momentum">Weight of the new batch in the running statistics; null for a cumulative average (1/batches seen).</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether to keep running statistics; without them evaluation uses batch statistics too.</param>
    protected BatchNormBase(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        LayerChecks.Positive(numFeatures, nameof(numFeatures), GetType().Name);
        if (!(eps > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), $"{GetType().Name}: eps must be positive, got {eps}.");
        }
        if (momentum is float m && !(m >= 0f && m <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), $"{GetType().Name}: momentum must be in [0, 1], got {m}.");
        }
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(new Shape(numFeatures)));
            Bias = RegisterParameter("bias", Tensor.Zeros(new Shape(numFeatures)));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(new Shape(numFeatures)));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(new Shape(numFeatures)));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(new Shape()));
        }
    }

    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>Variance epsilon.</summary>
    public float Eps { get; }

    /// <summary>Running-statistics momentum; null for a cumulative average.</summary>
    public float? Momentum { get; }

    /// <summary>Whether the layer has a learnable scale and shift.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics.</summary>
    public bool TrackRunningStats { get; }

    /// <summary>Per-channel scale [C] (parameter <c>weight</c>), or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift [C] (parameter <c>bias</c>), or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <summary>Running mean [C] (buffer <c>running_mean</c>), or null when not tracking.</summary>
    public Tensor? RunningMean { get; }

    /// <summary>Running variance [C] (buffer <c>running_var</c>), or null when not tracking.</summary>
    public Tensor? RunningVar { get; }

    /// <summary>Training batches seen, a float scalar (buffer <c>num_batches_tracked</c>), or null when not tracking.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>The accepted input layouts, for error messages.</summary>
    protected abstract string ExpectedInput { get; }

    /// <summary>Throws unless the input rank is accepted.</summary>
    protected abstract void CheckRank(Tensor input);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var (runningMean, runningVar, momentum, useBatchStats) = Statistics(input);
        return LayerChecks.Run(this, input, () => Functional.BatchNorm(input, runningMean, runningVar, Weight, Bias, useBatchStats, momentum, Eps));
    }

    /// <summary>
    /// In training mode, this batch norm, then + <paramref name="residual"/> when given, then <paramref name="activation"/>
    /// (ReLU or ReLU6) as one recorded operation that keeps no intermediate (<see cref="BatchNormActivationFunction"/>);
    /// null, having done nothing, where that does not apply: evaluation mode, no affine parameters, a forward observer
    /// listening (it must see each layer), another activation, or a residual of another shape (left to the caller's error).
    /// </summary>
    internal Tensor? TryForwardFused(Tensor input, FusedActivation activation, Tensor? residual = null)
    {
        if (!FusedTraining || !IsTraining || IsObserved || Weight == null || Bias == null || input.Rank != 4 || input.Shape[1] != NumFeatures
            || activation is not (FusedActivation.Relu or FusedActivation.Relu6) || (residual != null && residual.Shape != input.Shape))
        {
            return null;
        }
        var (runningMean, runningVar, momentum, _) = Statistics(input);
        runningMean.MarkChanged();
        runningVar.MarkChanged();
        return BatchNormActivationFunction.Forward(input, Weight, Bias, residual, activation == FusedActivation.Relu ? UnaryOp.Relu : UnaryOp.Relu6,
            runningMean, runningVar, momentum, Eps);
    }

    /// <summary>Whether training-mode batch norms fuse with a following ReLU on this thread (tests compare both paths).</summary>
    internal static bool FusedTraining
    {
        get => !_unfusedTraining;
        set => _unfusedTraining = !value;
    }

    [ThreadStatic]
    private static bool _unfusedTraining;

    /// <summary>
    /// Checks the input and picks the statistics to normalise with: in training, counts the batch and gives the running
    /// statistics to update with their momentum; without running statistics, scratch buffers nobody reads.
    /// </summary>
    private (Tensor RunningMean, Tensor RunningVar, float Momentum, bool UseBatchStats) Statistics(Tensor input)
    {
        CheckRank(input);
        LayerChecks.Channels(this, input, NumFeatures);
        bool useBatchStats = IsTraining || !TrackRunningStats;
        if (useBatchStats && input.Size / NumFeatures <= 1)
        {
            throw new ArgumentException($"{this}: expected more than 1 value per channel when using batch statistics, got input {input.Shape}.");
        }
        if (!TrackRunningStats)
        {
            _scratchMean ??= Tensor.Zeros(new Shape(NumFeatures), input.Device).Unscope();
            _scratchVar ??= Tensor.Ones(new Shape(NumFeatures), input.Device).Unscope();
            return (_scratchMean, _scratchVar, 0f, useBatchStats);
        }
        float momentum = 0f;
        if (IsTraining)
        {
            NumBatchesTracked!.Backend.Affine(NumBatchesTracked, NumBatchesTracked, 1f, 1f);
            momentum = Momentum ?? 1f / NumBatchesTracked.ToScalar();
        }
        return (RunningMean!, RunningVar!, momentum, useBatchStats);
    }

    /// <summary>For example <c>BatchNorm2d(16)</c> or <c>BatchNorm2d(16, eps=0.001, momentum=0.01)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(GetType().Name).Append('(').Append(NumFeatures.ToString(CultureInfo.InvariantCulture));
        if (Eps != 1e-5f)
        {
            sb.Append(", eps=").Append(Eps.ToString(CultureInfo.InvariantCulture));
        }
        if (Momentum != 0.1f)
        {
            sb.Append(", momentum=").Append(Momentum?.ToString(CultureInfo.InvariantCulture) ?? "cumulative");
        }
        if (!Affine)
        {
            sb.Append(", affine=false");
        }
        if (!TrackRunningStats)
        {
            sb.Append(", track_running_stats=false");
        }
        return sb.Append(')').ToString();
    }

    /// <summary>
    /// The filters and bias of <paramref name="conv"/> with this batch norm's evaluation-mode affine map folded in,
    /// cached until one of the tensors they come from changes (see <see cref="ConvBatchNormFolding"/>).
    /// </summary>
    internal (Tensor Weight, Tensor Bias) FoldedFor(Conv2d conv)
    {
        var sources = ConvBatchNormFolding.Folded.Sources(conv, this);
        if (_folded == null || !_folded.IsCurrent(conv, sources))
        {
            _folded?.Dispose();
            _folded = null;
            _folded = ConvBatchNormFolding.Folded.Build(conv, this, sources);
        }
        return (_folded.Weight, _folded.Bias);
    }

    /// <inheritdoc/>
    protected override void OnDeviceChanged(Backends.Device device)
    {
        _folded?.Dispose();
        _folded = null;
        _scratchMean?.MoveTo(device);
        _scratchVar?.MoveTo(device);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scratchMean?.Dispose();
            _scratchVar?.Dispose();
            _scratchMean = _scratchVar = null;
            _folded?.Dispose();
            _folded = null;
        }
        base.Dispose(disposing);
    }
}

/// <summary>Batch normalisation of images [N, C, H, W] per channel (see <see cref="BatchNormBase"/>).</summary>
public sealed class BatchNorm2d : BatchNormBase
{
    /// <summary>Creates the layer (PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics).</summary>
    /// <param name="numFeatures">Channels C.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="momentum">Weight of the new batch in the running statistics; null for a cumulative average.</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether to keep running statistics.</param>
    public BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats)
    {
    }

    /// <inheritdoc/>
    protected override string ExpectedInput => $"[N, {NumFeatures}, H, W]";

    /// <inheritdoc/>
    protected override void CheckRank(Tensor input) => LayerChecks.Rank(this, input, ExpectedInput, 4);
}

/// <summary>Batch normalisation of [N, C] or [N, C, L] per channel (see <see cref="BatchNormBase"/>).</summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <summary>Creates the layer (PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics).</summary>
    /// <param name="numFeatures">Channels C.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="momentum">Weight of the new batch in the running statistics; null for a cumulative average.</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether to keep running statistics.</param>
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats)
    {
    }

    /// <inheritdoc/>
    protected override string ExpectedInput => $"[N, {NumFeatures}] or [N, {NumFeatures}, L]";

    /// <inheritdoc/>
    protected override void CheckRank(Tensor input) => LayerChecks.Rank(this, input, ExpectedInput, 2, 3);
}

/// <summary>
/// Layer normalisation over the trailing axes given by the normalised shape (each sample on its own), with an
/// elementwise scale <c>weight</c> (ones) and shift <c>bias</c> (zeros) of that shape.
/// </summary>
public sealed class LayerNorm : Module
{
    private readonly int[] _normalizedShape;

    /// <summary>Normalises over the last axis of size <paramref name="normalizedShape"/>.</summary>
    /// <param name="normalizedShape">Size of the last axis.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="elementwiseAffine">Whether to learn an elementwise scale and shift.</param>
    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
        : this([normalizedShape], eps, elementwiseAffine)
    {
    }

    /// <summary>Normalises over the trailing axes whose sizes are <paramref name="normalizedShape"/>.</summary>
    /// <param name="normalizedShape">Sizes of the trailing axes.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="elementwiseAffine">Whether to learn an elementwise scale and shift.</param>
    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d < 1))
        {
            throw new ArgumentException($"LayerNorm: the normalised shape must be non-empty with positive sizes, got [{string.Join(", ", normalizedShape)}].", nameof(normalizedShape));
        }
        if (!(eps > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), $"LayerNorm: eps must be positive, got {eps}.");
        }
        _normalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(new Shape(_normalizedShape)));
            Bias = RegisterParameter("bias", Tensor.Zeros(new Shape(_normalizedShape)));
        }
    }

    /// <summary>Sizes of the normalised trailing axes.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    /// <summary>Variance epsilon.</summary>
    public float Eps { get; }

    /// <summary>Elementwise scale (parameter <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>Elementwise shift (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int k = _normalizedShape.Length;
        bool fits = input.Rank >= k;
        for (int i = 0; fits && i < k; i++)
        {
            fits = input.Shape[input.Rank - k + i] == _normalizedShape[i];
        }
        if (!fits)
        {
            throw new ShapeMismatchException($"{this}: input {input.Shape} does not end with the normalised shape {new Shape(_normalizedShape)}.");
        }
        return LayerChecks.Run(this, input, () => Functional.LayerNorm(input, _normalizedShape, Weight, Bias, Eps));
    }

    /// <summary>For example <c>LayerNorm([64])</c>.</summary>
    public override string ToString()
        => $"LayerNorm({new Shape(_normalizedShape)}{(Eps != 1e-5f ? ", eps=" + Eps.ToString(CultureInfo.InvariantCulture) : string.Empty)}{(Weight == null ? ", elementwise_affine=false" : string.Empty)})";
}

/// <summary>
/// Group normalisation: the channels of each sample are split into groups normalised together; per-channel
/// scale <c>weight</c> (ones) and shift <c>bias</c> (zeros) [C]. Input [N, C, ...].
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numGroups">Number of groups; must divide <paramref name="numChannels"/>.</param>
    /// <param name="numChannels">Channels C.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    public GroupNorm(int numGroups, int numChannels, float eps = 1e-5f, bool affine = true)
    {
        LayerChecks.Positive(numGroups, nameof(numGroups), nameof(GroupNorm));
        LayerChecks.Positive(numChannels, nameof(numChannels), nameof(GroupNorm));
        if (numChannels % numGroups != 0)
        {
            throw new ArgumentException($"GroupNorm: numChannels ({numChannels}) must be divisible by numGroups ({numGroups}).");
        }
        if (!(eps > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), $"GroupNorm: eps must be positive, got {eps}.");
        }
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(new Shape(numChannels)));
            Bias = RegisterParameter("bias", Tensor.Zeros(new Shape(numChannels)));
        }
    }

    /// <summary>Number of groups.</summary>
    public int NumGroups { get; }

    /// <summary>Channels C.</summary>
    public int NumChannels { get; }

    /// <summary>Variance epsilon.</summary>
    public float Eps { get; }

    /// <summary>Per-channel scale [C] (parameter <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift [C] (parameter <c>bias</c>), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2)
        {
            throw new ShapeMismatchException($"{this}: expected input [N, {NumChannels}, ...], got {input.Shape}.");
        }
        LayerChecks.Channels(this, input, NumChannels);
        return LayerChecks.Run(this, input, () => Functional.GroupNorm(input, NumGroups, Weight, Bias, Eps));
    }

    /// <summary>For example <c>GroupNorm(32, 256)</c>.</summary>
    public override string ToString()
        => $"GroupNorm({NumGroups}, {NumChannels}{(Eps != 1e-5f ? ", eps=" + Eps.ToString(CultureInfo.InvariantCulture) : string.Empty)}{(Weight == null ? ", affine=false" : string.Empty)})";
}

/// <summary>
/// Local response normalisation across channels (AlexNet): y = x / (k + α/size · Σ x²)^β, the sum over
/// <c>size</c> neighbouring channels. No parameters. Input [N, C, H, W].
/// </summary>
public sealed class LocalResponseNorm : Module
{
    /// <summary>Creates the layer (PyTorch's defaults).</summary>
    /// <param name="size">Number of neighbouring channels summed.</param>
    /// <param name="alpha">Scale α.</param>
    /// <param name="beta">Exponent β.</param>
    /// <param name="k">Additive constant k.</param>
    public LocalResponseNorm(int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        LayerChecks.Positive(size, nameof(size), nameof(LocalResponseNorm));
        Size = size;
        Alpha = alpha;
        Beta = beta;
        K = k;
    }

    /// <summary>Number of neighbouring channels summed.</summary>
    public int Size { get; }

    /// <summary>Scale α.</summary>
    public float Alpha { get; }

    /// <summary>Exponent β.</summary>
    public float Beta { get; }

    /// <summary>Additive constant k.</summary>
    public float K { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        LayerChecks.Rank(this, input, "[N, C, H, W]", 4);
        return LayerChecks.Run(this, input, () => Functional.LocalResponseNorm(input, Size, Alpha, Beta, K));
    }

    /// <summary>For example <c>LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2)</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"LocalResponseNorm({Size}, alpha={Alpha}, beta={Beta}, k={K})");
}
