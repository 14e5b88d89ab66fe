using System.Globalization;
using Mlops.Stream.Drift;
using Mlops.Stream.Reports.Internal;
using SkiaSharp;

namespace Mlops.Stream.Reports;

/// <summary>
/// One feature of the drift report as a PNG (for chat, tickets, a wiki): a title with the latest
/// verdict, the histograms overlaid and the compared value over the recent windows, side by side,
/// drawn by SkiaSharp with the same chart code as the HTML page.
/// </summary>
public static class DriftFeaturePng
{
    public const string MediaType = "image/png";

    /// <summary>The image's size in pixels.</summary>
    public const int Width = 920;
    public const int Height = 290;

    /// <summary>The PNG of <paramref name="feature"/>; null when the report does not know the feature.</summary>
    public static byte[]? Render(DriftReportInput input, string feature)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.FindFeature(feature) is not { } view)
        {
            return null;
        }

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            var chart = new SkiaCanvas(canvas);
            chart.Text(16, 26, $"{input.Model} v{input.Version} · {feature}", 16, bold: true);
            chart.Text(16, 46, Subtitle(view), 12, color: view.Latest?.Drifted == true ? Palette.Drift : Palette.Muted);
            Charts.Histogram(chart, view, 10, 60);
            Charts.History(chart, view, 10 + Charts.Width + 20, 60);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string Subtitle(FeatureView view) => view.Latest is not { } d
        ? "not judged in the latest window"
        : string.Create(CultureInfo.InvariantCulture,
            $"{view.ValueName} {Charts.Short(d.Method == DriftMethod.KolmogorovSmirnov && d.PValue is { } p ? p : d.Score)}, threshold {Charts.Short(d.Threshold)}: " +
            $"{(d.Verdict == DriftVerdict.NotEvaluated ? "not evaluated" : d.Drifted ? "DRIFTED" : "stable")} in the latest window ({d.Quality.Count:N0} values)");
}
