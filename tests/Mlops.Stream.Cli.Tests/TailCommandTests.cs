using System.Text.Json;

namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops tail</c> against the fake admin API: the query it sends, one decoded line per record, the raw lines in json mode, the failures.</summary>
public sealed class TailCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Tail_predictions_prints_time_position_key_version_and_outputs_per_record()
    {
        var run = await Mlops("tail", "predictions", "fraud-demo", "--from", "beginning", "--limit", "2");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        var request = api.Last("/api/v1/models/fraud-demo/tail/predictions");
        Assert.Equal("?from=beginning&limit=2", request.Query);
        Assert.Equal(
        [
            "2026-11-24 10:11:04.123Z  3:17  tx-1  version 2  probabilities=[0.9855, 0.01454]  label=[0]",
            "2026-11-24 10:11:04.200Z  5:2  tx-2  version 2  scores=[1, 2, 3, 4, 5, 6, … 8 values]",
        ], run.StdoutLines);
    }

    [Fact]
    public async Task Tail_served_prints_version_batch_size_and_timings()
    {
        var run = await Mlops("tail", "served", "fraud-demo", "--from", "beginning", "-n", "1");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(["2026-11-24 10:11:04.124Z  3:17  tx-1  version 2  batch 4  queue 1.25 ms  inference 0.5 ms  label=[1]"], run.StdoutLines);
    }

    [Fact]
    public async Task Tail_dlq_prints_the_error_code_and_reason_and_a_value_that_is_not_json_as_text()
    {
        var run = await Mlops("tail", "dlq", "fraud-demo", "--from", "beginning", "--limit", "2");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(
        [
            "2026-11-24 10:11:05.000Z  0:0  bad-1  shape_mismatch: input 'features' has shape [1,2] but the model expects [-1,30]",
            "2026-11-24 10:11:06.000Z  1:0  -  not json",
        ], run.StdoutLines);
    }

    [Fact]
    public async Task Tail_as_json_prints_the_nodes_lines_unchanged()
    {
        var run = await Mlops("tail", "dlq", "fraud-demo", "--from", "beginning", "--limit", "2", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(FakeAdminApi.TailLines["dlq"], run.StdoutLines);
        Assert.All(run.StdoutLines, line => JsonDocument.Parse(line));
    }

    [Fact]
    public async Task Tail_starts_at_the_end_unless_told_otherwise()
    {
        var tail = Mlops("tail", "predictions", "fraud-demo", "--limit", "1");
        await WaitForRequestAsync("/api/v1/models/fraud-demo/tail/predictions", "?from=end&limit=1");
        using (var http = new HttpClient())
            (await http.PostAsync($"{api.Url}/api/v1/models/fraud-demo/requests", new StringContent("""[{"id":"late-1"}]"""))).EnsureSuccessStatusCode();

        var run = await tail;
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Matches(@"^\S+ \S+Z  0:0  late-1  version 2  label=\[0\]$", Assert.Single(run.StdoutLines));
    }

    [Fact]
    public async Task A_tail_the_node_ends_with_an_error_line_exits_3_after_printing_what_came_before()
    {
        var run = await Mlops("tail", "predictions", "broken", "--from", "beginning");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Single(run.StdoutLines);
        Assert.Equal("mlops: the tail ended: reading mlops.predictions.broken.v1 failed: broker down (kafka_unavailable)", run.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public async Task A_tail_the_node_ends_before_the_limit_exits_3()
    {
        var run = await Mlops("tail", "served", "fraud-demo", "--from", "beginning", "--limit", "5");

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Single(run.StdoutLines);
        Assert.Equal("mlops: the node ended the tail after 1 records (is it stopping?)", run.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public async Task Tail_of_an_unknown_model_exits_1_with_the_servers_message()
    {
        var run = await Mlops("tail", "predictions", "ghost");

        Assert.True(run.ExitCode == ExitCodes.Refused, run.ToString());
        Assert.Equal("", run.Stdout);
        Assert.Equal("mlops: Model 'ghost' is not in the registry. (model_not_found, HTTP 404)", run.Stderr.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("tail", "requests", "fraud-demo")]
    [InlineData("tail", "predictions", "fraud-demo", "--from", "middle")]
    [InlineData("tail", "predictions", "fraud-demo", "--limit", "0")]
    [InlineData("tail", "predictions")]
    public async Task Tail_with_a_bad_stream_start_limit_or_no_model_is_a_usage_error_and_sends_nothing(params string[] args)
    {
        var before = api.Requests.Count;

        var run = await Mlops(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, api.Requests.Count);
    }

    private Task WaitForRequestAsync(string path, string query) =>
        Eventually.HoldsAsync(() => api.Requests.Any(r => r.Path == path && r.Query == query), $"a request to {path}{query} arrives", TimeSpan.FromSeconds(30));
}
