using System.Globalization;
using System.Net;
using System.Text;

namespace Mlops.Stream.Reports.Internal;

/// <summary>Draws a chart as one inline <c>&lt;svg&gt;</c> element; every text is HTML-escaped.</summary>
internal sealed class SvgCanvas : IChartCanvas
{
    private readonly StringBuilder svg = new();

    public SvgCanvas(double width, double height, string label)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" role=\"img\" aria-label=\"{Html.Escape(label)}\">");
    }

    public void Rect(double x, double y, double width, double height, string color, double opacity, string series) =>
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"{series}\" x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(Math.Max(0, height))}\" fill=\"{color}\" fill-opacity=\"{N(opacity)}\"/>");

    public void Line(double x1, double y1, double x2, double y2, string color, double width, bool dashed = false, string series = "axis") =>
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"{series}\" x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\" stroke=\"{color}\" stroke-width=\"{N(width)}\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>");

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width, string series) =>
        svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"{series}\" points=\"{string.Join(' ', points.Select(p => $"{N(p.X)},{N(p.Y)}"))}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{N(width)}\" stroke-linejoin=\"round\"/>");

    public void Circle(double x, double y, double radius, string color, string series) =>
        svg.Append(CultureInfo.InvariantCulture, $"<circle class=\"{series}\" cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"{N(radius)}\" fill=\"{color}\"/>");

    public void Text(double x, double y, string text, double size, TextAnchor anchor = TextAnchor.Start, string color = Palette.Text, bool bold = false) =>
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(x)}\" y=\"{N(y)}\" font-size=\"{N(size)}\" fill=\"{color}\" text-anchor=\"{Anchor(anchor)}\"{(bold ? " font-weight=\"bold\"" : "")}>{Html.Escape(text)}</text>");

    /// <summary>The finished element.</summary>
    public override string ToString() => svg + "</svg>";

    private static string N(double value) => double.IsFinite(value) ? Math.Round(value, 2).ToString(CultureInfo.InvariantCulture) : "0";

    private static string Anchor(TextAnchor anchor) => anchor switch
    {
        TextAnchor.Middle => "middle",
        TextAnchor.End => "end",
        _ => "start",
    };
}

/// <summary>HTML escaping: every text that reaches the page goes through here (feature and model names are user data).</summary>
internal static class Html
{
    public static string Escape(string? text) => WebUtility.HtmlEncode(text ?? "");
}
