using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// One row of a <see cref="ModelSummary"/>: one call of a leaf layer (a module without children), or a container
/// whose own computation makes a new tensor (a concatenation, a residual sum) or that holds parameters of its own.
/// Shapes include the batch axis (batch 1); counts are per image.
/// </summary>
public sealed class LayerSummary
{
    /// <summary>Position in execution order.</summary>
    public int Index { get; init; }

    /// <summary>Dotted module name (<c>features.0</c>, <c>layer1.0.conv1</c>); a second call of a shared module gets " (call 2)".</summary>
    public required string Name { get; init; }

    /// <summary>Module type name (<c>Conv2d</c>, <c>ReLU</c>, ...).</summary>
    public required string Type { get; init; }

    /// <summary>The module's one-line description (<c>Conv2d(3→64, kernel=3, padding=1)</c>).</summary>
    public required string Description { get; init; }

    /// <summary>Input shape, batch axis included.</summary>
    public Shape InputShape { get; init; }

    /// <summary>Output shape, batch axis included.</summary>
    public Shape OutputShape { get; init; }

    /// <summary>The module's own parameter elements (not its children's); 0 on a repeated call of a shared module.</summary>
    public long Parameters { get; init; }

    /// <summary>The own parameter elements that are trainable (not frozen).</summary>
    public long TrainableParameters { get; init; }

    /// <summary>
    /// Multiply-accumulates per image: convolutions output elements × (in channels / groups) × kernel area, fully
    /// connected layers in × out features. Bias additions, normalisation, activations and pooling count 0.
    /// </summary>
    public long Macs { get; init; }

    /// <summary>Output elements per image.</summary>
    public long OutputElements { get; init; }

    /// <summary>Output bytes per image (float32).</summary>
    public long OutputBytes => OutputElements * sizeof(float);

    /// <summary>
    /// Whether the output counts in <see cref="ModelSummary.ActivationElements"/>: false for views (flatten) and for
    /// element-wise layers that can run in place over a tensor already counted (ReLU after a convolution, dropout).
    /// </summary>
    public bool CountsAsActivation { get; init; }

    /// <summary>True for a container row (its own computation, after its children's rows).</summary>
    public bool IsContainer { get; init; }

    /// <summary>
    /// Receptive field (height, width) of one output position in input pixels, or null once the output is no longer
    /// a [N, C, H, W] map (after flatten: every output sees the whole input).
    /// </summary>
    public Size2? ReceptiveField { get; init; }

    /// <summary>Distance in input pixels between neighbouring output positions (the cumulative stride), or null as above.</summary>
    public Size2? Jump { get; init; }

    /// <summary>
    /// For convolutions and pooling, the output-size arithmetic with numbers, e.g.
    /// <c>W2 = (W1 − F + 2P)/S + 1 = (227 − 11 + 2·0)/4 + 1 = 55</c>; otherwise null.
    /// </summary>
    public string? Arithmetic { get; init; }
}

/// <summary>
/// A per-layer account of a network, from one forward pass on a zero image (batch 1) in evaluation mode without
/// gradients: shapes, parameters, multiply-accumulates, activation memory, receptive field and the conv arithmetic.
/// Build it with <see cref="ModelSummaryExtensions.Summary"/> (<c>model.Summary(3, 224, 224)</c>) or
/// <see cref="Create"/>; print it with <see cref="ToString"/> / <see cref="Print"/> or serialise it with <see cref="ToJson"/>.
/// </summary>
/// <remarks>
/// <para><b>Activations</b> (<see cref="ActivationElements"/>) follow the convention of the classic CS231n VGG table:
/// the input plus the output of every layer that makes a new tensor (convolution, pooling, fully connected,
/// normalisation, concatenation, residual sum); an activation function or dropout applied to a tensor already counted
/// is taken as in place and not counted again, and views (flatten) are free.</para>
/// <para><b>Receptive field</b> is tracked per tensor along the execution order: a convolution or pooling layer with
/// kernel k, stride s and dilation d maps (rf, jump) of its input to (rf + (k − 1)·d·jump, jump·s); other layers keep
/// it. A tensor made outside any layer (a concatenation or residual sum) gets the largest receptive field produced so
/// far. This is exact for chains, and for branching networks it gives the largest path (an upper bound).</para>
/// <para><b>Training memory</b> (<see cref="EstimateTrainingBytes"/>) = 4 bytes × (parameters + buffers +
/// trainable parameters × (1 gradient + optimizer states per parameter) + batch × tensors kept for backward), where
/// the tensors kept for backward are <see cref="ForwardTensorElements"/> (the input and every layer output that is not
/// a view, activation-function outputs included, since this engine does not compute them in place). Workspace such as
/// im2col buffers and the transient activation gradients of the backward pass are not included.</para>
/// <para>Modules that do not run in evaluation mode (auxiliary classifiers) have no row, but their parameters are in
/// the totals.</para>
/// </remarks>
public sealed class ModelSummary
{
    private static readonly HashSet<string> InPlaceTypes = new(StringComparer.Ordinal)
    {
        nameof(ReLU), nameof(ReLU6), nameof(LeakyReLU), nameof(ELU), nameof(SELU), nameof(GELU), nameof(Sigmoid),
        nameof(Tanh), nameof(SiLU), nameof(Hardswish), nameof(Hardsigmoid), nameof(Dropout), nameof(Identity),
    };

    private ModelSummary(string modelType, Shape inputShape, Shape outputShape, IReadOnlyList<LayerSummary> rows,
        long totalParameters, long trainableParameters, long bufferElements, long activationElements, long forwardTensorElements)
    {
        ModelType = modelType;
        InputShape = inputShape;
        OutputShape = outputShape;
        Rows = rows;
        TotalParameters = totalParameters;
        TrainableParameters = trainableParameters;
        BufferElements = bufferElements;
        ActivationElements = activationElements;
        ForwardTensorElements = forwardTensorElements;
        Macs = rows.Sum(r => r.Macs);
    }

    /// <summary>Type name of the summarised model.</summary>
    public string ModelType { get; }

    /// <summary>Input shape, batch axis (1) included.</summary>
    public Shape InputShape { get; }

    /// <summary>Output shape, batch axis (1) included.</summary>
    public Shape OutputShape { get; }

    /// <summary>The rows in execution order.</summary>
    public IReadOnlyList<LayerSummary> Rows { get; }

    /// <summary>All parameter elements of the model.</summary>
    public long TotalParameters { get; }

    /// <summary>Parameter elements that are trainable.</summary>
    public long TrainableParameters { get; }

    /// <summary>Parameter elements that are frozen.</summary>
    public long FrozenParameters => TotalParameters - TrainableParameters;

    /// <summary>Buffer elements (batch-norm running statistics and counters).</summary>
    public long BufferElements { get; }

    /// <summary>Multiply-accumulates per image (sum of the rows).</summary>
    public long Macs { get; }

    /// <summary>Activations per image by the CS231n convention (see the remarks): input + every new layer output.</summary>
    public long ActivationElements { get; }

    /// <summary><see cref="ActivationElements"/> in bytes (float32): the forward activation memory per image.</summary>
    public long ActivationBytes => ActivationElements * sizeof(float);

    /// <summary>The input plus every layer output that is not a view: what a forward pass with autograd keeps per image.</summary>
    public long ForwardTensorElements { get; }

    /// <summary>
    /// Estimated bytes to train with <paramref name="batchSize"/> images per step and an optimizer that keeps
    /// <paramref name="optimizerStatesPerParameter"/> tensors per parameter (Adam 2, SGD with momentum 1, plain SGD 0):
    /// 4 × (parameters + buffers + trainable × (1 + states) + batch × <see cref="ForwardTensorElements"/>).
    /// </summary>
    public long EstimateTrainingBytes(int batchSize = 1, int optimizerStatesPerParameter = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(optimizerStatesPerParameter);
        return sizeof(float) * (TotalParameters + BufferElements + TrainableParameters * (1 + optimizerStatesPerParameter)
            + (long)batchSize * ForwardTensorElements);
    }

    /// <summary>
    /// Summarises <paramref name="model"/> for one image of shape <paramref name="inputShape"/> (C×H×W, or any
    /// per-sample shape; the batch axis 1 is added). Runs one forward pass in evaluation mode without gradients
    /// and restores every module's training mode afterwards.
    /// </summary>
    public static ModelSummary Create(Module model, params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException($"ModelSummary: the input shape must be non-empty with positive sizes, got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        }
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        var modes = new List<(Module Module, bool Training)>();
        foreach (var (name, m) in model.NamedModules())
        {
            names.TryAdd(m, name);
            modes.Add((m, m.IsTraining));
        }
        var builder = new Builder(names);
        var fullShape = new Shape([1, .. inputShape]);
        Shape outputShape;
        model.Eval();
        try
        {
            using var scope = new TensorScope();
            using var noGrad = new NoGradScope();
            var input = Tensor.Zeros(fullShape, model.Device);
            builder.Start(input);
            Tensor output;
            using (Module.ObserveForward(builder.Observe))
            {
                output = model.Forward(input);
            }
            outputShape = output.Shape;
        }
        finally
        {
            foreach (var (m, training) in modes)
            {
                m.Train(training);
            }
        }
        long buffers = model.NamedBuffers().Sum(b => (long)b.Value.Size);
        return new ModelSummary(model.GetType().Name, fullShape, outputShape, builder.Rows, model.ParameterCount(),
            model.ParameterCount(trainableOnly: true), buffers, builder.ActivationElements, builder.ForwardTensorElements);
    }

    /// <summary>The table (see <see cref="Print"/>).</summary>
    public override string ToString()
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture);
        Print(w);
        return w.ToString();
    }

    /// <summary>
    /// Writes a table: one line per row (name, type, output shape C×H×W, parameters, MACs, output elements,
    /// receptive field/jump, conv arithmetic), then the totals.
    /// </summary>
    public void Print(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var header = new[] { "#", "Layer", "Type", "Output", "Params", "MACs", "Activations", "RF / jump", "Output size" };
        var lines = new List<string[]> { header };
        foreach (var r in Rows)
        {
            lines.Add([
                Num(r.Index), r.Name, r.Type, FormatPerSample(r.OutputShape), Num(r.Parameters), Num(r.Macs),
                Num(r.OutputElements) + (r.CountsAsActivation ? string.Empty : "*"),
                r.ReceptiveField is { } rf ? $"{Size(rf)} / {Size(r.Jump!.Value)}" : "all",
                r.Arithmetic ?? string.Empty,
            ]);
        }
        var widths = new int[header.Length];
        foreach (var l in lines)
        {
            for (int i = 0; i < l.Length; i++)
            {
                widths[i] = Math.Max(widths[i], l[i].Length);
            }
        }
        bool[] rightAligned = [true, false, false, false, true, true, true, false, false];
        int total = widths.Sum() + 2 * (widths.Length - 1);
        writer.WriteLine($"{ModelType}: input {FormatPerSample(InputShape)} → output {FormatPerSample(OutputShape)}");
        for (int li = 0; li < lines.Count; li++)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < header.Length; i++)
            {
                if (i > 0)
                {
                    sb.Append("  ");
                }
                sb.Append(rightAligned[i] ? lines[li][i].PadLeft(widths[i]) : lines[li][i].PadRight(widths[i]));
            }
            writer.WriteLine(sb.ToString().TrimEnd());
            if (li == 0)
            {
                writer.WriteLine(new string('─', total));
            }
        }
        writer.WriteLine(new string('─', total));
        writer.WriteLine($"Parameters: {Num(TotalParameters)} total, {Num(TrainableParameters)} trainable, {Num(FrozenParameters)} frozen ({Bytes(TotalParameters * sizeof(float))})");
        writer.WriteLine($"MACs per image: {Num(Macs)} ({Human(Macs)})");
        writer.WriteLine($"Activations per image (input + new layer outputs; * = in place or view, not counted): {Num(ActivationElements)} ({Bytes(ActivationBytes)})");
        writer.WriteLine($"Training memory estimate, Adam, batch 1: {Bytes(EstimateTrainingBytes(1, 2))} (parameters + gradients + 2 optimizer states + {Num(ForwardTensorElements)} forward values kept for backward)");
    }

    /// <summary>
    /// The summary as one line of JSON: modelType, inputShape, outputShape, totalParameters, trainableParameters,
    /// frozenParameters, bufferElements, macs, activationElements, activationBytes, forwardTensorElements,
    /// trainingBytesAdamBatch1 and rows (name, type, description, inputShape, outputShape, parameters, macs,
    /// outputElements, outputBytes, countsAsActivation, isContainer, receptiveField [h, w] or null, jump, arithmetic).
    /// </summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("modelType", ModelType);
            WriteShape(w, "inputShape", InputShape);
            WriteShape(w, "outputShape", OutputShape);
            w.WriteNumber("totalParameters", TotalParameters);
            w.WriteNumber("trainableParameters", TrainableParameters);
            w.WriteNumber("frozenParameters", FrozenParameters);
            w.WriteNumber("bufferElements", BufferElements);
            w.WriteNumber("macs", Macs);
            w.WriteNumber("activationElements", ActivationElements);
            w.WriteNumber("activationBytes", ActivationBytes);
            w.WriteNumber("forwardTensorElements", ForwardTensorElements);
            w.WriteNumber("trainingBytesAdamBatch1", EstimateTrainingBytes(1, 2));
            w.WriteStartArray("rows");
            foreach (var r in Rows)
            {
                w.WriteStartObject();
                w.WriteNumber("index", r.Index);
                w.WriteString("name", r.Name);
                w.WriteString("type", r.Type);
                w.WriteString("description", r.Description);
                WriteShape(w, "inputShape", r.InputShape);
                WriteShape(w, "outputShape", r.OutputShape);
                w.WriteNumber("parameters", r.Parameters);
                w.WriteNumber("macs", r.Macs);
                w.WriteNumber("outputElements", r.OutputElements);
                w.WriteNumber("outputBytes", r.OutputBytes);
                w.WriteBoolean("countsAsActivation", r.CountsAsActivation);
                w.WriteBoolean("isContainer", r.IsContainer);
                WriteSize(w, "receptiveField", r.ReceptiveField);
                WriteSize(w, "jump", r.Jump);
                if (r.Arithmetic != null)
                {
                    w.WriteString("arithmetic", r.Arithmetic);
                }
                else
                {
                    w.WriteNull("arithmetic");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteShape(Utf8JsonWriter w, string name, Shape shape)
    {
        w.WriteStartArray(name);
        foreach (int d in shape.Dims)
        {
            w.WriteNumberValue(d);
        }
        w.WriteEndArray();
    }

    private static void WriteSize(Utf8JsonWriter w, string name, Size2? size)
    {
        if (size is { } s)
        {
            w.WriteStartArray(name);
            w.WriteNumberValue(s.H);
            w.WriteNumberValue(s.W);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Num(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Human(long v) => v switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{v / 1e9:0.##} G"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{v / 1e6:0.##} M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{v / 1e3:0.##} K"),
        _ => v.ToString(CultureInfo.InvariantCulture),
    };

    private static string Size(Size2 s) => s.H == s.W ? s.H.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{s.H}×{s.W}");

    private static string Bytes(long b) => b >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{b / (1024.0 * 1024.0):0.##} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:0.##} KiB");

    /// <summary>A shape without its batch axis, as C×H×W.</summary>
    private static string FormatPerSample(Shape s)
        => s.Rank <= 1 ? s.ToString() : string.Join("×", s.Dims[1..].ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private readonly record struct Field(int H, int W, int JumpH, int JumpW)
    {
        public Field Then(Size2 kernel, Size2 stride, Size2 dilation)
            => new(H + (kernel.H - 1) * dilation.H * JumpH, W + (kernel.W - 1) * dilation.W * JumpW, JumpH * stride.H, JumpW * stride.W);

        public bool Exceeds(Field other) => H * W > other.H * other.W || (H * W == other.H * other.W && JumpH * JumpW > other.JumpH * other.JumpW);
    }

    /// <summary>Collects rows from forward-observer callbacks (children report before parents).</summary>
    private sealed class Builder(Dictionary<Module, string> names)
    {
        private readonly Dictionary<Tensor, Field> _fields = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Tensor> _seen = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Tensor> _counted = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Module, int> _calls = new(ReferenceEqualityComparer.Instance);
        private Field _largest = new(1, 1, 1, 1);

        public List<LayerSummary> Rows { get; } = new();

        public long ActivationElements { get; private set; }

        public long ForwardTensorElements { get; private set; }

        public void Start(Tensor input)
        {
            _seen.Add(input);
            _counted.Add(input);
            ActivationElements = input.Size;
            ForwardTensorElements = input.Size;
            if (input.Rank == 4)
            {
                _fields[input] = _largest;
            }
        }

        public void Observe(Module module, Tensor input, Tensor output)
        {
            bool leaf = !module.NamedChildren().Any();
            int call = _calls.TryGetValue(module, out int c) ? c + 1 : 1;
            _calls[module] = call;
            long ownParams = 0, ownTrainable = 0;
            if (call == 1)
            {
                foreach (var p in module.NamedParameters().Where(p => !p.Key.Contains('.', StringComparison.Ordinal)))
                {
                    ownParams += p.Value.Size;
                    ownTrainable += p.Value.RequiresGrad ? p.Value.Size : 0;
                }
            }
            bool isNew = !_seen.Contains(output);
            bool isView = ReferenceEquals(output, input) || (!output.IsDisposed && !input.IsDisposed && ReferenceEquals(output.Storage, input.Storage));
            if (!leaf && !isNew && ownParams == 0)
            {
                return; // a container that returns a child's result: its children already have rows
            }

            // Receptive field of the output, from the input's (or the largest so far for a tensor made outside layers).
            Field? field = null;
            if (output.Rank == 4)
            {
                var inField = _fields.TryGetValue(input, out var f) ? f : _largest;
                field = input.Rank == 4 && leaf ? Propagate(module, input, inField) : (_fields.TryGetValue(output, out var o) ? o : _largest);
                _fields[output] = field.Value;
                if (field.Value.Exceeds(_largest))
                {
                    _largest = field.Value;
                }
            }

            int batch = Math.Max(1, output.Rank > 0 ? output.Shape[0] : 1);
            bool counts;
            if (!isNew)
            {
                counts = false;
            }
            else if (isView)
            {
                counts = false;
            }
            else if (leaf && InPlaceTypes.Contains(module.GetType().Name) && _counted.Contains(input) && input.Shape == output.Shape)
            {
                counts = false;
            }
            else
            {
                counts = true;
            }
            if (isNew && !isView)
            {
                ForwardTensorElements += output.Size / batch;
            }
            if (counts)
            {
                ActivationElements += output.Size / batch;
                _counted.Add(output);
            }
            _seen.Add(input);
            _seen.Add(output);

            string name = names.TryGetValue(module, out var n) ? (n.Length == 0 ? "(model)" : n) : "(unregistered)";
            if (call > 1)
            {
                name += string.Create(CultureInfo.InvariantCulture, $" (call {call})");
            }
            string description = module.ToString() ?? module.GetType().Name;
            int newline = description.IndexOf('\n', StringComparison.Ordinal);
            if (newline >= 0)
            {
                description = description[..newline].TrimEnd('(').TrimEnd();
            }
            Rows.Add(new LayerSummary
            {
                Index = Rows.Count,
                Name = name,
                Type = module.GetType().Name,
                Description = description,
                InputShape = input.Shape,
                OutputShape = output.Shape,
                Parameters = ownParams,
                TrainableParameters = ownTrainable,
                Macs = leaf ? MacsOf(module, input, output) / batch : 0,
                OutputElements = output.Size / batch,
                CountsAsActivation = counts,
                IsContainer = !leaf,
                ReceptiveField = field is { } fr ? new Size2(fr.H, fr.W) : null,
                Jump = field is { } fj ? new Size2(fj.JumpH, fj.JumpW) : null,
                Arithmetic = leaf ? ArithmeticOf(module, input, output) : null,
            });
        }

        private static Field Propagate(Module module, Tensor input, Field f) => module switch
        {
            Conv2d c => f.Then(c.KernelSize, c.Stride, c.Dilation),
            MaxPool2d p => f.Then(p.KernelSize, p.Stride, p.Dilation),
            AvgPool2d p => f.Then(p.KernelSize, p.Stride, 1),
            AdaptiveAvgPool2d p => f.Then(Adaptive(input, p.OutputH, p.OutputW).Kernel, Adaptive(input, p.OutputH, p.OutputW).Stride, 1),
            GlobalAvgPool2d => f.Then(new Size2(input.Shape[2], input.Shape[3]), new Size2(input.Shape[2], input.Shape[3]), 1),
            _ => f,
        };

        /// <summary>The uniform window an adaptive pool amounts to when the sizes divide (an approximation otherwise).</summary>
        private static (Size2 Kernel, Size2 Stride) Adaptive(Tensor input, int oh, int ow)
        {
            int h = input.Shape[2], w = input.Shape[3];
            int sh = Math.Max(1, h / oh), sw = Math.Max(1, w / ow);
            return (new Size2(h - (oh - 1) * sh, w - (ow - 1) * sw), new Size2(sh, sw));
        }

        private static long MacsOf(Module module, Tensor input, Tensor output) => module switch
        {
            Conv2d c => (long)output.Size * (c.InChannels / c.Groups) * c.KernelSize.H * c.KernelSize.W,
            Conv1d c => (long)output.Size * (c.InChannels / c.Groups) * c.KernelSize,
            ConvTranspose2d c => (long)input.Size * (c.OutChannels / c.Groups) * c.KernelSize * c.KernelSize,
            Linear l => (long)output.Size * l.InFeatures,
            _ => 0,
        };

        private static string? ArithmeticOf(Module module, Tensor input, Tensor output)
        {
            if (input.Rank != 4 || output.Rank != 4)
            {
                return null;
            }
            return module switch
            {
                Conv2d c => Rule(input, output, c.KernelSize, c.Padding, c.Stride, c.Dilation, ceil: false),
                MaxPool2d p => Rule(input, output, p.KernelSize, p.Padding, p.Stride, p.Dilation, p.CeilMode),
                AvgPool2d p => Rule(input, output, p.KernelSize, p.Padding, p.Stride, 1, p.CeilMode),
                ConvTranspose2d t => string.Create(CultureInfo.InvariantCulture,
                    $"W2 = (W1 − 1)·S − 2P + D·(F − 1) + OP + 1 = ({input.Shape[3]} − 1)·{t.Stride} − 2·{t.Padding} + {t.Dilation}·({t.KernelSize} − 1) + {t.OutputPadding} + 1 = {output.Shape[3]}"),
                _ => null,
            };
        }

        private static string Rule(Tensor input, Tensor output, Size2 kernel, Size2 padding, Size2 stride, Size2 dilation, bool ceil)
        {
            string Axis(string o, string i, int size, int k, int p, int s, int d, int result)
            {
                string f = d == 1 ? k.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{d}·({k} − 1) + 1");
                string open = ceil ? "⌈" : string.Empty, close = ceil ? "⌉" : string.Empty;
                string fName = d == 1 ? "F" : "(D·(F − 1) + 1)";
                return string.Create(CultureInfo.InvariantCulture,
                    $"{o} = {open}({i} − {fName} + 2P)/S{close} + 1 = {open}({size} − {(d == 1 ? f : "(" + f + ")")} + 2·{p})/{s}{close} + 1 = {result}");
            }
            string w = Axis("W2", "W1", input.Shape[3], kernel.W, padding.W, stride.W, dilation.W, output.Shape[3]);
            bool same = input.Shape[2] == input.Shape[3] && kernel.IsSquare && padding.IsSquare && stride.IsSquare && dilation.IsSquare;
            return same ? w : Axis("H2", "H1", input.Shape[2], kernel.H, padding.H, stride.H, dilation.H, output.Shape[2]) + "; " + w;
        }
    }
}

/// <summary><c>model.Summary(3, 224, 224)</c>.</summary>
public static class ModelSummaryExtensions
{
    /// <summary>Summarises <paramref name="model"/> for one image of shape <paramref name="inputShape"/> (C, H, W); see <see cref="ModelSummary.Create"/>.</summary>
    public static ModelSummary Summary(this Module model, params int[] inputShape) => ModelSummary.Create(model, inputShape);
}
