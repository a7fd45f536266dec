using Microsoft.ML.ConvNet.Autograd;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Convolution → evaluation-mode batch norm (→ residual addition) (→ activation) as one convolution: the batch norm's
/// affine map y = (z − mean)·γ/√(var + ε) + β is folded into the convolution's filters and bias
/// (W'ₖ = Wₖ·sₖ, b'ₖ = (bₖ − meanₖ)·sₖ + βₖ with sₖ = γₖ/√(varₖ + ε)), and the addition and the activation run in place
/// on the convolution's output. This saves the batch norm's pass over the activations and the intermediate tensors.
/// It applies only where nothing is recorded for autograd (inference, or a frozen body whose input needs no gradient)
/// and no forward observer is listening (the model summary and ONNX export see every layer). The folded filters are
/// cached on the batch norm and rebuilt when any of the six tensors they come from changed (<see cref="Tensor.Version"/>)
/// or was replaced.
/// </summary>
internal static class ConvBatchNormFolding
{
    [ThreadStatic]
    private static bool _disabled;

    /// <summary>Whether folding is used on this thread (tests and measurements compare both paths).</summary>
    internal static bool Enabled
    {
        get => !_disabled;
        set => _disabled = !value;
    }

    /// <summary>True when <paramref name="conv"/> → <paramref name="bn"/> on <paramref name="input"/> can run folded.</summary>
    public static bool CanFold(Conv2d conv, BatchNormBase bn, Tensor input, Tensor? residual = null)
        => CanFoldWithin(conv, bn, input, residual) && input.Rank == 4 && input.Shape[1] == conv.InChannels;

    /// <summary>
    /// <see cref="CanFold"/> for a pair inside a block whose input is <paramref name="input"/> (so the pair's own input
    /// has other channels): whether folding is on, the batch norm evaluates, nothing observes, and nothing records.
    /// </summary>
    public static bool CanFoldWithin(Conv2d conv, BatchNormBase bn, Tensor input, Tensor? residual = null)
        => Enabled
            && !bn.IsTraining && bn.TrackRunningStats && bn is BatchNorm2d && bn.NumFeatures == conv.OutChannels
            && !Module.IsObserved
            && !Function.WillRecord(input, conv.Weight, conv.Bias ?? input, bn.Weight ?? input, bn.Bias ?? input, residual ?? input);

    /// <summary>
    /// conv, then bn, then + <paramref name="residual"/> when given, then <paramref name="activation"/>; the caller
    /// checked <see cref="CanFold"/>. Gives what the unfused layers give, up to float rounding; a residual of another shape
    /// is reported naming <paramref name="owner"/> (the block).
    /// </summary>
    public static Tensor Forward(Conv2d conv, BatchNormBase bn, Tensor input, FusedActivation activation, Tensor? residual = null, Module? owner = null)
    {
        var (weight, bias) = bn.FoldedFor(conv);
        Autograd.Functions.ConvChecks.SameDevice("Conv2d", input, weight, bias);
        if (residual != null && residual.Device != input.Device)
        {
            throw new ArgumentException($"{owner?.ToString() ?? bn.ToString()}: the input is on {input.Device} but the shortcut on {residual.Device}.");
        }
        var g = ConvGeometry.Create(input.Shape, weight.Shape, conv.Stride.H, conv.Stride.W, conv.Padding.H, conv.Padding.W,
            conv.Dilation.H, conv.Dilation.W, conv.Groups);
        var y = input.EmptyLike(new Shape(g.N, g.K, g.OH, g.OW));
        if (residual != null && residual.Shape != y.Shape)
        {
            throw new ShapeMismatchException(
                $"{owner?.ToString() ?? bn.ToString()}: the residual branch gives {y.Shape} but the shortcut gives {residual.Shape}; " +
                "a block that changes the stride or the channels needs a downsample projection.");
        }
        // One backend call: the backend adds the bias and the residual and applies the activation as it writes y.
        y.Backend.Conv2dForward(input, weight, bias, y, g, residual, activation switch
        {
            FusedActivation.Relu => UnaryOp.Relu,
            FusedActivation.Relu6 => UnaryOp.Relu6,
            FusedActivation.Silu => UnaryOp.Silu,
            _ => null,
        });
        return y;
    }

    /// <summary>
    /// <paramref name="conv"/> → <paramref name="bn"/> → <paramref name="activation"/> (a ReLU, ReLU6 or SiLU module, or
    /// null), folded when <see cref="CanFold"/> allows, else layer by layer.
    /// </summary>
    public static Tensor ConvNormActivation(Conv2d conv, BatchNormBase bn, Module? activation, Tensor input)
    {
        var fused = activation == null ? FusedActivation.None : ActivationOf(activation);
        if (fused != null && CanFold(conv, bn, input))
        {
            return Forward(conv, bn, input, fused.Value);
        }
        var z = conv.Forward(input);
        if (fused is { } act && bn.TryForwardFused(z, act) is { } trained)
        {
            return trained;
        }
        var y = bn.Forward(z);
        return activation == null ? y : activation.Forward(y);
    }

    /// <summary>The activation module <paramref name="m"/> computes when it is one a fused convolution can apply, else null.</summary>
    public static FusedActivation? ActivationOf(Module? m) => m switch
    {
        ReLU => FusedActivation.Relu,
        ReLU6 => FusedActivation.Relu6,
        SiLU => FusedActivation.Silu,
        _ => null,
    };

    /// <summary>Folded filters and bias of one convolution and batch norm, with the versions of what they came from.</summary>
    internal sealed class Folded : IDisposable
    {
        private readonly Tensor[] _sources;
        private readonly int[] _versions;

        private Folded(Conv2d conv, Tensor[] sources, Tensor weight, Tensor bias)
        {
            Conv = conv;
            _sources = sources;
            _versions = sources.Select(s => s.Version).ToArray();
            Weight = weight;
            Bias = bias;
        }

        public Conv2d Conv { get; }

        public Tensor Weight { get; }

        public Tensor Bias { get; }

        /// <summary>True when built from these very tensors, none of which changed since.</summary>
        public bool IsCurrent(Conv2d conv, Tensor[] sources)
        {
            if (!ReferenceEquals(conv, Conv) || sources.Length != _sources.Length)
            {
                return false;
            }
            for (int i = 0; i < sources.Length; i++)
            {
                if (!ReferenceEquals(sources[i], _sources[i]) || sources[i].Version != _versions[i] || sources[i].Device != Weight.Device)
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>The sources of <paramref name="conv"/> → <paramref name="bn"/>: filters, bias, γ, β, mean, variance (those that exist).</summary>
        public static Tensor[] Sources(Conv2d conv, BatchNormBase bn)
            => new[] { conv.Weight, conv.Bias, bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar }.OfType<Tensor>().ToArray();

        public static Folded Build(Conv2d conv, BatchNormBase bn, Tensor[] sources)
        {
            using var noGrad = new NoGradScope();
            using var scope = new TensorScope();
            var device = conv.Weight.Device;
            int k = conv.OutChannels;
            var channels = new Shape(k);
            var shifted = bn.RunningVar! + bn.Eps;
            var scale = bn.Weight != null ? bn.Weight / shifted.Sqrt() : Tensor.Ones(channels, device) / shifted.Sqrt();
            var weight = (conv.Weight * scale.Reshape(k, 1, 1, 1)).Unscope();
            var centred = conv.Bias != null ? conv.Bias - bn.RunningMean! : bn.RunningMean!.Neg();
            var bias = bn.Bias != null ? centred * scale + bn.Bias : centred * scale;
            return new Folded(conv, sources, weight, bias.Unscope());
        }

        public void Dispose()
        {
            Weight.Dispose();
            Bias.Dispose();
        }
    }
}
