namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops drift status</c> against the fake admin API: the request, the summary lines, the tables, the JSON, the refusals.</summary>
public sealed class DriftCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Drift_status_says_per_version_whether_its_latest_window_drifted_and_lists_windows_and_drifted_features()
    {
        var run = await Mlops("drift", "status", "fraud-demo");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal("GET", api.Last("/api/v1/models/fraud-demo/drift").Method);
        var lines = run.StdoutLines;
        Assert.Equal("fraud-demo version 2: DRIFT DETECTED in the latest window (3 of 3 features drifted, threshold share 0.5).", lines[0]);
        Assert.Equal("fraud-demo version 1: no drift in the latest window (0 of 4 features drifted, threshold share 0.5).", lines[1]);
        Assert.Matches(@"^VERSION\s+WINDOW-END\s+EVENTS\s+CLOSED-BY\s+DRIFTED\s+SHARE\s+DATASET$", lines[2]);
        Assert.Matches(@"^2\s+2026-12-02 12:01:30Z\s+200\s+count\s+3/3\s+1\s+drifted$", lines[3]);
        Assert.Matches(@"^1\s+2026-12-02 12:00:59Z\s+150\s+time\s+0/4\s+0\s+stable$", lines[4]);
        Assert.Matches(@"^1\s+2026-12-02 12:00:29Z\s+200\s+count\s+1/4\s+0.25\s+stable$", lines[5]);
        Assert.Equal("Drifted features of version 2 in its latest window:", lines[6]);
        Assert.Matches(@"^FEATURE\s+METHOD\s+SCORE\s+THRESHOLD\s+P-VALUE$", lines[7]);
        Assert.Matches(@"^amount\s+population_stability_index\s+1.25\s+0.1\s+-$", lines[8]);
        Assert.Matches(@"^hour\s+population_stability_index\s+0.5\s+0.1\s+-$", lines[9]);
        Assert.Matches(@"^distance\s+kolmogorov_smirnov\s+0.4\s+0.05\s+0.001$", lines[10]);
        Assert.Equal(11, lines.Length);
    }

    [Fact]
    public async Task Drift_status_shows_the_performance_of_labelled_windows_and_the_latest_prediction_drift()
    {
        var run = await Mlops("drift", "status", "labelled");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var lines = run.StdoutLines;
        var performance = Array.IndexOf(lines, "Performance against feedback labels (binary precision and recall):");
        Assert.True(performance > 0, run.Stdout);
        Assert.Matches(@"^VERSION\s+WINDOW-END\s+LABELLED\s+LATE\s+ACCURACY\s+PRECISION\s+RECALL\s+ROC-AUC$", lines[performance + 1]);
        Assert.Matches(@"^1\s+2026-12-02 12:01:30Z\s+14\s+14\s+0.8571\s+0.75\s+1\s+-$", lines[performance + 2]);
        Assert.Equal("Prediction drift in the latest judged window, against the version's baseline window:", lines[performance + 3]);
        Assert.Matches(@"^VERSION\s+WINDOW-END\s+OUTPUT\s+METHOD\s+SCORE\s+THRESHOLD\s+VERDICT$", lines[performance + 4]);
        Assert.Matches(@"^1\s+2026-12-02 12:01:30Z\s+probabilities\[fraud\]\s+population_stability_index\s+0.42\s+0.1\s+drifted$", lines[performance + 5]);
        Assert.Matches(@"^1\s+2026-12-02 12:01:30Z\s+predicted_class\s+jensen_shannon\s+0.05\s+0.1\s+stable$", lines[performance + 6]);
        Assert.Equal(performance + 7, lines.Length);
    }

    [Fact]
    public async Task Drift_status_asks_for_the_number_of_windows_given_and_prints_the_servers_json_as_it_answered()
    {
        var run = await Mlops("drift", "status", "fraud-demo", "--windows", "3", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("?windows=3", api.Last("/api/v1/models/fraud-demo/drift").Query);
        Assert.Equal(FakeAdminApi.DriftJson.Trim(), run.Stdout.Trim());
    }

    [Fact]
    public async Task Drift_status_of_a_model_without_windows_says_when_the_first_one_comes()
    {
        var run = await Mlops("drift", "status", "quiet");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.StartsWith("No drift windows for quiet yet", run.Stdout);
    }

    [Fact]
    public async Task Drift_status_of_an_unknown_model_exits_1_with_the_nodes_message()
    {
        var run = await Mlops("drift", "status", "ghost");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Contains("model_not_found", run.Stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    public async Task Drift_status_refuses_a_window_count_the_node_would_not_take_and_sends_nothing(string windows)
    {
        var before = api.Requests.Count;
        var run = await Mlops("drift", "status", "fraud-demo", "--windows", windows);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--windows must be an integer from 1 to 100", run.Stderr);
        Assert.Equal(before, api.Requests.Count);
    }
}
