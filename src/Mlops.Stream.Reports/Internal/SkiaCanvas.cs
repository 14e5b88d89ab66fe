using SkiaSharp;

namespace Mlops.Stream.Reports.Internal;

/// <summary>
/// Draws a chart on a SkiaSharp canvas. Text uses DejaVu Sans when fontconfig finds it (Debian's
/// fonts-dejavu-core, which .ci/run and the Dockerfile install), else the default typeface.
/// </summary>
internal sealed class SkiaCanvas(SKCanvas canvas) : IChartCanvas
{
    // Looked up once per process and kept: typefaces are immutable and shared across threads.
    private static readonly Lazy<SKTypeface> Regular = new(() => SKFontManager.Default.MatchFamily("DejaVu Sans") ?? SKTypeface.Default);
    private static readonly Lazy<SKTypeface> Bold = new(() => SKFontManager.Default.MatchFamily("DejaVu Sans", SKFontStyle.Bold) ?? Regular.Value);

    public void Rect(double x, double y, double width, double height, string color, double opacity, string series)
    {
        using var paint = Fill(color, opacity);
        canvas.DrawRect((float)x, (float)y, (float)width, (float)Math.Max(0, height), paint);
    }

    public void Line(double x1, double y1, double x2, double y2, string color, double width, bool dashed = false, string series = "axis")
    {
        using var paint = Stroke(color, width);
        using var dash = dashed ? SKPathEffect.CreateDash([6, 4], 0) : null;
        paint.PathEffect = dash;
        canvas.DrawLine((float)x1, (float)y1, (float)x2, (float)y2, paint);
    }

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width, string series)
    {
        using var paint = Stroke(color, width);
        paint.StrokeCap = SKStrokeCap.Round;
        canvas.DrawPoints(SKPointMode.Polygon, [.. points.Select(p => new SKPoint((float)p.X, (float)p.Y))], paint);
    }

    public void Circle(double x, double y, double radius, string color, string series)
    {
        using var paint = Fill(color, 1);
        canvas.DrawCircle((float)x, (float)y, (float)radius, paint);
    }

    public void Text(double x, double y, string text, double size, TextAnchor anchor = TextAnchor.Start, string color = Palette.Text, bool bold = false)
    {
        using var font = new SKFont(bold ? Bold.Value : Regular.Value, (float)size);
        using var paint = Fill(color, 1);
        var align = anchor switch
        {
            TextAnchor.Middle => SKTextAlign.Center,
            TextAnchor.End => SKTextAlign.Right,
            _ => SKTextAlign.Left,
        };
        canvas.DrawText(text, (float)x, (float)y, align, font, paint);
    }

    private static SKPaint Fill(string color, double opacity) =>
        new() { Color = SKColor.Parse(color).WithAlpha((byte)Math.Round(opacity * 255)), IsAntialias = true, Style = SKPaintStyle.Fill };

    private static SKPaint Stroke(string color, double width) =>
        new() { Color = SKColor.Parse(color), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = (float)width };
}
