using System.Globalization;

namespace Mlops.Stream.Reports.Internal;

/// <summary>
/// The report's two charts for one feature, drawn on any <see cref="IChartCanvas"/> inside a
/// box at (x, y): the reference and latest-window histograms overlaid over the reference's bins,
/// and the compared value over the recent windows with its threshold.
/// </summary>
internal static class Charts
{
    public const double Width = 440;
    public const double Height = 220;

    private const double Left = 46;
    private const double Right = 12;
    private const double Top = 30;
    private const double Bottom = 34;

    /// <summary>
    /// Bars per reference bin, all bins drawn equally wide (the edges are quantiles, so equal
    /// widths give equal reference mass, and the edges are labelled below): the reference's share
    /// as a wide blue bar, the window's as a narrower orange bar over it, so both stay visible.
    /// </summary>
    public static void Histogram(IChartCanvas canvas, FeatureView view, double x, double y)
    {
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var x0 = x + Left;
        var y0 = y + Top + plotH;
        var windowCount = view.Latest?.CurrentCounts.Total ?? 0;
        Legend(canvas, x + Left, y + 14, [
            (Palette.Reference, view.Reference is null ? "reference: none" : $"reference (n={Count(view.Reference.Count)})"),
            (Palette.Current, view.CurrentShares is null ? "window: none" : $"latest window (n={Count(windowCount)})"),
        ]);

        var bins = view.ReferenceShares.Count;
        if (bins == 0)
        {
            canvas.Text(x0 + (plotW / 2), y + Top + (plotH / 2), "no reference histogram", 12, TextAnchor.Middle, Palette.Muted);
            return;
        }

        // Shares: never above 100 %, which a bar holding the whole window reaches exactly.
        var top = Math.Min(1, NiceCeiling(Math.Max(view.ReferenceShares.Max(), view.CurrentShares?.Max() ?? 0) * 1.04));
        YAxis(canvas, x0, y0, plotW, plotH, top, Percent);
        var slot = plotW / bins;
        for (var b = 0; b < bins; b++)
        {
            var h = view.ReferenceShares[b] / top * plotH;
            canvas.Rect(x0 + (b * slot) + (slot * 0.08), y0 - h, slot * 0.84, h, Palette.Reference, 0.55, "reference");
        }

        if (view.CurrentShares is { } current)
        {
            for (var b = 0; b < bins; b++)
            {
                var h = current[b] / top * plotH;
                canvas.Rect(x0 + (b * slot) + (slot * 0.25), y0 - h, slot * 0.5, h, Palette.Current, 0.85, "current");
            }
        }
        else
        {
            canvas.Text(x0 + (plotW / 2), y + Top + 14, view.NoCurrentReason ?? "", 11, TextAnchor.Middle, Palette.Muted);
        }

        // Edge labels: every edge when they fit, else every other one (first and last always).
        var edges = view.Reference!.Edges;
        var step = bins <= 10 ? 1 : (int)Math.Ceiling(bins / 10.0);
        for (var e = 0; e < edges.Length; e++)
        {
            if (e % step == 0 || e == edges.Length - 1)
            {
                canvas.Line(x0 + (e * slot), y0, x0 + (e * slot), y0 + 4, Palette.Axis, 1);
                canvas.Text(x0 + (e * slot), y0 + 16, Short(edges[e]), 10, TextAnchor.Middle, Palette.Muted);
            }
        }

        canvas.Text(x0 + (plotW / 2), y0 + 30, "reference bin edges (values outside fall in the end bins)", 10, TextAnchor.Middle, Palette.Muted);
    }

    /// <summary>
    /// The compared value per recent window, oldest left, as a line with a dot per window (red when
    /// it drifted) and the threshold as a dashed red line. Windows that did not evaluate the
    /// feature leave a gap.
    /// </summary>
    public static void History(IChartCanvas canvas, FeatureView view, double x, double y)
    {
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var x0 = x + Left;
        var y0 = y + Top + plotH;
        var threshold = view.Latest?.Threshold;
        var caption = view.DriftBelow ? $"{view.ValueName} per window (drift below the line)" : $"{view.ValueName} per window (drift above the line)";
        canvas.Text(x + Left, y + 14, caption, 12);

        var values = view.History.Where(p => p.Value is not null).Select(p => p.Value!.Value).ToList();
        var top = NiceCeiling(Math.Max(values.Count == 0 ? 0 : values.Max(), (threshold ?? 0) * 1.5) * 1.04);
        YAxis(canvas, x0, y0, plotW, plotH, top, Short);
        if (view.History.Count == 0)
        {
            return;
        }

        double X(int i) => view.History.Count == 1 ? x0 + (plotW / 2) : x0 + (i * plotW / (view.History.Count - 1));
        double Y(double v) => y0 - (Math.Min(v, top) / top * plotH);

        if (threshold is { } t && double.IsFinite(t))
        {
            canvas.Line(x0, Y(t), x0 + plotW, Y(t), Palette.Drift, 1.5, dashed: true, series: "threshold");
            canvas.Text(x0 + plotW, Y(t) - 4, $"threshold {Short(t)}", 10, TextAnchor.End, Palette.Drift);
        }

        // One polyline per run of evaluated windows, so a gap shows where a window had no value.
        var run = new List<(double, double)>();
        for (var i = 0; i <= view.History.Count; i++)
        {
            if (i < view.History.Count && view.History[i].Value is { } v)
            {
                run.Add((X(i), Y(v)));
                continue;
            }

            if (run.Count > 1)
            {
                canvas.Polyline([.. run], Palette.Reference, 2, "score");
            }

            run.Clear();
        }

        for (var i = 0; i < view.History.Count; i++)
        {
            if (view.History[i].Value is { } v)
            {
                canvas.Circle(X(i), Y(v), 3.5, view.History[i].Drifted ? Palette.Drift : Palette.Reference, view.History[i].Drifted ? "drifted" : "stable");
            }
        }

        canvas.Text(x0, y0 + 16, Time(view.History[0].End), 10, TextAnchor.Start, Palette.Muted);
        if (view.History.Count > 1)
        {
            canvas.Text(x0 + plotW, y0 + 16, Time(view.History[^1].End), 10, TextAnchor.End, Palette.Muted);
        }

        canvas.Text(x0 + (plotW / 2), y0 + 30, $"{view.History.Count} most recent windows, by end time (UTC)", 10, TextAnchor.Middle, Palette.Muted);
    }

    /// <summary>A number in at most about six characters: 0.1, 8.28, 2150, 1.2e+05.</summary>
    public static string Short(double value) => value switch
    {
        double.NaN => "NaN",
        0 => "0",
        _ when Math.Abs(value) >= 1e5 || Math.Abs(value) < 1e-3 => value.ToString("0.#e+0", CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.ToString("G3", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The smallest of 1, 2, 4, 6, 8 or 10 times a power of ten at or above <paramref name="value"/>,
    /// so an axis divided in quarters has round ticks (2, 4, 6, 8; 0.25, 0.5, 0.75, 1). 1 for
    /// nothing positive.
    /// </summary>
    public static double NiceCeiling(double value)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in (ReadOnlySpan<double>)[1, 2, 4, 6, 8, 10])
        {
            if (step * power >= value * (1 - 1e-12))
            {
                return step * power;
            }
        }

        return 10 * power;
    }

    private static string Percent(double share) => share.ToString("0.#%", CultureInfo.InvariantCulture);

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static void YAxis(IChartCanvas canvas, double x0, double y0, double plotW, double plotH, double top, Func<double, string> label)
    {
        for (var tick = 0; tick <= 4; tick++)
        {
            var ty = y0 - (tick * plotH / 4);
            canvas.Line(x0, ty, x0 + plotW, ty, tick == 0 ? Palette.Axis : Palette.Grid, 1);
            canvas.Text(x0 - 5, ty + 3.5, label(top * tick / 4), 10, TextAnchor.End, Palette.Muted);
        }
    }

    private static void Legend(IChartCanvas canvas, double x, double y, (string Color, string Label)[] entries)
    {
        foreach (var (color, label) in entries)
        {
            canvas.Rect(x, y - 9, 10, 10, color, 0.8, "legend");
            canvas.Text(x + 14, y, label, 11);
            x += 26 + (label.Length * 6.2);
        }
    }
}
