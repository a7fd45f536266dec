using System.Globalization;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Models;

/// <summary>
/// GoogLeNet's Inception module (torchvision's <c>Inception</c>): four parallel branches concatenated on the channel
/// axis — <c>branch1</c> a 1×1 convolution; <c>branch2</c> 1×1 reduction then 3×3; <c>branch3</c> 1×1 reduction then a
/// 3×3 convolution (torchvision's choice; the paper's 5×5); <c>branch4</c> 3×3 stride-1 max pool then a 1×1
/// projection. Every convolution is a <see cref="BasicConv2d"/>. Input [N, InChannels, H, W] →
/// [N, ch1x1 + ch3x3 + ch5x5 + poolProj, H, W].
/// </summary>
public sealed class InceptionModule : Module
{
    /// <summary>Creates the module with the channel counts of the GoogLeNet paper's table 1.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="ch1x1">Output channels of the 1×1 branch.</param>
    /// <param name="ch3x3Reduce">Channels of the 1×1 reduction before the 3×3 branch.</param>
    /// <param name="ch3x3">Output channels of the 3×3 branch.</param>
    /// <param name="ch5x5Reduce">Channels of the 1×1 reduction before the "5×5" branch.</param>
    /// <param name="ch5x5">Output channels of the "5×5" branch (a 3×3 convolution, as torchvision).</param>
    /// <param name="poolProj">Output channels of the pooling branch's 1×1 projection.</param>
    public InceptionModule(int inChannels, int ch1x1, int ch3x3Reduce, int ch3x3, int ch5x5Reduce, int ch5x5, int poolProj)
    {
        InChannels = inChannels;
        OutChannels = ch1x1 + ch3x3 + ch5x5 + poolProj;
        Branch1 = RegisterModule("branch1", new BasicConv2d(inChannels, ch1x1, 1));
        Branch2 = RegisterModule("branch2", new Sequential(
            new BasicConv2d(inChannels, ch3x3Reduce, 1),
            new BasicConv2d(ch3x3Reduce, ch3x3, 3, padding: 1)));
        Branch3 = RegisterModule("branch3", new Sequential(
            new BasicConv2d(inChannels, ch5x5Reduce, 1),
            new BasicConv2d(ch5x5Reduce, ch5x5, 3, padding: 1)));
        Branch4 = RegisterModule("branch4", new Sequential(
            new MaxPool2d(3, stride: 1, padding: 1, ceilMode: true),
            new BasicConv2d(inChannels, poolProj, 1)));
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels (the sum of the four branches).</summary>
    public int OutChannels { get; }

    /// <summary>The 1×1 branch.</summary>
    public BasicConv2d Branch1 { get; }

    /// <summary>1×1 reduction then 3×3.</summary>
    public Sequential Branch2 { get; }

    /// <summary>1×1 reduction then 3×3 (the paper's 5×5 branch).</summary>
    public Sequential Branch3 { get; }

    /// <summary>3×3 max pool then 1×1 projection.</summary>
    public Sequential Branch4 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
        => Tensor.Concat([Branch1.Forward(input), Branch2.Forward(input), Branch3.Forward(input), Branch4.Forward(input)], 1);

    /// <summary>For example <c>InceptionModule(192→256)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"InceptionModule({InChannels}→{OutChannels})");
}

/// <summary>
/// GoogLeNet's auxiliary classifier (torchvision's <c>InceptionAux</c>): adaptive average pool to 4×4, 1×1
/// <see cref="BasicConv2d"/> to 128 channels (<c>conv</c>), <c>fc1</c> 2048→1024 with ReLU, dropout, <c>fc2</c>
/// 1024→classes. Input [N, InChannels, H, W] → [N, classes].
/// </summary>
public sealed class GoogLeNetAux : Module
{
    private readonly Dropout _dropout;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the feature map it reads.</param>
    /// <param name="numClasses">Outputs.</param>
    /// <param name="dropout">Dropout probability before <c>fc2</c> (0.7 in torchvision).</param>
    public GoogLeNetAux(int inChannels, int numClasses, float dropout = 0.7f)
    {
        Conv = RegisterModule("conv", new BasicConv2d(inChannels, 128, 1));
        Fc1 = RegisterModule("fc1", new Linear(2048, 1024));
        Fc2 = RegisterModule("fc2", new Linear(1024, numClasses));
        _dropout = RegisterModule("dropout", new Dropout(dropout));
    }

    /// <summary>The 1×1 convolution unit.</summary>
    public BasicConv2d Conv { get; }

    /// <summary>First fully connected layer (2048→1024).</summary>
    public Linear Fc1 { get; }

    /// <summary>Second fully connected layer (1024→classes).</summary>
    public Linear Fc2 { get; }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = Functional.AdaptiveAvgPool2d(input, 4, 4);
        x = Conv.Forward(x);
        x = x.Reshape(x.Shape[0], -1);
        x = Functional.Relu(Fc1.Forward(x));
        x = _dropout.Forward(x);
        return Fc2.Forward(x);
    }
}

/// <summary>The outputs of a GoogLeNet training step: main logits and the two auxiliary heads' logits (null when absent or in evaluation mode).</summary>
/// <param name="Logits">Main classifier [N, classes].</param>
/// <param name="Aux2">Head after inception4d [N, classes].</param>
/// <param name="Aux1">Head after inception4a [N, classes].</param>
public sealed record GoogLeNetOutputs(Tensor Logits, Tensor? Aux2, Tensor? Aux1);

/// <summary>
/// GoogLeNet / Inception v1 (Szegedy et al., 2014) with torchvision 0.14's structure and state-dict names: conv1
/// (7×7/2), maxpool1, conv2 (1×1), conv3 (3×3), maxpool2, inception3a–3b, maxpool3, inception4a–4e, maxpool4,
/// inception5a–5b, aux1 / aux2 (optional), avgpool (adaptive 1×1), dropout 0.2, fc. All convolutions are
/// <see cref="BasicConv2d"/>; all max pools use ceil mode. Parameter counts equal torchvision's.
/// <para>
/// <see cref="Module.Forward"/> returns only the main logits [N, classes], in both modes. In training mode with
/// auxiliary heads, the heads' logits of the last forward pass are in <see cref="AuxLogits"/> (aux2, aux1 — torchvision's
/// order in <c>GoogLeNetOutputs</c>); <see cref="ForwardWithAux"/> returns all three at once. The paper weights each
/// auxiliary loss by 0.3. In evaluation mode the heads are not run (as torchvision).
/// </para>
/// <para>
/// Small-input stem (<see cref="ModelOptions.SmallInput"/>): conv1 becomes a 3×3 stride-1 BasicConv2d with padding
/// 1 (same name, weight [64, C, 3, 3]) and maxpool1 is removed (its slot has no parameters); a 32×32 input reaches
/// inception3a at 16×16 and inception5b at 4×4.
/// </para>
/// </summary>
public sealed class GoogLeNet : Module
{
    private readonly Module _maxpool1;
    private readonly BasicConv2d _conv2;
    private readonly BasicConv2d _conv3;
    private readonly MaxPool2d _maxpool2;
    private readonly MaxPool2d _maxpool3;
    private readonly MaxPool2d _maxpool4;
    private readonly InceptionModule _i3a, _i3b, _i4a, _i4b, _i4c, _i4d, _i4e, _i5a, _i5b;
    private readonly AdaptiveAvgPool2d _avgpool;
    private readonly Dropout _dropout;
    private Tensor[] _auxLogits = [];

    /// <summary>Builds the network.</summary>
    /// <param name="numClasses">Outputs of the classifier (and of the auxiliary heads).</param>
    /// <param name="inputChannels">Image channels.</param>
    /// <param name="auxLogits">Whether to build the two auxiliary classifiers (torchvision's default: true).</param>
    /// <param name="smallInput">Use the small-image stem (see the class remarks).</param>
    /// <param name="dropout">Dropout before <c>fc</c> (0.2).</param>
    /// <param name="auxDropout">Dropout in the auxiliary heads (0.7).</param>
    public GoogLeNet(int numClasses = 1000, int inputChannels = 3, bool auxLogits = true, bool smallInput = false,
        float dropout = 0.2f, float auxDropout = 0.7f)
    {
        NumClasses = numClasses;
        SmallInput = smallInput;
        Conv1 = RegisterModule("conv1", smallInput
            ? new BasicConv2d(inputChannels, 64, 3, stride: 1, padding: 1)
            : new BasicConv2d(inputChannels, 64, 7, stride: 2, padding: 3));
        _maxpool1 = smallInput ? new Identity() : RegisterModule("maxpool1", new MaxPool2d(3, 2, ceilMode: true));
        _conv2 = RegisterModule("conv2", new BasicConv2d(64, 64, 1));
        _conv3 = RegisterModule("conv3", new BasicConv2d(64, 192, 3, padding: 1));
        _maxpool2 = RegisterModule("maxpool2", new MaxPool2d(3, 2, ceilMode: true));
        _i3a = RegisterModule("inception3a", new InceptionModule(192, 64, 96, 128, 16, 32, 32));
        _i3b = RegisterModule("inception3b", new InceptionModule(256, 128, 128, 192, 32, 96, 64));
        _maxpool3 = RegisterModule("maxpool3", new MaxPool2d(3, 2, ceilMode: true));
        _i4a = RegisterModule("inception4a", new InceptionModule(480, 192, 96, 208, 16, 48, 64));
        _i4b = RegisterModule("inception4b", new InceptionModule(512, 160, 112, 224, 24, 64, 64));
        _i4c = RegisterModule("inception4c", new InceptionModule(512, 128, 128, 256, 24, 64, 64));
        _i4d = RegisterModule("inception4d", new InceptionModule(512, 112, 144, 288, 32, 64, 64));
        _i4e = RegisterModule("inception4e", new InceptionModule(528, 256, 160, 320, 32, 128, 128));
        _maxpool4 = RegisterModule("maxpool4", new MaxPool2d(2, 2, ceilMode: true));
        _i5a = RegisterModule("inception5a", new InceptionModule(832, 256, 160, 320, 32, 128, 128));
        _i5b = RegisterModule("inception5b", new InceptionModule(832, 384, 192, 384, 48, 128, 128));
        if (auxLogits)
        {
            Aux1 = RegisterModule("aux1", new GoogLeNetAux(512, numClasses, auxDropout));
            Aux2 = RegisterModule("aux2", new GoogLeNetAux(528, numClasses, auxDropout));
        }
        _avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1, 1));
        _dropout = RegisterModule("dropout", new Dropout(dropout));
        Fc = RegisterModule("fc", new Linear(1024, numClasses));
    }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Whether the small-image stem is used.</summary>
    public bool SmallInput { get; }

    /// <summary>The first convolution unit.</summary>
    public BasicConv2d Conv1 { get; }

    /// <summary>Auxiliary head after inception4a, or null.</summary>
    public GoogLeNetAux? Aux1 { get; }

    /// <summary>Auxiliary head after inception4d, or null.</summary>
    public GoogLeNetAux? Aux2 { get; }

    /// <summary>The final classifier (1024→classes); replace via transfer-learning helpers.</summary>
    public Linear Fc { get; }

    /// <summary>
    /// The auxiliary logits of the last forward pass — [aux2, aux1] like torchvision's <c>GoogLeNetOutputs</c> — when it
    /// ran in training mode with auxiliary heads; empty otherwise.
    /// </summary>
    public IReadOnlyList<Tensor> AuxLogits => _auxLogits;

    /// <summary>Runs the network and returns the main logits with the auxiliary logits (null in evaluation mode or without heads).</summary>
    public GoogLeNetOutputs ForwardWithAux(Tensor input)
    {
        var logits = Forward(input);
        return _auxLogits.Length == 2 ? new GoogLeNetOutputs(logits, _auxLogits[0], _auxLogits[1]) : new GoogLeNetOutputs(logits, null, null);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _auxLogits = [];
        var x = Conv1.Forward(input);
        x = _maxpool1.Forward(x);
        x = _conv2.Forward(x);
        x = _conv3.Forward(x);
        x = _maxpool2.Forward(x);
        x = _i3a.Forward(x);
        x = _i3b.Forward(x);
        x = _maxpool3.Forward(x);
        x = _i4a.Forward(x);
        Tensor? aux1 = Aux1 != null && IsTraining ? Aux1.Forward(x) : null;
        x = _i4b.Forward(x);
        x = _i4c.Forward(x);
        x = _i4d.Forward(x);
        Tensor? aux2 = Aux2 != null && IsTraining ? Aux2.Forward(x) : null;
        x = _i4e.Forward(x);
        x = _maxpool4.Forward(x);
        x = _i5a.Forward(x);
        x = _i5b.Forward(x);
        x = _avgpool.Forward(x);
        x = x.Reshape(x.Shape[0], -1);
        x = _dropout.Forward(x);
        x = Fc.Forward(x);
        if (aux1 != null && aux2 != null)
        {
            _auxLogits = [aux2, aux1];
        }
        return x;
    }
}
