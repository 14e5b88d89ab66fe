using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Reports;
using SkiaSharp;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The drift report on a real node (embedded broker, demo model, windows of 200 events): after a
/// window of reference-like traffic and one shifted by two standard deviations, the window records
/// carry each feature's bin counts, the node's report page shows the drift with both histograms of
/// every feature, the PNG of one feature decodes, and <c>mlops drift report</c> saves the page.
/// </summary>
public sealed class DriftReportEndToEndTests
{
    private const string Model = "fraud-demo";
    private const int WindowEvents = 200;

    [Fact]
    public async Task A_nodes_drift_report_shows_the_shifted_window_against_the_reference_as_html_png_and_through_the_cli()
    {
        await using var node = await TestNode.StartAsync($"--Drift:WindowEvents={WindowEvents}");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await LoadAsync(node, drift: 0, seed: 1);
        await LoadAsync(node, drift: 2, seed: 2);

        var page = await Eventually.ReadsAsync(async () =>
            {
                using var response = await node.Http.GetAsync($"/api/v1/models/{Model}/drift/report");
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : "";
            }, html => html.Contains("2 recent windows shown", StringComparison.Ordinal), "a report of two windows",
            describe: html => html.Length == 0 ? "no report yet (404)" : Regex.Match(html, "<p class=\"meta\">.*?</p>").Value);

        Assert.Contains("DRIFT DETECTED in the latest window", page);
        var sections = Regex.Matches(page, "<section class=\"feature[^\"]*\" id=\"feature-\\d+\">.*?</section>", RegexOptions.Singleline);
        Assert.Equal(30, sections.Count);
        Assert.All(sections, s =>
        {
            var reference = Regex.Count(s.Value, "<rect class=\"reference\"");
            Assert.True(reference > 0);
            Assert.Equal(reference, Regex.Count(s.Value, "<rect class=\"current\""));
        });

        // The record the page was drawn from: every feature's counts add up to the window's 200 rows (no NaN in the demo traffic).
        using (var drift = await node.Http.GetAsync($"/api/v1/models/{Model}/drift?windows=1"))
        {
            var latest = JsonDocument.Parse(await drift.Content.ReadAsStringAsync()).RootElement.GetProperty("versions")[0].GetProperty("windows")[0];
            Assert.All(latest.GetProperty("features").EnumerateArray(),
                f => Assert.Equal(WindowEvents, f.GetProperty("current_counts").EnumerateArray().Sum(c => c.GetInt64())));
        }

        var png = await node.Http.GetByteArrayAsync($"/api/v1/models/{Model}/drift/report?format=png&feature=amount");
        using (var bitmap = SKBitmap.Decode(png))
            Assert.Equal((DriftFeaturePng.Width, DriftFeaturePng.Height), (bitmap.Width, bitmap.Height));

        // The API document says the route answers both media types.
        using (var document = JsonDocument.Parse(await node.Http.GetStringAsync("/openapi/v1.json")))
        {
            var ok = document.RootElement.GetProperty("paths").GetProperty("/api/v1/models/{model}/drift/report").GetProperty("get").GetProperty("responses").GetProperty("200");
            Assert.Equal(["image/png", "text/html; charset=utf-8"], ok.GetProperty("content").EnumerateObject().Select(c => c.Name).Order());
        }

        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "report.html");
        var (code, text, error) = await MlopsCli.RunAsync("drift", "report", Model, "--out", file, "--url", node.Address.ToString());
        Assert.True(code == 0, error);
        Assert.StartsWith($"Wrote the drift report of {Model} to {file}", text);
        Assert.Contains("DRIFT DETECTED in the latest window", await File.ReadAllTextAsync(file));
    }

    /// <summary>One window's worth of requests through the Kafka path, every one predicted.</summary>
    private static async Task LoadAsync(TestNode node, double drift, int seed)
    {
        var (code, report, error) = await MlopsCli.RunAsync("load", Model, "--rate", "200", "--duration", "1s", "--drift", drift.ToString(CultureInfo.InvariantCulture),
            "--seed", seed.ToString(CultureInfo.InvariantCulture), "--output", "json", "--url", node.Address.ToString());
        Assert.True(code == 0, error);
        Assert.Equal(WindowEvents, JsonDocument.Parse(report).RootElement.GetProperty("predicted").GetInt64());
    }
}
