namespace Mlops.Stream.Reports.Internal;

/// <summary>
/// The few drawing operations the charts need, so the same chart code draws the HTML page's SVG
/// and the PNG (<see cref="SvgCanvas"/>, <see cref="SkiaCanvas"/>). Coordinates are pixels from
/// the top left; colours are <c>#rrggbb</c>. <paramref name="series"/> names what a mark shows
/// (an SVG class), so a reader of the page (or a test) can tell the series apart.
/// </summary>
internal interface IChartCanvas
{
    void Rect(double x, double y, double width, double height, string color, double opacity, string series);

    void Line(double x1, double y1, double x2, double y2, string color, double width, bool dashed = false, string series = "axis");

    void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width, string series);

    void Circle(double x, double y, double radius, string color, string series);

    void Text(double x, double y, string text, double size, TextAnchor anchor = TextAnchor.Start, string color = Palette.Text, bool bold = false);
}

internal enum TextAnchor
{
    Start,
    Middle,
    End,
}

/// <summary>The report's colours, one place: reference blue, window orange, drift red.</summary>
internal static class Palette
{
    public const string Reference = "#4e79a7";
    public const string Current = "#f28e2b";
    public const string Drift = "#c0392b";
    public const string Stable = "#2e7d32";
    public const string Text = "#222222";
    public const string Muted = "#666666";
    public const string Axis = "#999999";
    public const string Grid = "#e6e6e6";
}
