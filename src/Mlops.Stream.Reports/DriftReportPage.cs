using System.Globalization;
using System.Text;
using Mlops.Stream.Drift;
using Mlops.Stream.Reports.Internal;

namespace Mlops.Stream.Reports;

/// <summary>
/// The drift report as one self-contained HTML page: inline CSS and SVG only, no script, nothing
/// fetched (a Content-Security-Policy in the page says so to the browser), so it opens offline
/// and can be mailed as a file. It shows the latest window's verdict, a summary table (feature,
/// method, latest score, threshold, drifted?), and per feature the reference and latest-window
/// histograms overlaid and the compared value over the recent windows. Every text from the data
/// (model and feature names above all) is HTML-escaped.
/// </summary>
public static class DriftReportPage
{
    /// <summary>The page's media type.</summary>
    public const string MediaType = "text/html; charset=utf-8";

    /// <summary>
    /// Renders the page. Without windows it is a short page saying none has closed yet (the node
    /// answers 404 instead; the renderer still never fails on it).
    /// </summary>
    public static string Render(DriftReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var title = $"Drift report: {input.Model}, version {input.Version}";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(Html.Escape(title)).Append("</title>\n<style>").Append(Css).Append("</style>\n</head>\n<body>\n")
            .Append("<h1>").Append(Html.Escape(title)).Append("</h1>\n");

        if (input.Latest is not { } latest)
        {
            html.Append("<p class=\"verdict\">No drift window has closed yet for this version: a window closes after ")
                .Append("Drift:WindowEvents served events or Drift:WindowSpan of served traffic.</p>\n");
            return Close(html, input);
        }

        var dataset = latest.Dataset;
        var drifted = dataset.Verdict == DriftVerdict.Drifted;
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"verdict {(drifted ? "drifted" : "stable")}\">")
            .Append(drifted ? "DRIFT DETECTED" : "No drift")
            .Append(CultureInfo.InvariantCulture, $" in the latest window: {dataset.DriftedCount} of {dataset.EvaluatedCount} evaluated features drifted (dataset drift at a share of {Charts.Short(dataset.Threshold)}).</p>\n")
            .Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">Latest window: {Time(latest.Start)} to {Time(latest.End)}, {latest.Events:N0} served events ({latest.Rows:N0} rows), closed by {Enum(latest.ClosedBy.ToString())}. ")
            .Append(CultureInfo.InvariantCulture, $"{input.Windows.Count} recent window{(input.Windows.Count == 1 ? "" : "s")} shown, the first ending {Time(input.Windows[0].End)}.</p>\n");

        var features = input.Features();
        Summary(html, features);
        for (var i = 0; i < features.Count; i++)
        {
            Feature(html, features[i], i);
        }

        return Close(html, input);
    }

    private static void Summary(StringBuilder html, IReadOnlyList<FeatureView> features)
    {
        html.Append("<table class=\"summary\">\n<thead><tr><th>Feature</th><th>Method</th><th>Reference</th><th class=\"num\">Latest score</th>")
            .Append("<th class=\"num\">p-value</th><th class=\"num\">Threshold</th><th>Drifted?</th><th class=\"num\">Out of range</th><th class=\"num\">Non-finite</th></tr></thead>\n<tbody>\n");
        for (var i = 0; i < features.Count; i++)
        {
            var f = features[i];
            var d = f.Latest;
            html.Append(CultureInfo.InvariantCulture, $"<tr class=\"{Verdict(d)}\"><td><a href=\"#feature-{i}\">{Html.Escape(f.Feature)}</a></td>")
                .Append("<td>").Append(d is null ? "-" : Enum(d.Method.ToString())).Append("</td>")
                .Append("<td>").Append(d is null ? "-" : Enum(d.Reference.ToString())).Append("</td>")
                .Append("<td class=\"num\">").Append(d is null ? "-" : Charts.Short(d.Score)).Append("</td>")
                .Append("<td class=\"num\">").Append(d?.PValue is { } p ? Charts.Short(p) : "-").Append("</td>")
                .Append("<td class=\"num\">").Append(d is null ? "-" : Charts.Short(d.Threshold)).Append("</td>")
                .Append("<td>").Append(VerdictText(d)).Append("</td>")
                .Append("<td class=\"num\">").Append(d is null ? "-" : Share(d.Quality.OutOfRangeShare)).Append("</td>")
                .Append("<td class=\"num\">").Append(d is null ? "-" : Share(d.Quality.NonFiniteShare)).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static void Feature(StringBuilder html, FeatureView view, int index)
    {
        var d = view.Latest;
        html.Append(CultureInfo.InvariantCulture, $"<section class=\"feature {Verdict(d)}\" id=\"feature-{index}\">\n<h2>{Html.Escape(view.Feature)} <span class=\"badge\">{VerdictText(d)}</span></h2>\n");
        if (d is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">{Enum(d.Method.ToString())} against the {Enum(d.Reference.ToString())}: {Charts.Short(d.Score)}")
                .Append(d.PValue is { } p ? $" (p = {Charts.Short(p)})" : "")
                .Append(CultureInfo.InvariantCulture, $", threshold {Charts.Short(d.Threshold)}; {Share(d.Quality.OutOfRangeShare)} of the window's values outside the reference range, {Share(d.Quality.NonFiniteShare)} not finite.</p>\n");
        }

        var histogram = new SvgCanvas(Charts.Width, Charts.Height, $"{view.Feature}: reference and latest window histograms");
        Charts.Histogram(histogram, view, 0, 0);
        var history = new SvgCanvas(Charts.Width, Charts.Height, $"{view.Feature}: {view.ValueName} over recent windows");
        Charts.History(history, view, 0, 0);
        html.Append("<div class=\"charts\">").Append(histogram).Append(history).Append("</div>\n</section>\n");
    }

    private static string Close(StringBuilder html, DriftReportInput input) =>
        html.Append(CultureInfo.InvariantCulture, $"<footer>Generated {Time(input.GeneratedAt)} by Mlops.Stream from the drift topic's windows and version {input.Version}'s reference profile.</footer>\n</body>\n</html>\n")
            .ToString();

    private static string Verdict(FeatureDrift? drift) => drift?.Verdict switch
    {
        DriftVerdict.Drifted => "drifted",
        DriftVerdict.Stable => "stable",
        _ => "not-evaluated",
    };

    private static string VerdictText(FeatureDrift? drift) => drift?.Verdict switch
    {
        DriftVerdict.Drifted => "drifted",
        DriftVerdict.Stable => "stable",
        DriftVerdict.NotEvaluated => "not evaluated",
        _ => "no verdict",
    };

    /// <summary>PopulationStabilityIndex → "population stability index".</summary>
    private static string Enum(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static string Share(double share) => double.IsFinite(share) ? share.ToString("0.#%", CultureInfo.InvariantCulture) : "-";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private const string Css = """

        body { font-family: "DejaVu Sans", system-ui, sans-serif; color: #222; margin: 24px; max-width: 1160px; }
        h1 { font-size: 22px; margin: 0 0 8px; }
        h2 { font-size: 17px; margin: 0 0 4px; }
        .verdict { font-size: 16px; font-weight: bold; padding: 8px 12px; border-radius: 4px; background: #f3f3f3; }
        .verdict.drifted { background: #fdecea; color: #c0392b; }
        .verdict.stable { background: #e8f5e9; color: #2e7d32; }
        .meta { color: #555; font-size: 13px; margin: 4px 0 10px; }
        table.summary { border-collapse: collapse; font-size: 13px; margin: 12px 0 20px; width: 100%; }
        table.summary th, table.summary td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; }
        table.summary th { background: #fafafa; }
        table.summary .num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.drifted td { background: #fff4f2; }
        tr.drifted td:nth-child(7), section.drifted .badge { color: #c0392b; font-weight: bold; }
        tr.not-evaluated td { color: #888; }
        section.feature { border: 1px solid #e3e3e3; border-radius: 6px; padding: 12px 14px; margin: 0 0 14px; }
        section.feature.drifted { border-left: 4px solid #c0392b; }
        .badge { font-size: 12px; font-weight: normal; color: #2e7d32; border: 1px solid currentColor; border-radius: 10px; padding: 1px 8px; }
        section.not-evaluated .badge { color: #888; }
        .charts { display: flex; flex-wrap: wrap; gap: 16px; }
        .charts svg { flex: 1 1 440px; max-width: 560px; height: auto; }
        footer { color: #888; font-size: 12px; margin-top: 20px; }

        """;
}
