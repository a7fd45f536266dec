using System.Globalization;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Data.Augmentation;

/// <summary>
/// Augmentation written as text, as the command line takes it: comma-separated steps, each a name with optional
/// colon-separated numbers and an optional <c>@p</c> probability, applied in the order written.
/// <code>
/// flip,crop:4,rotate:10@0.5            horizontal flip (p 0.5), 4-pixel padded crop, rotation up to ±10° on half the images
/// crop:2:reflect,erase:0.25,mixup:0.2  reflect-padded crop, random erasing (p 0.25), Mixup with α = 0.2
/// </code>
/// Steps: <c>flip[:p]</c> (horizontal), <c>vflip[:p]</c>, <c>crop:PAD[:constant|reflect|replicate]</c>,
/// <c>resized-crop[:MINSCALE]</c>, <c>rotate:DEG</c>, <c>affine:DEG[:TRANSLATE[:SCALE[:SHEAR]]]</c> (scale in 1 ± SCALE),
/// <c>elastic[:ALPHA[:SIGMA]]</c>, <c>noise:STD</c>, <c>blur[:KSIZE[:MAXSIGMA]]</c>,
/// <c>jitter:B[:C[:S]]</c> (brightness, contrast, saturation), <c>erase[:p]</c>, <c>background</c>,
/// <c>mixup[:ALPHA]</c>, <c>cutmix[:ALPHA]</c> (batch mixing, at most one), and <c>none</c> alone.
/// </summary>
public sealed record AugmentationSpec(ImageAugmentation? Augmentation, BatchMixing? Mixing)
{
    /// <summary>The step names <see cref="Parse"/> knows.</summary>
    public static IReadOnlyList<string> StepNames { get; } =
        ["flip", "vflip", "crop", "resized-crop", "rotate", "affine", "elastic", "noise", "blur", "jitter", "erase", "background", "mixup", "cutmix", "none"];

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">A step is unknown or malformed; the message names the step and what is wrong.</exception>
    public static AugmentationSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var steps = new List<ImageAugmentation>();
        BatchMixing? mixing = null;
        var tokens = text.Split(',', StringSplitOptions.TrimEntries);
        if (tokens.Length == 1 && tokens[0].Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return new AugmentationSpec(null, null);
        }
        foreach (string token in tokens)
        {
            if (token.Length == 0)
            {
                throw new FormatException($"Augmentation '{text}': an empty step (two commas, or a comma at an end).");
            }
            try
            {
                var (step, mix) = ParseStep(token);
                if (mix != null)
                {
                    if (mixing != null)
                    {
                        throw new FormatException("only one of mixup and cutmix may be given");
                    }
                    mixing = mix;
                }
                else
                {
                    steps.Add(step!);
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new FormatException($"Augmentation step '{token}' in '{text}': {e.Message}", e);
            }
        }
        return new AugmentationSpec(steps.Count == 0 ? null : steps.Count == 1 ? steps[0] : new Compose(steps), mixing);
    }

    private static (ImageAugmentation? Step, BatchMixing? Mix) ParseStep(string token)
    {
        double? probability = null;
        int at = token.IndexOf('@', StringComparison.Ordinal);
        string body = token;
        if (at >= 0)
        {
            probability = Number(token[(at + 1)..], "probability");
            if (!(probability >= 0 && probability <= 1))
            {
                throw new FormatException($"the probability after '@' must be in [0, 1], got {token[(at + 1)..]}");
            }
            body = token[..at];
        }
        var parts = body.Split(':', StringSplitOptions.TrimEntries);
        string name = parts[0].ToLowerInvariant();
        var args = parts[1..];
        double Arg(int i, double fallback, string what) => i < args.Length ? Number(args[i], what) : fallback;
        double Required(int i, string what) => i < args.Length ? Number(args[i], what) : throw new FormatException($"'{name}' needs {what} (e.g. {name}:{Example(name)})");
        void Most(int count)
        {
            if (args.Length > count)
            {
                throw new FormatException($"'{name}' takes at most {count} value(s), got {args.Length}");
            }
        }
        ImageAugmentation? step;
        BatchMixing? mix = null;
        switch (name)
        {
            case "flip":
                Most(1);
                step = new RandomHorizontalFlip(Arg(0, 0.5, "a probability"));
                break;
            case "vflip":
                Most(1);
                step = new RandomVerticalFlip(Arg(0, 0.5, "a probability"));
                break;
            case "crop":
                Most(2);
                double pad = Required(0, "a padding in pixels");
                if (pad != Math.Floor(pad) || pad < 1)
                {
                    throw new FormatException($"the padding must be a whole number of pixels >= 1, got {args[0]}");
                }
                step = new RandomCrop((int)pad, args.Length > 1 ? Border(args[1]) : BorderMode.Constant);
                break;
            case "resized-crop":
                Most(1);
                step = new RandomResizedCrop(Arg(0, 0.08, "a minimum scale"));
                break;
            case "rotate":
                Most(1);
                step = new RandomRotation(Required(0, "a largest angle in degrees"));
                break;
            case "affine":
                Most(4);
                double scale = Arg(2, 0, "a scale range");
                step = new RandomAffine(Required(0, "a largest angle in degrees"), Arg(1, 0, "a translation fraction"), 1 - scale, 1 + scale, Arg(3, 0, "a shear angle"));
                break;
            case "elastic":
                Most(2);
                step = new ElasticDeformation(Arg(0, 34, "alpha"), Arg(1, 4, "sigma"));
                break;
            case "noise":
                Most(1);
                step = new GaussianNoise(Required(0, "a standard deviation"));
                break;
            case "blur":
                Most(2);
                double k = Arg(0, 3, "a kernel size");
                if (k != Math.Floor(k))
                {
                    throw new FormatException($"the kernel size must be a whole odd number, got {args[0]}");
                }
                step = new GaussianBlur((int)k, 0.1, Arg(1, 2.0, "a largest sigma"));
                break;
            case "jitter":
                Most(3);
                step = new ColorJitter(Required(0, "a brightness amount"), Arg(1, 0, "a contrast amount"), Arg(2, 0, "a saturation amount"));
                break;
            case "erase":
                Most(1);
                step = new RandomErasing(Arg(0, 0.5, "a probability"));
                break;
            case "background":
                Most(0);
                step = new RandomBackground();
                break;
            case "mixup":
                Most(1);
                step = null;
                mix = new Mixup(Arg(0, 0.2, "alpha"));
                break;
            case "cutmix":
                Most(1);
                step = null;
                mix = new CutMix(Arg(0, 1.0, "alpha"));
                break;
            case "none":
                throw new FormatException("'none' must stand alone");
            default:
                throw new FormatException($"unknown step '{parts[0]}'; known: {string.Join(", ", StepNames)}");
        }
        if (probability is double p)
        {
            if (step == null)
            {
                throw new FormatException($"'{name}' mixes whole batches and takes no '@' probability");
            }
            step = new Compose(step) { Probability = p };
        }
        return (step, mix);
    }

    private static string Example(string name) => name switch
    {
        "crop" => "4",
        "rotate" => "10",
        "affine" => "10:0.1:0.1:5",
        "noise" => "0.05",
        "jitter" => "0.2:0.2:0.2",
        _ => "1",
    };

    private static double Number(string text, string what)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v
            : throw new FormatException($"'{text}' is not a number ({what})");

    private static BorderMode Border(string text) => text.ToLowerInvariant() switch
    {
        "constant" or "zero" => BorderMode.Constant,
        "reflect" => BorderMode.Reflect101,
        "replicate" or "edge" => BorderMode.Replicate,
        _ => throw new FormatException($"unknown border '{text}'; known: constant, reflect, replicate"),
    };

    /// <summary>The augmentation and mixing, e.g. <c>Compose(RandomHorizontalFlip(p=0.5), RandomCrop(padding=4, Constant)) + Mixup(alpha=0.2)</c>.</summary>
    public override string ToString()
        => Augmentation == null && Mixing == null ? "none" : string.Join(" + ", new object?[] { Augmentation, Mixing }.Where(x => x != null));
}
