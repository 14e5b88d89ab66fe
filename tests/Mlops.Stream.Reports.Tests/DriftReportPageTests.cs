using System.Text.RegularExpressions;
using Mlops.Stream.Inference.Registry;
using static Mlops.Stream.Reports.Tests.Reports;

namespace Mlops.Stream.Reports.Tests;

/// <summary>The HTML report: self-contained, escaped, both histograms per feature, the score history, and the odd windows.</summary>
public sealed partial class DriftReportPageTests
{
    private static readonly DriftReportInput Shifted = Input(
        Window(1, [Amount, Flag], f => f == "amount" ? Spread(200) : Ones(200)),
        Window(2, [Amount, Flag], f => f == "amount" ? Spread(200) : Ones(200)),
        Window(3, [Amount, Flag], f => f == "amount" ? Spread(200, shift: 600) : Ones(200)));

    [Fact]
    public void The_page_is_self_contained_no_script_nothing_fetched()
    {
        var html = DriftReportPage.Render(Shifted);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        // The only address on the page is the SVG namespace, which is a name, not a fetch.
        Assert.All(Addresses().Matches(html), m => Assert.Equal("http://www.w3.org/2000/svg", m.Value));
        Assert.Contains("default-src 'none'", html);
    }

    [Fact]
    public void The_summary_says_the_latest_windows_verdict_and_lists_every_feature_with_method_score_threshold_and_drift()
    {
        var html = DriftReportPage.Render(Shifted);

        Assert.Contains("DRIFT DETECTED in the latest window: 1 of 2 evaluated features drifted", html);
        var amount = Row(html, "amount");
        Assert.Matches(@"<td>population stability index</td><td>profile</td><td class=""num"">[0-9.]+</td><td class=""num"">-</td><td class=""num"">0.1</td><td>drifted</td>", amount);
        Assert.Contains("<tr class=\"drifted\">", amount);
        Assert.Contains("<td>stable</td>", Row(html, "flag"));
    }

    [Fact]
    public void Each_feature_overlays_the_reference_and_window_histograms_bar_for_bar()
    {
        var html = DriftReportPage.Render(Shifted);
        var amount = Section(html, 0);

        Assert.Equal(Amount.Counts.Length, Regex.Count(amount, "<rect class=\"reference\""));
        Assert.Equal(Amount.Counts.Length, Regex.Count(amount, "<rect class=\"current\""));
        // Shifted by 600 of a 0..999 reference: the window's bars stand in the top bins only, so its first bar is empty.
        var firstCurrent = Regex.Match(amount, "<rect class=\"current\"[^>]* height=\"([0-9.]+)\"").Groups[1].Value;
        Assert.Equal("0", firstCurrent);
    }

    [Fact]
    public void A_window_all_in_one_bin_tops_the_share_axis_at_100_percent()
    {
        var input = Input(Window(1, [Amount, Flag], f => f == "amount" ? [.. Enumerable.Repeat(5000.0, 50)] : Ones(50)));

        var amount = Section(DriftReportPage.Render(input), 0);

        Assert.Contains(">100%</text>", amount);
        Assert.DoesNotContain(">200%</text>", amount);
    }

    [Fact]
    public void The_score_history_has_a_point_per_window_the_drifted_one_marked_and_the_threshold_line()
    {
        var amount = Section(DriftReportPage.Render(Shifted), 0);

        Assert.Equal(2, Regex.Count(amount, "<circle class=\"stable\""));
        Assert.Equal(1, Regex.Count(amount, "<circle class=\"drifted\""));
        Assert.Single(Regex.Matches(amount, "<line class=\"threshold\""));
        Assert.Contains(">threshold 0.1</text>", amount);
    }

    [Fact]
    public void Feature_and_model_names_are_escaped_everywhere()
    {
        const string evil = "<script>alert(\"x\")</script>&amp";
        var profile = FeatureProfile.FromValues(evil, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        var input = new DriftReportInput("<b>m</b>", 1, [profile], [Window(1, [profile], _ => [1, 2, 3, 4], model: "<b>m</b>")], T0);

        var html = DriftReportPage.Render(input);

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<b>m</b>", html);
        Assert.Contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp", html);
        Assert.Contains("&lt;b&gt;m&lt;/b&gt;", html);
    }

    [Fact]
    public void A_window_without_a_finite_value_says_so_and_draws_only_the_reference()
    {
        var input = Input(Window(1, [Amount, Flag], f => f == "amount" ? [double.NaN, double.NaN] : Ones(2)));

        var html = DriftReportPage.Render(input);
        var amount = Section(html, 0);

        Assert.Contains("<td>not evaluated</td>", Row(html, "amount"));
        Assert.Contains("the latest window had no finite value of this feature", amount);
        Assert.Equal(Amount.Counts.Length, Regex.Count(amount, "<rect class=\"reference\""));
        Assert.Equal(0, Regex.Count(amount, "<rect class=\"current\""));
        Assert.Equal(0, Regex.Count(amount, "<circle "));
        Assert.Contains("100% not finite", amount);
    }

    [Fact]
    public void A_constant_feature_draws_one_bin_with_finite_coordinates()
    {
        var html = DriftReportPage.Render(Shifted);
        var flag = Section(html, 1);

        Assert.Equal(1, Regex.Count(flag, "<rect class=\"reference\""));
        Assert.Equal(1, Regex.Count(flag, "<rect class=\"current\""));
        Assert.DoesNotContain("NaN", flag);
        Assert.DoesNotContain("Infinity", flag);
        Assert.Contains("<td class=\"num\">0</td>", Row(html, "flag"));
    }

    [Fact]
    public void Without_windows_the_page_says_none_has_closed_yet()
    {
        var html = DriftReportPage.Render(Input());

        Assert.Contains("No drift window has closed yet", html);
        Assert.DoesNotContain("<svg", html);
    }

    [Fact]
    public void A_record_written_before_windows_carried_counts_draws_the_reference_and_says_why_there_is_no_window_histogram()
    {
        var window = Window(1, [Amount, Flag], f => f == "amount" ? Spread(50) : Ones(50));
        var old = window with { Features = [.. window.Features.Select(f => f with { CurrentCounts = default })] };

        var amount = Section(DriftReportPage.Render(Input(old)), 0);

        Assert.Contains("written before windows carried them", amount);
        Assert.Equal(0, Regex.Count(amount, "<rect class=\"current\""));
    }

    private static double[] Ones(int n) => [.. Enumerable.Repeat(1.0, n)];

    private static string Row(string html, string feature) =>
        Regex.Match(html, $"<tr class=\"[a-z-]+\"><td><a href=\"#feature-\\d+\">{Regex.Escape(feature)}</a>.*?</tr>").Value;

    private static string Section(string html, int index) =>
        Regex.Match(html, $"<section class=\"feature [a-z-]+\" id=\"feature-{index}\">.*?</section>", RegexOptions.Singleline).Value;

    [GeneratedRegex("https?://[^\"' )<>]+")]
    private static partial Regex Addresses();
}
