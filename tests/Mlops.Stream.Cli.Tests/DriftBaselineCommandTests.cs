using System.Text.Json;

namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops drift baseline</c> against the fake admin API: the times it sends, the summary it prints, bad times refused before any call.</summary>
public sealed class DriftBaselineCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Drift_baseline_posts_the_window_version_and_row_cap_and_prints_what_the_sample_holds()
    {
        var before = DateTimeOffset.UtcNow;
        var run = await Mlops("drift", "baseline", "fraud-demo", "--from", "2026-12-02T10:00:00Z", "--to", "30m", "--version", "3", "--max-rows", "1000");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last("/api/v1/models/fraud-demo/drift/baseline");
        Assert.Equal("POST", request.Method);
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero), body.GetProperty("from").GetDateTimeOffset());
        Assert.InRange(body.GetProperty("to").GetDateTimeOffset(), before.AddMinutes(-30).AddSeconds(-1), DateTimeOffset.UtcNow.AddMinutes(-30).AddSeconds(1));
        Assert.Equal((3, 1000), (body.GetProperty("version").GetInt32(), body.GetProperty("max_rows").GetInt32()));
        Assert.Equal(
            ["fraud-demo version 3: reference set to 1000 rows sampled from 1190 rows of 1190 served events between 2026-12-02 10:00:00Z and 2026-12-02 11:00:00Z.",
             "Left out: 10 unreadable."],
            run.StdoutLines);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("-5m")]
    [InlineData("5w")]
    public async Task A_time_that_is_neither_iso_8601_nor_a_duration_ago_is_a_usage_error(string time)
    {
        var run = await Mlops("drift", "baseline", "fraud-demo", "--from", time, "--to", "now");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--from must be an ISO 8601 time", run.Stderr);
    }

    [Fact]
    public async Task An_unknown_model_is_reported_as_not_found()
    {
        var run = await Mlops("drift", "baseline", "ghost", "--from", "2h", "--to", "now");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Contains("model_not_found", run.Stderr);
    }
}
