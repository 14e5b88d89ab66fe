using System.Text.Json;

namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops topics list|describe</c> against the fake admin API: the request, the table, the JSON, the refusals.</summary>
public sealed class TopicsCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Topics_list_prints_one_row_per_topic_with_family_model_partitions_and_end_offset()
    {
        var run = await Mlops("topics", "list");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal("GET", api.Last("/api/v1/topics").Method);
        var lines = run.StdoutLines;
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^TOPIC\s+FAMILY\s+MODEL\s+PARTITIONS\s+END-OFFSET$", lines[0]);
        Assert.Matches(@"^mlops\.audit\.v1\s+audit\s+-\s+1\s+7$", lines[1]);
        Assert.Matches(@"^mlops\.predictions\.fraud-demo\.v1\s+predictions\s+fraud-demo\s+8\s+120$", lines[2]);
        Assert.Matches(@"^mlops\.requests\.fraud-demo\.v1\s+requests\s+fraud-demo\s+8\s+123$", lines[3]);
    }

    [Fact]
    public async Task Topics_list_as_json_prints_the_servers_json_as_it_answered()
    {
        var run = await Mlops("topics", "list", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(FakeAdminApi.TopicsJson.Trim(), run.Stdout.Trim());
    }

    [Fact]
    public async Task Topics_describe_prints_watermarks_per_partition_and_the_lag_of_each_group_per_partition()
    {
        var run = await Mlops("topics", "describe", FakeAdminApi.RequestTopic);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("GET", api.Last($"/api/v1/topics/{FakeAdminApi.RequestTopic}").Method);
        var lines = run.StdoutLines;
        Assert.Equal("Topic mlops.requests.fraud-demo.v1: family requests, model fraud-demo, 2 partitions, end offset 123.", lines[0]);
        Assert.Matches(@"^PARTITION\s+LOW\s+HIGH$", lines[1]);
        Assert.Matches(@"^0\s+0\s+61$", lines[2]);
        Assert.Matches(@"^1\s+10\s+62$", lines[3]);
        Assert.Matches(@"^GROUP\s+PARTITION\s+COMMITTED\s+END-OFFSET\s+LAG$", lines[4]);
        Assert.Matches(@"^mlops-serve\.fraud-demo\s+0\s+60\s+61\s+1$", lines[5]);
        Assert.Matches(@"^mlops-serve\.fraud-demo\s+1\s+-\s+62\s+52$", lines[6]);
        Assert.Equal("Group mlops-serve.fraud-demo: lag 53.", lines[7]);
    }

    [Fact]
    public async Task Topics_describe_of_a_topic_no_group_of_the_node_reads_says_so()
    {
        var run = await Mlops("topics", "describe", "mlops.predictions.fraud-demo.v1");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("No consumer group of this node reads the topic (groups of other applications are not listed).", run.StdoutLines[^1]);
    }

    [Fact]
    public async Task Topics_describe_as_json_prints_the_servers_object()
    {
        var run = await Mlops("topics", "describe", FakeAdminApi.RequestTopic, "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(53, root.GetProperty("groups")[0].GetProperty("lag").GetInt64());
    }

    [Fact]
    public async Task Topics_describe_of_an_unknown_topic_exits_1_with_one_line()
    {
        var run = await Mlops("topics", "describe", "mlops.nope.v1");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("mlops: topic 'mlops.nope.v1' does not exist on the broker (topic_not_found, HTTP 404)", run.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public async Task Topics_describe_without_a_topic_is_a_usage_error()
    {
        var run = await Mlops("topics", "describe");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
    }
}
