using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML.ConvNet.Autograd.Functions;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Training;

namespace Microsoft.ML.ConvNet.Vision;

/// <summary>The files a <see cref="TrainingReport"/> wrote.</summary>
/// <param name="Page">The HTML page (<c>index.html</c>), which shows the pictures by relative links.</param>
/// <param name="Images">The PNG pictures, beside the page.</param>
public sealed record TrainingReportFiles(string Page, IReadOnlyList<string> Images);

/// <summary>
/// A page people can look at after training a classifier: an HTML file with PNG pictures in one folder. It shows the
/// loss and accuracy per epoch (training and validation) and the learning rate (from a <see cref="TrainingHistory"/>),
/// the confusion matrix as a heat map with per-class precision and recall, the first convolution's filters, the feature
/// maps of one input at chosen layers, the most confidently wrong images and gradient saliency maps (all on
/// <see cref="Data"/>, usually held-out images).
/// </summary>
/// <example>
/// <code>
/// var history = Trainer.Fit(model, optimizer, train, test);
/// new TrainingReport(model, test, history) { Title = "LeNet-5 on Fashion-MNIST" }.Write("report");
/// </code>
/// </example>
public sealed class TrainingReport
{
    /// <summary>The page's file name in the report folder.</summary>
    public const string PageFileName = "index.html";

    /// <summary>A report of <paramref name="model"/> (a classifier returning logits <c>[N, classes]</c>) evaluated on <paramref name="data"/>.</summary>
    /// <param name="model">The trained network; it is left in the training mode it had.</param>
    /// <param name="data">Labelled images to evaluate, usually the validation or test set.</param>
    /// <param name="history">The epochs of the training run, for the curves (null: no curves).</param>
    public TrainingReport(Module model, ImageDataset data, TrainingHistory? history = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0)
        {
            throw new ArgumentException("The report needs at least one labelled image to evaluate.", nameof(data));
        }
        if (data.SampleShape.Rank != 3)
        {
            throw new ArgumentException($"The report needs images [C, H, W]; the data set holds samples of {data.SampleShape}.", nameof(data));
        }
        Model = model;
        Data = data;
        History = history;
    }

    /// <summary>The network.</summary>
    public Module Model { get; }

    /// <summary>The images the network is evaluated on.</summary>
    public ImageDataset Data { get; }

    /// <summary>The training run's epochs (null: the page has no curves).</summary>
    public TrainingHistory? History { get; }

    /// <summary>The page's title (default "Training report").</summary>
    public string Title { get; set; } = "Training report";

    /// <summary>What <see cref="Data"/> is, shown on the page (default "the evaluation images").</summary>
    public string DataDescription { get; set; } = "the evaluation images";

    /// <summary>
    /// The layers whose outputs are shown as feature maps, by their names in <see cref="Module.NamedModules"/> (e.g.
    /// "features.0"); each must give a <c>[N, C, H, W]</c> output. Null (default): the first, a middle and the last
    /// convolution.
    /// </summary>
    public IReadOnlyList<string>? FeatureMapLayers { get; set; }

    /// <summary>The index in <see cref="Data"/> of the image whose feature maps are shown (default 0).</summary>
    public int FeatureMapImage { get; set; }

    /// <summary>Channels shown per feature-map layer (default 32).</summary>
    public int MaxFeatureMaps { get; set; } = 32;

    /// <summary>How many of the most confidently wrong images are shown (default 16).</summary>
    public int WrongImageCount { get; set; } = 16;

    /// <summary>How many images get a saliency map (default 4; the first image of each class in turn).</summary>
    public int SaliencyImageCount { get; set; } = 4;

    /// <summary>Images per evaluation batch (default 256; memory only).</summary>
    public int EvaluationBatchSize { get; set; } = 256;

    /// <summary>
    /// Evaluates the model and writes the pictures and <see cref="PageFileName"/> into <paramref name="folder"/>
    /// (created when missing). Each file is written atomically and the page last, so a page never links to a missing
    /// or half-written picture.
    /// </summary>
    public TrainingReportFiles Write(string folder, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string dir = Path.GetFullPath(folder);
        if (File.Exists(dir))
        {
            throw new IOException($"The report folder '{dir}' is a file; give a folder.");
        }
        var layers = ResolveFeatureMapLayers();
        if ((uint)FeatureMapImage >= (uint)Data.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(FeatureMapImage), $"FeatureMapImage {FeatureMapImage} is outside the {Data.Count} images of the data.");
        }
        Directory.CreateDirectory(dir);
        var names = ClassNames();
        var images = new List<string>();
        var page = new StringBuilder();
        void Save(string file, byte[] png)
        {
            AtomicFile.Write(Path.Combine(dir, file), s => s.Write(png));
            images.Add(Path.Combine(dir, file));
        }

        bool wasTraining = Model.IsTraining;
        try
        {
            var eval = Trainer.Evaluate(Model, Data, EvaluationBatchSize, cancellationToken: cancellationToken);
            Model.Eval();
            PageHead(page, eval);

            // Curves.
            if (History is { Epochs.Count: > 0 } h)
            {
                var epochs = h.Epochs.Select(e => (double)e.Epoch).ToArray();
                var validated = h.Epochs.Where(e => e.ValidationLoss != null).ToArray();
                var loss = new List<ChartSeries> { new("training", epochs, [.. h.Epochs.Select(e => e.TrainLoss)]) };
                var accuracy = new List<ChartSeries> { new("training", epochs, [.. h.Epochs.Select(e => e.TrainAccuracy)]) };
                if (validated.Length > 0)
                {
                    loss.Add(new("validation", [.. validated.Select(e => (double)e.Epoch)], [.. validated.Select(e => e.ValidationLoss!.Value)]));
                    accuracy.Add(new("validation", [.. validated.Select(e => (double)e.Epoch)], [.. validated.Select(e => e.ValidationAccuracy!.Value)]));
                }
                Save("loss.png", ReportCharts.Lines("Loss per epoch", "epoch", "cross-entropy loss", loss, yMin: 0));
                Save("accuracy.png", ReportCharts.Lines("Accuracy per epoch", "epoch", "accuracy", accuracy, legend: ScottPlot.Alignment.LowerRight));
                Save("learning-rate.png", ReportCharts.Lines("Learning rate per epoch", "epoch", "learning rate",
                    [new("learning rate", epochs, [.. h.Epochs.Select(e => e.LearningRate)])], yMin: 0));
                page.AppendLine("<h2>Training</h2>");
                page.AppendLine("<div class=\"row\"><img src=\"loss.png\" alt=\"loss per epoch\"><img src=\"accuracy.png\" alt=\"accuracy per epoch\"><img src=\"learning-rate.png\" alt=\"learning rate per epoch\"></div>");
                EpochTable(page, h);
            }
            else
            {
                page.AppendLine("<h2>Training</h2><p>No training history was given, so there are no curves.</p>");
            }

            // Confusion matrix, precision and recall.
            var counts = eval.ConfusionCounts;
            int k = counts.GetLength(0);
            var (precision, recall) = PrecisionRecall(counts);
            Save("confusion-matrix.png", ReportCharts.Confusion(counts, names));
            Save("precision-recall.png", ReportCharts.PrecisionRecall(names, precision, recall));
            page.AppendLine(CultureInfo.InvariantCulture, $"<h2>Confusion matrix on {Html(DataDescription)}</h2>");
            page.AppendLine("<div class=\"row\"><img src=\"confusion-matrix.png\" alt=\"confusion matrix\"><img src=\"precision-recall.png\" alt=\"precision and recall per class\"></div>");
            ClassTable(page, names, counts, precision, recall);
            cancellationToken.ThrowIfCancellationRequested();

            // What the network learnt and sees.
            if (FirstConvolution() is { } conv)
            {
                Save("filters.png", FilterGrid(conv.Name, conv.Layer));
                page.AppendLine(CultureInfo.InvariantCulture, $"<h2>First-layer filters</h2><p>The {conv.Layer.OutChannels} filters of <code>{Html(conv.Name)}</code> ({Html(conv.Layer.ToString())}), each scaled so that grey is zero.</p>");
                page.AppendLine("<img src=\"filters.png\" alt=\"first-layer filters\">");
            }
            var maps = FeatureMaps(layers);
            if (maps.Count > 0)
            {
                page.AppendLine(CultureInfo.InvariantCulture, $"<h2>Feature maps</h2><p>Image {FeatureMapImage} of {Html(DataDescription)} ({Html(Name(names, Data.Labels[FeatureMapImage]))}) and the outputs of the chosen layers, each channel stretched from its minimum to its maximum.</p>");
                int index = 0;
                foreach (var (layer, png) in maps)
                {
                    string file = string.Create(CultureInfo.InvariantCulture, $"feature-maps-{index++}.png");
                    Save(file, png);
                    page.AppendLine(CultureInfo.InvariantCulture, $"<h3><code>{Html(layer)}</code></h3><img src=\"{file}\" alt=\"feature maps of {Html(layer)}\">");
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (WrongImages(eval, names) is { } wrong)
            {
                Save("wrong.png", wrong.Png);
                page.AppendLine(CultureInfo.InvariantCulture, $"<h2>Most confidently wrong</h2><p>The {wrong.Count} wrong predictions with the highest predicted probability (of {eval.Count - eval.Correct} wrong of {eval.Count}).</p><img src=\"wrong.png\" alt=\"most confidently wrong images\">");
            }
            else
            {
                page.AppendLine("<h2>Most confidently wrong</h2><p>Every image was classified correctly.</p>");
            }
            if (SaliencyImageCount > 0)
            {
                Save("saliency.png", Saliency(eval, names));
                page.AppendLine("<h2>Saliency</h2><p>For each image, the gradient of the predicted class's score with respect to the input pixels (largest absolute value over the channels), shown over the image: bright pixels change the score most.</p><img src=\"saliency.png\" alt=\"saliency maps\">");
            }
        }
        finally
        {
            Model.Train(wasTraining);
        }
        page.AppendLine("</body></html>");
        string pagePath = Path.Combine(dir, PageFileName);
        AtomicFile.Write(pagePath, s => s.Write(Encoding.UTF8.GetBytes(page.ToString())));
        return new TrainingReportFiles(pagePath, images);
    }

    /// <summary>Writes a report of <paramref name="model"/> on <paramref name="data"/> with the default settings.</summary>
    public static TrainingReportFiles Write(string folder, Module model, ImageDataset data, TrainingHistory? history = null, string? title = null)
        => new TrainingReport(model, data, history) { Title = title ?? "Training report" }.Write(folder);

    private void PageHead(StringBuilder page, EvaluationResult eval)
    {
        var inv = CultureInfo.InvariantCulture;
        page.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        page.AppendLine(inv, $"<title>{Html(Title)}</title>");
        page.AppendLine("<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}img{max-width:100%;border:1px solid #ddd;margin:4px}"
            + ".row{display:flex;flex-wrap:wrap;gap:8px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            + "th{background:#f3f3f3}td:first-child{text-align:left}code{background:#f3f3f3;padding:0 3px}</style></head><body>");
        page.AppendLine(inv, $"<h1>{Html(Title)}</h1>");
        page.Append(inv, $"<p>Accuracy <b>{eval.Accuracy:F4}</b> ({eval.Correct} of {eval.Count}) and mean loss {eval.Loss:F4} on {Html(DataDescription)}; ");
        page.Append(inv, $"{Model.ParameterCount():N0} parameters; images {Html(string.Join("x", Data.SampleShape.Dims.ToArray()))} (channels x height x width)");
        if (History is { Epochs.Count: > 0 } h)
        {
            page.Append(inv, $"; {h.Epochs.Count} epochs in {h.Elapsed.TotalSeconds:F1} s{(h.StoppedEarly ? " (stopped early)" : "")}");
        }
        page.AppendLine(inv, $". Written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.</p>");
    }

    private static void EpochTable(StringBuilder page, TrainingHistory h)
    {
        var inv = CultureInfo.InvariantCulture;
        page.AppendLine("<table><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>validation loss</th><th>validation accuracy</th><th>learning rate</th><th>images/s</th><th>time (s)</th></tr>");
        foreach (var e in h.Epochs)
        {
            page.AppendLine(inv, $"<tr><td>{e.Epoch}</td><td>{e.TrainLoss:F4}</td><td>{e.TrainAccuracy:F4}</td><td>{(e.ValidationLoss is double vl ? vl.ToString("F4", inv) : "")}</td><td>{(e.ValidationAccuracy is double va ? va.ToString("F4", inv) : "")}</td><td>{e.LearningRate:G4}</td><td>{e.ImagesPerSecond:F0}</td><td>{e.TrainTime.TotalSeconds:F1}</td></tr>");
        }
        page.AppendLine("</table>");
    }

    private static void ClassTable(StringBuilder page, IReadOnlyList<string> names, int[,] counts, double[] precision, double[] recall)
    {
        var inv = CultureInfo.InvariantCulture;
        page.AppendLine("<table><tr><th>class</th><th>precision</th><th>recall</th><th>images</th></tr>");
        for (int c = 0; c < precision.Length; c++)
        {
            int support = 0;
            for (int p = 0; p < counts.GetLength(1); p++)
            {
                support += counts[c, p];
            }
            page.AppendLine(inv, $"<tr><td>{Html(Name(names, c))}</td><td>{Fraction(precision[c])}</td><td>{Fraction(recall[c])}</td><td>{support}</td></tr>");
        }
        page.AppendLine("</table>");
    }

    private static string Fraction(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Per-class precision (of the predicted column) and recall (of the actual row); NaN where a column or row is empty.</summary>
    internal static (double[] Precision, double[] Recall) PrecisionRecall(int[,] counts)
    {
        int k = counts.GetLength(0);
        var precision = new double[k];
        var recall = new double[k];
        for (int c = 0; c < k; c++)
        {
            double row = 0, column = 0;
            for (int j = 0; j < k; j++)
            {
                row += counts[c, j];
                column += counts[j, c];
            }
            precision[c] = column > 0 ? counts[c, c] / column : double.NaN;
            recall[c] = row > 0 ? counts[c, c] / row : double.NaN;
        }
        return (precision, recall);
    }

    private IReadOnlyList<string> ClassNames() => Data.ClassNames;

    private static string Name(IReadOnlyList<string> names, int c) => c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture);

    private static string Html(string s) => WebUtility.HtmlEncode(s);

    private (string Name, Conv2d Layer)? FirstConvolution()
    {
        foreach (var (name, module) in Model.NamedModules())
        {
            if (module is Conv2d conv)
            {
                return (name, conv);
            }
        }
        return null;
    }

    private List<string> ResolveFeatureMapLayers()
    {
        var modules = Model.NamedModules().ToList();
        if (FeatureMapLayers != null)
        {
            foreach (string layer in FeatureMapLayers)
            {
                if (!modules.Any(m => m.Key == layer))
                {
                    throw new ArgumentException(
                        $"FeatureMapLayers: the model has no layer '{layer}'. Its convolutions: {string.Join(", ", modules.Where(m => m.Value is Conv2d).Select(m => m.Key).Take(20))}.",
                        nameof(FeatureMapLayers));
                }
            }
            return [.. FeatureMapLayers];
        }
        var convs = modules.Where(m => m.Value is Conv2d).Select(m => m.Key).ToList();
        return convs.Count <= 3 ? convs : [convs[0], convs[convs.Count / 2], convs[^1]];
    }

    private byte[] FilterGrid(string name, Conv2d conv)
    {
        var w = conv.Weight.ToArray();
        int o = conv.OutChannels, i = conv.InChannels / conv.Groups, kh = conv.KernelSize.H, kw = conv.KernelSize.W, size = kh * kw;
        var tiles = new List<GridTile>();
        for (int f = 0; f < Math.Min(o, 128); f++)
        {
            var filter = w.AsSpan(f * i * size, i * size);
            float max = 0;
            foreach (float v in filter)
            {
                max = Math.Max(max, Math.Abs(v));
            }
            var rgb = new float[3 * size];
            for (int c = 0; c < 3; c++)
            {
                for (int p = 0; p < size; p++)
                {
                    float v;
                    if (i == 3)
                    {
                        v = filter[c * size + p];
                    }
                    else
                    {
                        v = 0;
                        for (int ch = 0; ch < i; ch++)
                        {
                            v += filter[ch * size + p];
                        }
                        v /= i;
                    }
                    rgb[c * size + p] = max > 0 ? 0.5f + 0.5f * v / max : 0.5f;
                }
            }
            tiles.Add(new GridTile(rgb, kh, kw, f.ToString(CultureInfo.InvariantCulture)));
        }
        string what = i == 3 ? "RGB" : i == 1 ? "one channel" : $"mean of {i} input channels";
        return ImageGrid.Render($"First-layer filters: layer {name}, {o} filters {kh}x{kw} ({what})", tiles, columns: Math.Min(16, tiles.Count), cell: 48);
    }

    private List<(string Layer, byte[] Png)> FeatureMaps(List<string> layers)
    {
        var result = new List<(string, byte[])>();
        if (layers.Count == 0)
        {
            return result;
        }
        var byModule = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in Model.NamedModules())
        {
            if (layers.Contains(name))
            {
                byModule.TryAdd(module, name);
            }
        }
        var captured = new Dictionary<string, (float[] Values, Shape Shape)>();
        var sample = Data.GetImage(FeatureMapImage).ToArray();
        using (new NoGradScope())
        using (new TensorScope())
        using (Module.ObserveForward((m, _, output) =>
        {
            if (byModule.TryGetValue(m, out var name) && !captured.ContainsKey(name))
            {
                captured[name] = (output.ToArray(), output.Shape);
            }
        }))
        {
            Model.Forward(Tensor.FromArray(sample, new Shape([1, .. Data.SampleShape.Dims]), Model.Device));
        }
        var input = new GridTile(ImageGrid.Display(sample, Data.SampleShape[0], Data.SampleShape[1], Data.SampleShape[2]), Data.SampleShape[1], Data.SampleShape[2], "input");
        foreach (string layer in layers)
        {
            if (!captured.TryGetValue(layer, out var map))
            {
                throw new ArgumentException($"FeatureMapLayers: layer '{layer}' did not run on the model's forward pass.", nameof(FeatureMapLayers));
            }
            if (map.Shape.Rank != 4)
            {
                throw new ArgumentException($"FeatureMapLayers: layer '{layer}' gives {map.Shape}; feature maps need an output [N, C, H, W].", nameof(FeatureMapLayers));
            }
            int c = map.Shape[1], h = map.Shape[2], w = map.Shape[3];
            var tiles = new List<GridTile> { input };
            for (int ch = 0; ch < Math.Min(c, MaxFeatureMaps); ch++)
            {
                tiles.Add(new GridTile(ImageGrid.Colormap(map.Values.AsSpan(ch * h * w, h * w)), h, w, ch.ToString(CultureInfo.InvariantCulture)));
            }
            string shown = c > MaxFeatureMaps ? $"first {MaxFeatureMaps} of {c} channels" : $"{c} channels";
            string module = Model.NamedModules().First(m => m.Key == layer).Value.ToString();
            result.Add((layer, ImageGrid.Render($"Feature maps of layer {layer}, {module}: {shown}, {h}x{w}", tiles, columns: Math.Min(11, tiles.Count), cell: 64)));
        }
        return result;
    }

    private (byte[] Png, int Count)? WrongImages(EvaluationResult eval, IReadOnlyList<string> names)
    {
        int k = eval.ClassCount;
        var wrong = new List<(int Index, float Probability)>();
        for (int n = 0; n < eval.Count; n++)
        {
            int predicted = eval.Predictions[n];
            if (predicted != Data.Labels[n])
            {
                wrong.Add((n, Softmax(eval.Scores.AsSpan(n * k, k))[predicted]));
            }
        }
        if (wrong.Count == 0 || WrongImageCount <= 0)
        {
            return null;
        }
        var shown = wrong.OrderByDescending(x => x.Probability).ThenBy(x => x.Index).Take(WrongImageCount).ToList();
        var s = Data.SampleShape;
        var tiles = shown.Select(x => new GridTile(ImageGrid.Display(Data.GetImage(x.Index), s[0], s[1], s[2]), s[1], s[2],
            string.Create(CultureInfo.InvariantCulture, $"#{x.Index} {Name(names, Data.Labels[x.Index])}\n→ {Name(names, eval.Predictions[x.Index])} {x.Probability:P0}"))).ToList();
        return (ImageGrid.Render("Most confidently wrong: actual → predicted (probability)", tiles, columns: Math.Min(8, tiles.Count), cell: 84), shown.Count);
    }

    private byte[] Saliency(EvaluationResult eval, IReadOnlyList<string> names)
    {
        // The first image of each class in turn, then the next ones.
        var chosen = new List<int>();
        var seen = new HashSet<int>();
        for (int n = 0; n < Data.Count && chosen.Count < SaliencyImageCount; n++)
        {
            if (seen.Add(Data.Labels[n]))
            {
                chosen.Add(n);
            }
        }
        for (int n = 0; n < Data.Count && chosen.Count < SaliencyImageCount; n++)
        {
            if (!chosen.Contains(n))
            {
                chosen.Add(n);
            }
        }
        var s = Data.SampleShape;
        int c = s[0], h = s[1], w = s[2];
        var tiles = new List<GridTile>();
        foreach (int n in chosen)
        {
            int predicted = eval.Predictions[n];
            var map = SaliencyMap(n, predicted);
            var display = ImageGrid.Display(Data.GetImage(n), c, h, w);
            tiles.Add(new GridTile(display, h, w, string.Create(CultureInfo.InvariantCulture, $"#{n} {Name(names, Data.Labels[n])}")));
            tiles.Add(new GridTile(ImageGrid.Overlay(display, map), h, w, $"saliency of\n{Name(names, predicted)}"));
        }
        return ImageGrid.Render("Saliency: |d score / d pixel| of the predicted class", tiles, columns: Math.Min(8, tiles.Count), cell: 96);
    }

    /// <summary>
    /// The saliency map <c>[H, W]</c> of image <paramref name="index"/>: the largest absolute value over the channels of
    /// the gradient of class <paramref name="target"/>'s score (logit) with respect to the input pixels. The model's
    /// parameters get no gradient.
    /// </summary>
    internal float[] SaliencyMap(int index, int target)
    {
        var s = Data.SampleShape;
        int c = s[0], plane = s[1] * s[2];
        var trainable = Model.Parameters().Where(p => p.RequiresGrad).ToList();
        foreach (var p in trainable)
        {
            p.RequiresGrad = false;
        }
        float[] gradient;
        try
        {
            using var scope = new TensorScope();
            var x = Tensor.FromArray(Data.GetImage(index), new Shape([1, .. s.Dims]), Model.Device);
            x.RequiresGrad = true;
            var logits = Model.Forward(x);
            GatherColumnsFunction.Forward(logits, [target]).Sum().Backward();
            gradient = x.Grad?.ToArray() ?? new float[c * plane];
        }
        finally
        {
            foreach (var p in trainable)
            {
                p.RequiresGrad = true;
            }
        }
        var map = new float[plane];
        for (int ch = 0; ch < c; ch++)
        {
            for (int i = 0; i < plane; i++)
            {
                map[i] = Math.Max(map[i], Math.Abs(gradient[ch * plane + i]));
            }
        }
        return map;
    }

    private static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }
        var p = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = MathF.Exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)(p[i] / sum);
        }
        return p;
    }
}
