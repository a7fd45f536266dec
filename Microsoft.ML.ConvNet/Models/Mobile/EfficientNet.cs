using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Stochastic depth (Huang et al., 2016), row mode as torchvision's <c>StochasticDepth(p, "row")</c>: in training each
/// sample's residual branch [N, ...] is dropped with probability p and the survivors are scaled by 1 / (1 − p); in
/// evaluation it is the identity. No parameters.
/// </summary>
public sealed class StochasticDepth : Module
{
    private readonly Random? _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="probability">Probability of dropping a sample's branch, in [0, 1].</param>
    /// <param name="random">Generator for the masks; a fork of <see cref="RandomSource.Shared"/> per pass when null.</param>
    public StochasticDepth(float probability, Random? random = null)
    {
        if (!(probability >= 0f && probability <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), $"StochasticDepth: the probability must be in [0, 1], got {probability}.");
        }
        Probability = probability;
        _random = random;
    }

    /// <summary>Probability of dropping a sample's branch.</summary>
    public float Probability { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!IsTraining || Probability == 0f)
        {
            return input;
        }
        float survival = 1f - Probability;
        var random = _random ?? RandomSource.Fork();
        int n = input.Shape[0];
        var mask = new float[n];
        for (int i = 0; i < n; i++)
        {
            mask[i] = survival > 0f && random.NextDouble() < survival ? 1f / survival : 0f;
        }
        var dims = new int[input.Rank];
        Array.Fill(dims, 1);
        dims[0] = n;
        return input.Mul(Tensor.FromArray(mask, new Shape(dims), input.Device));
    }

    /// <summary>For example <c>StochasticDepth(p=0.1)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"StochasticDepth(p={Probability})");
}

/// <summary>
/// The EfficientNet MBConv block with torchvision's names: <c>block</c> holds the 1×1 expansion conv-BN-SiLU (when the
/// expansion ratio is not 1), the k×k depthwise conv-BN-SiLU, a <see cref="SqueezeExcitation"/> (squeeze =
/// max(1, in / 4), SiLU, sigmoid gate) and the linear 1×1 projection conv-BN; with stride 1 and equal channel counts the
/// input is added to the branch after <see cref="StochasticDepth"/>.
/// </summary>
public sealed class MBConv : Module
{
    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Depthwise kernel size.</param>
    /// <param name="stride">Depthwise stride.</param>
    /// <param name="expandRatio">Expansion ratio of the hidden width.</param>
    /// <param name="stochasticDepthProbability">Drop probability of the residual branch in training.</param>
    public MBConv(int inChannels, int outChannels, int kernel, int stride, double expandRatio, float stochasticDepthProbability)
    {
        int expanded = ConvNormActivation.MakeDivisible(inChannels * expandRatio);
        Block = RegisterModule("block", new Sequential());
        if (expanded != inChannels)
        {
            Block.Add(ConvNormActivation.Create(inChannels, expanded, 1, activation: () => new SiLU()));
        }
        Block.Add(ConvNormActivation.Create(expanded, expanded, kernel, stride, groups: expanded, activation: () => new SiLU()));
        Block.Add(new SqueezeExcitation(expanded, Math.Max(1, inChannels / 4), () => new SiLU(), () => new Sigmoid()));
        Block.Add(ConvNormActivation.Create(expanded, outChannels, 1));
        StochasticDepth = RegisterModule("stochastic_depth", new StochasticDepth(stochasticDepthProbability));
        UseResidual = stride == 1 && inChannels == outChannels;
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Depthwise stride.</summary>
    public int Stride { get; }

    /// <summary>Whether the input is added to the output.</summary>
    public bool UseResidual { get; }

    /// <summary>Expansion, depthwise, squeeze-excitation and projection layers.</summary>
    public Sequential Block { get; }

    /// <summary>Drops the residual branch per sample in training.</summary>
    public StochasticDepth StochasticDepth { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var y = ForwardFused(input) ?? Block.Forward(input);
        if (!UseResidual)
        {
            return y;
        }
        var dropped = StochasticDepth.Forward(y);
        var sum = dropped.Add(input);
        ReleaseIntermediate(dropped, sum);
        ReleaseIntermediate(y, sum);
        return sum;
    }

    /// <summary>
    /// The block's branch with the expansion and the depthwise convolution in one pass (bands of rows, or channels
    /// last on small maps; <see cref="FusedMobileBlock"/>), then the squeeze-excitation and the projection, where
    /// that applies; null otherwise.
    /// </summary>
    private Tensor? ForwardFused(Tensor input)
    {
        if (Block.Count != 4 || FusedMobileBlock.TryForward(Block[0], Block[1], null, null, Stride, residual: false, input) is not Tensor depthwise)
        {
            return null;
        }
        var excited = Block[2].Forward(depthwise);
        ReleaseIntermediate(depthwise, excited);
        var y = Block[3].Forward(excited);
        ReleaseIntermediate(excited, y);
        return y;
    }

    /// <summary>For example <c>MBConv(16→24, stride=2)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"MBConv({InChannels}→{OutChannels}, stride={Stride}{(UseResidual ? ", residual" : string.Empty)})");
}

/// <summary>
/// EfficientNet (Tan and Le, 2019), exactly as torchvision 0.14's <c>efficientnet_b0</c>: <c>features.0</c> 3×3
/// stride-2 conv-BN-SiLU to 32 channels, <c>features.1</c>–<c>features.7</c> stages of <see cref="MBConv"/> blocks
/// (<c>features.N.M.block...</c>), <c>features.8</c> 1×1 conv-BN-SiLU to 1280, global average pool, <c>classifier</c> =
/// Dropout(0.2) + Linear. Stochastic depth rises linearly from 0 to 0.2 over the blocks. 5 288 548 parameters for 1000
/// classes.
/// </summary>
public sealed class EfficientNet : Module
{
    // expand ratio, kernel, stride, in, out, layers
    private static readonly (double Expand, int Kernel, int Stride, int In, int Out, int Layers)[] B0Stages =
        [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)];

    /// <summary>Builds the network.</summary>
    /// <param name="widthMultiplier">Channel multiplier (1.0 for B0).</param>
    /// <param name="depthMultiplier">Block-count multiplier (1.0 for B0).</param>
    /// <param name="dropout">Dropout probability before the classifier.</param>
    /// <param name="numClasses">Outputs of the classifier.</param>
    /// <param name="inputChannels">Channels of the input image.</param>
    /// <param name="smallInput">Stride 1 in the first convolution (for 32×32 inputs).</param>
    /// <param name="stochasticDepthProbability">Drop probability reached by the last block.</param>
    public EfficientNet(double widthMultiplier, double depthMultiplier, float dropout, int numClasses = 1000, int inputChannels = 3,
        bool smallInput = false, float stochasticDepthProbability = 0.2f)
    {
        int Width(int c) => ConvNormActivation.MakeDivisible(c * widthMultiplier);
        int Depth(int n) => (int)Math.Ceiling(n * depthMultiplier);
        int first = Width(B0Stages[0].In);
        Features = RegisterModule("features", new Sequential(
            ConvNormActivation.Create(inputChannels, first, 3, smallInput ? 1 : 2, activation: () => new SiLU())));
        int total = B0Stages.Sum(s => Depth(s.Layers)), blockId = 0;
        int channels = first;
        foreach (var s in B0Stages)
        {
            var stage = new Sequential();
            int outChannels = Width(s.Out);
            for (int i = 0; i < Depth(s.Layers); i++)
            {
                float p = stochasticDepthProbability * blockId / total;
                stage.Add(new MBConv(channels, outChannels, s.Kernel, i == 0 ? s.Stride : 1, s.Expand, p));
                channels = outChannels;
                blockId++;
            }
            Features.Add(stage);
        }
        int last = 4 * channels;
        Features.Add(ConvNormActivation.Create(channels, last, 1, activation: () => new SiLU()));
        Classifier = RegisterModule("classifier", new Sequential(new Dropout(dropout), new Linear(last, numClasses)));
    }

    /// <summary>The convolutional trunk.</summary>
    public Sequential Features { get; }

    /// <summary>Dropout and the final linear layer.</summary>
    public Sequential Classifier { get; }

    /// <summary>EfficientNet-B0 (torchvision <c>efficientnet_b0</c>).</summary>
    public static EfficientNet B0(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EfficientNet(1.0, 1.0, 0.2f, options.NumClasses, options.InputChannels, options.SmallInput);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Classifier.Forward(Functional.GlobalAvgPool2d(Features.Forward(input)).Flatten());
}
