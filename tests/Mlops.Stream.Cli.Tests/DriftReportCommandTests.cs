namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops drift report</c> against the fake admin API: the request, the file written and what it says, the PNG option, the refusals.</summary>
public sealed class DriftReportCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlops-drift-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Drift_report_saves_the_nodes_html_page_where_out_says_and_says_where_it_wrote()
    {
        var file = Path.Combine(_folder, "report.html");

        var run = await Mlops("drift", "report", "fraud-demo", "--out", file, "--version", "2", "--windows", "5");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        var request = api.Last("/api/v1/models/fraud-demo/drift/report");
        Assert.Equal(("GET", "?version=2&windows=5"), (request.Method, request.Query));
        Assert.Equal(FakeAdminApi.ReportHtml, await File.ReadAllTextAsync(file));
        Assert.Equal($"Wrote the drift report of fraud-demo to {file} ({FakeAdminApi.ReportHtml.Length} bytes).", run.Stdout.Trim());
    }

    [Fact]
    public async Task Drift_report_without_out_writes_model_drift_report_html_in_the_current_folder()
    {
        var expected = Path.GetFullPath("fraud-demo-drift-report.html");
        try
        {
            var run = await Mlops("drift", "report", "fraud-demo");

            Assert.Equal(ExitCodes.Ok, run.ExitCode);
            Assert.Contains($"to {expected} (", run.Stdout);
            Assert.Equal(FakeAdminApi.ReportHtml, await File.ReadAllTextAsync(expected));
        }
        finally
        {
            File.Delete(expected);
        }
    }

    [Fact]
    public async Task Drift_report_png_asks_for_one_feature_and_saves_the_bytes_as_they_came()
    {
        var file = Path.Combine(_folder, "amount.png");

        var run = await Mlops("drift", "report", "fraud-demo", "--png", "--feature", "amount", "--out", file);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("?format=png&feature=amount", api.Last("/api/v1/models/fraud-demo/drift/report").Query);
        Assert.Equal(FakeAdminApi.ReportPng, await File.ReadAllBytesAsync(file));
        Assert.StartsWith("Wrote the drift report of fraud-demo, feature amount to ", run.Stdout);
    }

    [Theory]
    [InlineData("ghost", "model_not_found")]
    [InlineData("quiet", "no drift window for model 'quiet' yet")]
    public async Task Drift_report_refused_by_the_node_exits_1_with_its_reason_and_writes_nothing(string model, string reason)
    {
        var file = Path.Combine(_folder, "report.html");

        var run = await Mlops("drift", "report", model, "--out", file);

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Contains(reason, run.Stderr);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Drift_report_of_an_unknown_feature_exits_1_naming_the_features_there_are()
    {
        var run = await Mlops("drift", "report", "fraud-demo", "--png", "--feature", "nope", "--out", Path.Combine(_folder, "x.png"));

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Contains("its features: amount", run.Stderr);
    }

    [Fact]
    public async Task Drift_report_does_not_save_an_answer_of_another_media_type()
    {
        var file = Path.Combine(_folder, "report.html");

        var run = await Mlops("drift", "report", "proxied", "--out", file);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Contains("text/plain, not text/html", run.Stderr);
        Assert.False(File.Exists(file));
    }

    [Theory]
    [InlineData("--png", "--png draws one feature: add --feature <name>")]
    [InlineData("--feature amount", "--feature goes with --png")]
    [InlineData("--windows 101", "--windows must be an integer from 1 to 100")]
    public async Task Drift_report_refuses_inconsistent_options_and_sends_nothing(string options, string message)
    {
        var before = api.Requests.Count;

        var run = await Mlops(["drift", "report", "fraud-demo", .. options.Split(' ')]);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.Equal(before, api.Requests.Count);
    }
}
