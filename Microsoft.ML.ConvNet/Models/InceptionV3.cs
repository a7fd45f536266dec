using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// Inception v3's 35×35 module (torchvision's <c>InceptionA</c>): branch1x1 (1×1→64), branch5x5_1/_2 (1×1→48,
/// 5×5→64), branch3x3dbl_1/_2/_3 (1×1→64, 3×3→96, 3×3→96), 3×3 stride-1 average pool then branch_pool
/// (1×1→poolFeatures). Output channels 224 + poolFeatures, same spatial size.
/// </summary>
public sealed class InceptionA : Module
{
    private readonly BasicConv2d _b1, _b5_1, _b5_2, _b3_1, _b3_2, _b3_3, _pool;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="poolFeatures">Output channels of the pooling branch.</param>
    public InceptionA(int inChannels, int poolFeatures)
    {
        _b1 = RegisterModule("branch1x1", new BasicConv2d(inChannels, 64, 1));
        _b5_1 = RegisterModule("branch5x5_1", new BasicConv2d(inChannels, 48, 1));
        _b5_2 = RegisterModule("branch5x5_2", new BasicConv2d(48, 64, 5, padding: 2));
        _b3_1 = RegisterModule("branch3x3dbl_1", new BasicConv2d(inChannels, 64, 1));
        _b3_2 = RegisterModule("branch3x3dbl_2", new BasicConv2d(64, 96, 3, padding: 1));
        _b3_3 = RegisterModule("branch3x3dbl_3", new BasicConv2d(96, 96, 3, padding: 1));
        _pool = RegisterModule("branch_pool", new BasicConv2d(inChannels, poolFeatures, 1));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var b1 = _b1.Forward(input);
        var b5 = _b5_2.Forward(_b5_1.Forward(input));
        var b3 = _b3_3.Forward(_b3_2.Forward(_b3_1.Forward(input)));
        var bp = _pool.Forward(Functional.AvgPool2d(input, 3, 1, 1));
        return Tensor.Concat([b1, b5, b3, bp], 1);
    }
}

/// <summary>
/// Inception v3's grid reduction 35→17 (torchvision's <c>InceptionB</c>): branch3x3 (3×3 stride 2 → 384),
/// branch3x3dbl_1/_2/_3 (1×1→64, 3×3→96, 3×3 stride 2 → 96) and a 3×3 stride-2 max pool. Output inChannels + 480.
/// </summary>
public sealed class InceptionB : Module
{
    private readonly BasicConv2d _b3, _d1, _d2, _d3;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    public InceptionB(int inChannels)
    {
        _b3 = RegisterModule("branch3x3", new BasicConv2d(inChannels, 384, 3, stride: 2));
        _d1 = RegisterModule("branch3x3dbl_1", new BasicConv2d(inChannels, 64, 1));
        _d2 = RegisterModule("branch3x3dbl_2", new BasicConv2d(64, 96, 3, padding: 1));
        _d3 = RegisterModule("branch3x3dbl_3", new BasicConv2d(96, 96, 3, stride: 2));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Tensor.Concat([_b3.Forward(input), _d3.Forward(_d2.Forward(_d1.Forward(input))), Functional.MaxPool2d(input, 3, 2)], 1);
}

/// <summary>
/// Inception v3's 17×17 module with factorised 7×7 convolutions (torchvision's <c>InceptionC</c>): branch1x1
/// (→192), branch7x7_1..3 (1×1, 1×7, 7×1 → 192), branch7x7dbl_1..5 (1×1, 7×1, 1×7, 7×1, 1×7 → 192), average pool
/// then branch_pool (→192). Output 768 channels.
/// </summary>
public sealed class InceptionC : Module
{
    private readonly BasicConv2d _b1, _s1, _s2, _s3, _d1, _d2, _d3, _d4, _d5, _pool;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="channels7x7">Width inside the 7×7 branches (128, 160 or 192).</param>
    public InceptionC(int inChannels, int channels7x7)
    {
        int c7 = channels7x7;
        _b1 = RegisterModule("branch1x1", new BasicConv2d(inChannels, 192, 1));
        _s1 = RegisterModule("branch7x7_1", new BasicConv2d(inChannels, c7, 1));
        _s2 = RegisterModule("branch7x7_2", new BasicConv2d(c7, c7, (1, 7), padding: (0, 3)));
        _s3 = RegisterModule("branch7x7_3", new BasicConv2d(c7, 192, (7, 1), padding: (3, 0)));
        _d1 = RegisterModule("branch7x7dbl_1", new BasicConv2d(inChannels, c7, 1));
        _d2 = RegisterModule("branch7x7dbl_2", new BasicConv2d(c7, c7, (7, 1), padding: (3, 0)));
        _d3 = RegisterModule("branch7x7dbl_3", new BasicConv2d(c7, c7, (1, 7), padding: (0, 3)));
        _d4 = RegisterModule("branch7x7dbl_4", new BasicConv2d(c7, c7, (7, 1), padding: (3, 0)));
        _d5 = RegisterModule("branch7x7dbl_5", new BasicConv2d(c7, 192, (1, 7), padding: (0, 3)));
        _pool = RegisterModule("branch_pool", new BasicConv2d(inChannels, 192, 1));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var b1 = _b1.Forward(input);
        var b7 = _s3.Forward(_s2.Forward(_s1.Forward(input)));
        var d = _d5.Forward(_d4.Forward(_d3.Forward(_d2.Forward(_d1.Forward(input)))));
        var bp = _pool.Forward(Functional.AvgPool2d(input, 3, 1, 1));
        return Tensor.Concat([b1, b7, d, bp], 1);
    }
}

/// <summary>
/// Inception v3's grid reduction 17→8 (torchvision's <c>InceptionD</c>): branch3x3_1/_2 (1×1→192, 3×3 stride 2
/// → 320), branch7x7x3_1..4 (1×1, 1×7, 7×1, 3×3 stride 2 → 192) and a 3×3 stride-2 max pool. Output inChannels + 512.
/// </summary>
public sealed class InceptionD : Module
{
    private readonly BasicConv2d _a1, _a2, _b1, _b2, _b3, _b4;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    public InceptionD(int inChannels)
    {
        _a1 = RegisterModule("branch3x3_1", new BasicConv2d(inChannels, 192, 1));
        _a2 = RegisterModule("branch3x3_2", new BasicConv2d(192, 320, 3, stride: 2));
        _b1 = RegisterModule("branch7x7x3_1", new BasicConv2d(inChannels, 192, 1));
        _b2 = RegisterModule("branch7x7x3_2", new BasicConv2d(192, 192, (1, 7), padding: (0, 3)));
        _b3 = RegisterModule("branch7x7x3_3", new BasicConv2d(192, 192, (7, 1), padding: (3, 0)));
        _b4 = RegisterModule("branch7x7x3_4", new BasicConv2d(192, 192, 3, stride: 2));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Tensor.Concat([
            _a2.Forward(_a1.Forward(input)),
            _b4.Forward(_b3.Forward(_b2.Forward(_b1.Forward(input)))),
            Functional.MaxPool2d(input, 3, 2)], 1);
}

/// <summary>
/// Inception v3's 8×8 module with expanded filter banks (torchvision's <c>InceptionE</c>): branch1x1 (→320),
/// branch3x3_1 (→384) split into 1×3 and 3×1 (branch3x3_2a/_2b), branch3x3dbl_1/_2 (→448, 3×3→384) split into
/// branch3x3dbl_3a/_3b, average pool then branch_pool (→192). Output 2048 channels.
/// </summary>
public sealed class InceptionE : Module
{
    private readonly BasicConv2d _b1, _a1, _a2a, _a2b, _d1, _d2, _d3a, _d3b, _pool;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels.</param>
    public InceptionE(int inChannels)
    {
        _b1 = RegisterModule("branch1x1", new BasicConv2d(inChannels, 320, 1));
        _a1 = RegisterModule("branch3x3_1", new BasicConv2d(inChannels, 384, 1));
        _a2a = RegisterModule("branch3x3_2a", new BasicConv2d(384, 384, (1, 3), padding: (0, 1)));
        _a2b = RegisterModule("branch3x3_2b", new BasicConv2d(384, 384, (3, 1), padding: (1, 0)));
        _d1 = RegisterModule("branch3x3dbl_1", new BasicConv2d(inChannels, 448, 1));
        _d2 = RegisterModule("branch3x3dbl_2", new BasicConv2d(448, 384, 3, padding: 1));
        _d3a = RegisterModule("branch3x3dbl_3a", new BasicConv2d(384, 384, (1, 3), padding: (0, 1)));
        _d3b = RegisterModule("branch3x3dbl_3b", new BasicConv2d(384, 384, (3, 1), padding: (1, 0)));
        _pool = RegisterModule("branch_pool", new BasicConv2d(inChannels, 192, 1));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var b1 = _b1.Forward(input);
        var a = _a1.Forward(input);
        var b3 = Tensor.Concat([_a2a.Forward(a), _a2b.Forward(a)], 1);
        var d = _d2.Forward(_d1.Forward(input));
        var bd = Tensor.Concat([_d3a.Forward(d), _d3b.Forward(d)], 1);
        var bp = _pool.Forward(Functional.AvgPool2d(input, 3, 1, 1));
        return Tensor.Concat([b1, b3, bd, bp], 1);
    }
}

/// <summary>
/// Inception v3's auxiliary classifier (torchvision's <c>InceptionAux</c>): 5×5 stride-3 average pool, conv0
/// (1×1→128), conv1 (5×5→768), global average pool, fc (768→classes). With <c>adaptivePool</c> the first pool is an
/// adaptive average pool to 5×5 instead, so the head works on the small grids of the small-input stem.
/// </summary>
public sealed class InceptionV3Aux : Module
{
    private readonly BasicConv2d _conv0, _conv1;
    private readonly bool _adaptivePool;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the feature map it reads (768).</param>
    /// <param name="numClasses">Outputs.</param>
    /// <param name="adaptivePool">Pool adaptively to 5×5 instead of the fixed 5×5 stride-3 window.</param>
    public InceptionV3Aux(int inChannels, int numClasses, bool adaptivePool = false)
    {
        _adaptivePool = adaptivePool;
        _conv0 = RegisterModule("conv0", new BasicConv2d(inChannels, 128, 1));
        _conv1 = RegisterModule("conv1", new BasicConv2d(128, 768, 5));
        Fc = RegisterModule("fc", new Linear(768, numClasses));
    }

    /// <summary>The head's classifier.</summary>
    public Linear Fc { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = _adaptivePool ? Functional.AdaptiveAvgPool2d(input, 5, 5) : Functional.AvgPool2d(input, 5, 3);
        x = _conv1.Forward(_conv0.Forward(x));
        x = Functional.AdaptiveAvgPool2d(x, 1, 1);
        return Fc.Forward(x.Reshape(x.Shape[0], -1));
    }
}

/// <summary>
/// Inception v3 (Szegedy et al., 2015) with torchvision 0.14's structure and names: Conv2d_1a_3x3 (3×3/2),
/// Conv2d_2a_3x3, Conv2d_2b_3x3, maxpool1, Conv2d_3b_1x1, Conv2d_4a_3x3, maxpool2, Mixed_5b–5d
/// (<see cref="InceptionA"/>), Mixed_6a (<see cref="InceptionB"/>), Mixed_6b–6e (<see cref="InceptionC"/>), AuxLogits
/// (optional), Mixed_7a (<see cref="InceptionD"/>), Mixed_7b–7c (<see cref="InceptionE"/>), avgpool (adaptive 1×1),
/// dropout 0.5, fc. Designed for 299×299; the smallest input is 75×75 (eval mode; the auxiliary head needs a 17×17
/// grid at Mixed_6e, i.e. at least 299×299 in training mode with the head; the small-input stem lifts this). Parameter counts equal torchvision's.
/// <para>
/// <see cref="Module.Forward"/> returns the main logits [N, classes]. In training mode with the auxiliary head, its
/// logits from the last forward pass are in <see cref="AuxLogits"/> (torchvision returns <c>InceptionOutputs(logits,
/// aux_logits)</c>); the usual loss weight is 0.4. <see cref="ForwardWithAux"/> returns both. transform_input is not
/// applied (torchvision's default False).
/// </para>
/// <para>
/// Small-input stem (<see cref="ModelOptions.SmallInput"/>): Conv2d_1a_3x3 gets stride 1 and padding 1 (same weight
/// shape), maxpool1 is removed, and the auxiliary head pools adaptively to 5×5 instead of with a fixed 5×5/3
/// window. A 32×32 input reaches Mixed_5b at 13×13, Mixed_6b at 6×6 and Mixed_7b at 2×2.
/// </para>
/// </summary>
public sealed class InceptionV3 : Module
{
    private readonly BasicConv2d _c1a, _c2a, _c2b, _c3b, _c4a;
    private readonly Module _maxpool1;
    private readonly MaxPool2d _maxpool2;
    private readonly Module[] _mixed5And6;
    private readonly Module[] _mixed7;
    private readonly AdaptiveAvgPool2d _avgpool;
    private readonly Dropout _dropout;
    private Tensor? _auxLogits;

    /// <summary>Builds the network.</summary>
    /// <param name="numClasses">Outputs of the classifier and the auxiliary head.</param>
    /// <param name="inputChannels">Image channels.</param>
    /// <param name="auxLogits">Whether to build the auxiliary head (torchvision's default: true).</param>
    /// <param name="smallInput">Use the small-image stem (see the class remarks).</param>
    /// <param name="dropout">Dropout before <c>fc</c> (0.5).</param>
    public InceptionV3(int numClasses = 1000, int inputChannels = 3, bool auxLogits = true, bool smallInput = false, float dropout = 0.5f)
    {
        NumClasses = numClasses;
        SmallInput = smallInput;
        _c1a = RegisterModule("Conv2d_1a_3x3", smallInput
            ? new BasicConv2d(inputChannels, 32, 3, stride: 1, padding: 1)
            : new BasicConv2d(inputChannels, 32, 3, stride: 2));
        _c2a = RegisterModule("Conv2d_2a_3x3", new BasicConv2d(32, 32, 3));
        _c2b = RegisterModule("Conv2d_2b_3x3", new BasicConv2d(32, 64, 3, padding: 1));
        _maxpool1 = smallInput ? new Identity() : RegisterModule("maxpool1", new MaxPool2d(3, 2));
        _c3b = RegisterModule("Conv2d_3b_1x1", new BasicConv2d(64, 80, 1));
        _c4a = RegisterModule("Conv2d_4a_3x3", new BasicConv2d(80, 192, 3));
        _maxpool2 = RegisterModule("maxpool2", new MaxPool2d(3, 2));
        _mixed5And6 =
        [
            RegisterModule("Mixed_5b", new InceptionA(192, 32)),
            RegisterModule("Mixed_5c", new InceptionA(256, 64)),
            RegisterModule("Mixed_5d", new InceptionA(288, 64)),
            RegisterModule("Mixed_6a", new InceptionB(288)),
            RegisterModule("Mixed_6b", new InceptionC(768, 128)),
            RegisterModule("Mixed_6c", new InceptionC(768, 160)),
            RegisterModule("Mixed_6d", new InceptionC(768, 160)),
            RegisterModule("Mixed_6e", new InceptionC(768, 192)),
        ];
        if (auxLogits)
        {
            Aux = RegisterModule("AuxLogits", new InceptionV3Aux(768, numClasses, adaptivePool: smallInput));
        }
        _mixed7 =
        [
            RegisterModule("Mixed_7a", new InceptionD(768)),
            RegisterModule("Mixed_7b", new InceptionE(1280)),
            RegisterModule("Mixed_7c", new InceptionE(2048)),
        ];
        _avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1, 1));
        _dropout = RegisterModule("dropout", new Dropout(dropout));
        Fc = RegisterModule("fc", new Linear(2048, numClasses));
    }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Whether the small-image stem is used.</summary>
    public bool SmallInput { get; }

    /// <summary>The auxiliary head (<c>AuxLogits</c>), or null.</summary>
    public InceptionV3Aux? Aux { get; }

    /// <summary>The final classifier (2048→classes).</summary>
    public Linear Fc { get; }

    /// <summary>The auxiliary head's logits of the last forward pass when it ran in training mode with the head; null otherwise.</summary>
    public Tensor? AuxLogits => _auxLogits;

    /// <summary>Runs the network and returns the main logits with the auxiliary logits (null in evaluation mode or without the head).</summary>
    public (Tensor Logits, Tensor? AuxLogits) ForwardWithAux(Tensor input)
    {
        var logits = Forward(input);
        return (logits, _auxLogits);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _auxLogits = null;
        var x = _c2b.Forward(_c2a.Forward(_c1a.Forward(input)));
        x = _maxpool1.Forward(x);
        x = _c4a.Forward(_c3b.Forward(x));
        x = _maxpool2.Forward(x);
        foreach (var m in _mixed5And6)
        {
            x = m.Forward(x);
        }
        Tensor? aux = Aux != null && IsTraining ? Aux.Forward(x) : null;
        foreach (var m in _mixed7)
        {
            x = m.Forward(x);
        }
        x = _avgpool.Forward(x);
        x = _dropout.Forward(x.Reshape(x.Shape[0], -1));
        x = Fc.Forward(x);
        _auxLogits = aux;
        return x;
    }
}
