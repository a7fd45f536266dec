using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.ConvNet.Backends.Cpu;

/// <summary>
/// What a convolution adds to each output as it writes it: y = act(conv + bias[k] + residual), with the bias per output
/// channel k, the residual laid out as the output and the activation all optional. The kernels apply it to rows of
/// outputs that are still in cache, which saves the separate passes over the output that adding the bias, the residual
/// and applying the activation afterwards would cost.
/// </summary>
internal readonly unsafe struct ConvEpilogue
{
    /// <summary>The epilogue with a bias of [K] (or null), a residual laid out as the output (or null) and an activation.</summary>
    public ConvEpilogue(float* bias, float* residual, FusedActivation activation)
    {
        Bias = bias;
        Residual = residual;
        Activation = activation;
    }

    /// <summary>Per output channel, or null.</summary>
    public float* Bias { get; }

    /// <summary>Laid out as the output (element i of the output adds element i of the residual), or null.</summary>
    public float* Residual { get; }

    /// <summary>Applied last.</summary>
    public FusedActivation Activation { get; }

    /// <summary>True when the epilogue changes nothing.</summary>
    public bool IsEmpty => Bias == null && Residual == null && Activation == FusedActivation.None;

    /// <summary>True when only a bias, or nothing, is added: the kernels' own bias handling covers it.</summary>
    public bool IsBiasOnly => Residual == null && Activation == FusedActivation.None;

    /// <summary>The activation of <paramref name="op"/>, or null when no epilogue computes it.</summary>
    public static FusedActivation? ActivationOf(UnaryOp? op) => op switch
    {
        null => FusedActivation.None,
        UnaryOp.Relu => FusedActivation.Relu,
        UnaryOp.Relu6 => FusedActivation.Relu6,
        UnaryOp.Silu => FusedActivation.Silu,
        _ => null,
    };

    /// <summary>This epilogue without its bias (for kernels that add the bias themselves).</summary>
    public ConvEpilogue WithoutBias => new(null, Residual, Activation);

    /// <summary>
    /// The epilogue of a sub-block whose first output channel is <paramref name="channel"/> and whose first element
    /// lies <paramref name="element"/> floats into the output.
    /// </summary>
    public ConvEpilogue At(int channel, nint element)
        => new(Bias == null ? null : Bias + channel, Residual == null ? null : Residual + element, Activation);

    /// <summary>
    /// dst[j] = act(src[j] + bias[<paramref name="channel"/>] + residual[<paramref name="element"/> + j]) for
    /// j &lt; <paramref name="count"/>; <paramref name="dst"/> may be <paramref name="src"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Row(float* src, float* dst, int channel, nint element, int count)
    {
        float add = Bias == null ? 0f : Bias[channel];
        if (IsBiasOnly)
        {
            // The common case (a bias or nothing), short enough to inline into the kernels' loops.
            var addV = Vector256.Create(add);
            int i = 0;
            for (; i + 8 <= count; i += 8)
            {
                Vector256.Store(Vector256.Load(src + i) + addV, dst + i);
            }
            for (; i < count; i++)
            {
                dst[i] = src[i] + add;
            }
            return;
        }
        RowWithResidualOrActivation(src, dst, add, element, count);
    }

    /// <summary>The rest of <see cref="Row"/>: the bias, then the residual, then the activation.</summary>
    private void RowWithResidualOrActivation(float* src, float* dst, float add, nint element, int count)
    {
        float* res = Residual == null ? null : Residual + element;
        switch (Activation)
        {
            case FusedActivation.Relu:
                RowCore<ReluActivation>(src, dst, add, res, count);
                break;
            case FusedActivation.Relu6:
                RowCore<Relu6Activation>(src, dst, add, res, count);
                break;
            case FusedActivation.Silu:
                RowCore<SiluActivation>(src, dst, add, res, count);
                break;
            default:
                RowCore<NoActivation>(src, dst, add, res, count);
                break;
        }
    }

    /// <summary>dst[j] = TAct(src[j] + add + res[j]) (res null: no residual), 512-bit vectors where accelerated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowCore<TAct>(float* src, float* dst, float add, float* res, int count)
        where TAct : struct, IVectorActivation
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var add16 = Vector512.Create(add);
            for (; j + 16 <= count; j += 16)
            {
                var v = Vector512.Load(src + j) + add16;
                if (res != null)
                {
                    v += Vector512.Load(res + j);
                }
                Vector512.Store(TAct.Apply(v), dst + j);
            }
        }
        var add8 = Vector256.Create(add);
        for (; j + 8 <= count; j += 8)
        {
            var v = Vector256.Load(src + j) + add8;
            if (res != null)
            {
                v += Vector256.Load(res + j);
            }
            Vector256.Store(TAct.Apply(v), dst + j);
        }
        for (; j < count; j++)
        {
            dst[j] = TAct.Apply(Vector256.Create(src[j] + add + (res == null ? 0f : res[j]))).ToScalar();
        }
    }

    /// <summary>
    /// y [channels, positions] = this epilogue applied to the transpose of t [positions, channels] (a product computed
    /// with the output positions as its rows), channel c of y its output channel c, element c·positions + j its element.
    /// </summary>
    public void Transposed(float* t, int positions, int channels, float* y)
    {
        PackTransposed.Into(t, channels, positions, channels, y, positions);
        if (!IsEmpty)
        {
            for (int c = 0; c < channels; c++)
            {
                Row(y + (nint)c * positions, y + (nint)c * positions, c, (nint)c * positions, positions);
            }
        }
    }

    /// <summary><paramref name="activation"/> of each lane of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Activate(Vector256<float> v, FusedActivation activation) => activation switch
    {
        FusedActivation.Relu => ReluActivation.Apply(v),
        FusedActivation.Relu6 => Relu6Activation.Apply(v),
        FusedActivation.Silu => SiluActivation.Apply(v),
        _ => v,
    };

    /// <summary><paramref name="activation"/> of each lane of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Activate(Vector512<float> v, FusedActivation activation) => activation switch
    {
        FusedActivation.Relu => ReluActivation.Apply(v),
        FusedActivation.Relu6 => Relu6Activation.Apply(v),
        FusedActivation.Silu => SiluActivation.Apply(v),
        _ => v,
    };

    /// <summary><paramref name="activation"/> of <paramref name="v"/>, computed as one lane of the vector form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float v, FusedActivation activation) => Activate(Vector256.Create(v), activation).ToScalar();

    /// <summary>act(<paramref name="v"/> + bias[<paramref name="channel"/>] + residual[<paramref name="element"/>]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scalar(float v, int channel, nint element)
        => Activate(v + (Bias == null ? 0f : Bias[channel]) + (Residual == null ? 0f : Residual[element]), Activation);
}

/// <summary>An activation as a type, so that a kernel specialised for it applies it in registers without a branch.</summary>
internal interface IVectorActivation
{
    /// <summary>The activation of each lane.</summary>
    static abstract Vector512<float> Apply(Vector512<float> v);

    /// <summary>The activation of each lane.</summary>
    static abstract Vector256<float> Apply(Vector256<float> v);
}

/// <summary>The identity.</summary>
internal readonly struct NoActivation : IVectorActivation
{
    public static Vector512<float> Apply(Vector512<float> v) => v;

    public static Vector256<float> Apply(Vector256<float> v) => v;
}

/// <summary>max(v, 0).</summary>
internal readonly struct ReluActivation : IVectorActivation
{
    public static Vector512<float> Apply(Vector512<float> v) => Vector512.Max(v, Vector512<float>.Zero);

    public static Vector256<float> Apply(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);
}

/// <summary>min(max(v, 0), 6).</summary>
internal readonly struct Relu6Activation : IVectorActivation
{
    public static Vector512<float> Apply(Vector512<float> v) => Vector512.Min(Vector512.Max(v, Vector512<float>.Zero), Vector512.Create(6f));

    public static Vector256<float> Apply(Vector256<float> v) => Vector256.Min(Vector256.Max(v, Vector256<float>.Zero), Vector256.Create(6f));
}

/// <summary>v·σ(v) = v / (1 + e⁻ᵛ), with <see cref="FastExp"/>.</summary>
internal readonly struct SiluActivation : IVectorActivation
{
    public static Vector512<float> Apply(Vector512<float> v) => v / (Vector512<float>.One + FastExp.Exp(-v));

    public static Vector256<float> Apply(Vector256<float> v) => v / (Vector256<float>.One + FastExp.Exp(-v));
}
