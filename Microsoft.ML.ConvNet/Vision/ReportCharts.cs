using ScottPlot;

namespace Microsoft.ML.ConvNet.Vision;

/// <summary>One line of a chart: its legend text and its points.</summary>
internal sealed record ChartSeries(string Label, double[] X, double[] Y);

/// <summary>The training report's charts, drawn with ScottPlot 5 as PNG bytes.</summary>
internal static class ReportCharts
{
    public const int Width = 640;
    public const int Height = 400;

    private static readonly Color[] Palette = [Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728")];

    /// <summary>A line chart with markers, e.g. the loss per epoch of training and validation.</summary>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, double? yMin = null,
        Alignment legend = Alignment.UpperRight)
    {
        var plot = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var s = plot.Add.Scatter(series[i].X, series[i].Y, Palette[i % Palette.Length]);
            if (series.Count > 1)
            {
                s.LegendText = series[i].Label;
            }
            s.LineWidth = 2;
            s.MarkerSize = series[i].X.Length > 60 ? 0 : 6;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (series.Count > 1)
        {
            plot.ShowLegend(legend);
        }
        double xMax = series.Max(s => s.X.Length == 0 ? 1 : s.X.Max());
        double xMin = series.Min(s => s.X.Length == 0 ? 0 : s.X.Min());
        if (xMax - xMin <= 20 && series.All(s => s.X.All(x => x == Math.Floor(x))))
        {
            // Whole epochs: one tick each.
            var ticks = Enumerable.Range((int)xMin, (int)(xMax - xMin) + 1).Select(x => (double)x).ToArray();
            plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }
        // The y range from the data (ScottPlot's auto-scaling spans a unit around a constant series).
        var ys = series.SelectMany(s => s.Y).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double dataLo = ys.Min(), dataHi = ys.Max();
        double margin = dataHi > dataLo ? 0.08 * (dataHi - dataLo) : Math.Max(Math.Abs(dataHi) * 0.2, 1e-6);
        double lo = yMin ?? dataLo - margin, hi = dataHi + margin;
        if (yMin is double floor && dataHi > floor)
        {
            hi = dataHi + 0.08 * (dataHi - floor);
        }
        plot.Axes.SetLimitsY(lo, hi);
        plot.Axes.SetLimitsX(xMin - 0.3, xMax + 0.3);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>
    /// The confusion matrix as a heat map: rows are the actual classes (top to bottom), columns the predicted ones; the
    /// colour is the fraction of the row, the text the count.
    /// </summary>
    public static byte[] Confusion(int[,] counts, IReadOnlyList<string> names)
    {
        int k = counts.GetLength(0);
        var fractions = new double[k, k];
        for (int r = 0; r < k; r++)
        {
            double total = 0;
            for (int c = 0; c < k; c++)
            {
                total += counts[r, c];
            }
            for (int c = 0; c < k; c++)
            {
                fractions[r, c] = total > 0 ? counts[r, c] / total : 0;
            }
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(fractions);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        // Cell (r, c) is centred on x = c, y = k - 1 - r (row 0 at the top); Position spans the cells' centres.
        heatmap.Position = new CoordinateRect(0, k - 1, 0, k - 1);
        plot.Add.ColorBar(heatmap);
        float fontSize = k <= 10 ? 12 : k <= 20 ? 9 : 7;
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
            {
                if (k > 30 && counts[r, c] == 0)
                {
                    continue;
                }
                var label = plot.Add.Text(counts[r, c].ToString(System.Globalization.CultureInfo.InvariantCulture), c, k - 1 - r);
                label.LabelFontSize = fontSize;
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontColor = fractions[r, c] > 0.6 ? Colors.Black : Colors.White;
            }
        }
        var positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        var labels = names.Take(k).Concat(Enumerable.Range(names.Count, Math.Max(0, k - names.Count)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        plot.Axes.Bottom.SetTicks(positions, labels);
        if (k > 12 || labels.Any(l => l.Length > 11))
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        }
        plot.Axes.Left.SetTicks([.. positions.Select(p => k - 1 - p)], labels);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Title("Confusion matrix (colour: fraction of the actual class)");
        plot.XLabel("predicted class");
        plot.YLabel("actual class");
        int size = Math.Clamp(60 * k + 260, 560, 1400);
        return plot.GetImageBytes(size + 120, size, ImageFormat.Png);
    }

    /// <summary>Per-class precision and recall as grouped bars.</summary>
    public static byte[] PrecisionRecall(IReadOnlyList<string> names, double[] precision, double[] recall)
    {
        int k = precision.Length;
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int c = 0; c < k; c++)
        {
            bars.Add(new Bar { Position = c * 3, Value = double.IsFinite(precision[c]) ? precision[c] : 0, FillColor = Palette[0], Size = 1 });
            bars.Add(new Bar { Position = c * 3 + 1, Value = double.IsFinite(recall[c]) ? recall[c] : 0, FillColor = Palette[1], Size = 1 });
        }
        plot.Add.Bars(bars);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "precision", FillColor = Palette[0] });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "recall", FillColor = Palette[1] });
        plot.ShowLegend(Edge.Right);
        var labels = Enumerable.Range(0, k).Select(c => c < names.Count ? names[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, k).Select(c => c * 3 + 0.5)], labels);
        if (k > 12 || labels.Any(l => l.Length > 11))
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        }
        plot.Axes.SetLimits(-1, 3 * k - 0.5, 0, 1.05);
        plot.Title("Precision and recall per class");
        plot.YLabel("fraction");
        return plot.GetImageBytes(Math.Clamp(90 * k + 120, Width, 1800), Height, ImageFormat.Png);
    }
}
