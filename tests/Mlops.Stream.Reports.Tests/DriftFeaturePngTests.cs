using SkiaSharp;
using static Mlops.Stream.Reports.Tests.Reports;

namespace Mlops.Stream.Reports.Tests;

/// <summary>The one-feature PNG: a real PNG of the stated size with both series drawn, and null for a feature the report does not know.</summary>
public sealed class DriftFeaturePngTests
{
    private static readonly DriftReportInput Shifted = Input(
        Window(1, [Amount, Flag], f => f == "amount" ? Spread(200) : [.. Enumerable.Repeat(1.0, 200)]),
        Window(2, [Amount, Flag], f => f == "amount" ? Spread(200, shift: 600) : [.. Enumerable.Repeat(1.0, 200)]));

    [Fact]
    public void A_feature_renders_as_a_png_that_decodes_to_the_stated_size_with_both_histograms_drawn()
    {
        var png = DriftFeaturePng.Render(Shifted, "amount");

        Assert.NotNull(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((DriftFeaturePng.Width, DriftFeaturePng.Height), (bitmap.Width, bitmap.Height));
        Assert.True(CountNear(bitmap, SKColor.Parse("#f28e2b")) > 500, "the window's orange bars are drawn");
        Assert.True(CountNear(bitmap, SKColor.Parse("#4e79a7"), blendedOnWhite: 0.55) > 500, "the reference's blue bars are drawn");
    }

    [Fact]
    public void Text_is_drawn_so_a_font_was_found()
    {
        var png = DriftFeaturePng.Render(Shifted, "amount")!;
        using var bitmap = SKBitmap.Decode(png);

        // The title's band (above the charts) holds dark text pixels only if a typeface drew glyphs.
        var dark = 0;
        for (var y = 5; y < 50; y++)
            for (var x = 10; x < 400; x++)
                if (bitmap.GetPixel(x, y).Red < 100) dark++;
        Assert.True(dark > 100, $"{dark} dark pixels in the title band");
    }

    [Fact]
    public void An_unknown_feature_has_no_png()
    {
        Assert.Null(DriftFeaturePng.Render(Shifted, "nope"));
    }

    [Fact]
    public void A_feature_of_a_report_without_windows_still_draws_its_reference()
    {
        var png = DriftFeaturePng.Render(Input(), "flag");

        Assert.NotNull(png);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(DriftFeaturePng.Width, bitmap.Width);
    }

    /// <summary>Pixels within a small distance of <paramref name="color"/> drawn at <paramref name="blendedOnWhite"/> opacity over white.</summary>
    private static int CountNear(SKBitmap bitmap, SKColor color, double blendedOnWhite = 0.85)
    {
        static byte Blend(byte c, double a) => (byte)Math.Round((c * a) + (255 * (1 - a)));
        var (r, g, b) = (Blend(color.Red, blendedOnWhite), Blend(color.Green, blendedOnWhite), Blend(color.Blue, blendedOnWhite));
        var count = 0;
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - r) + Math.Abs(p.Green - g) + Math.Abs(p.Blue - b) < 12) count++;
            }

        return count;
    }
}
