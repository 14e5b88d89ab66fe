using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mlops.Stream.Cli.Tests;

/// <summary><c>mlops cluster show|leave|down</c> and <c>mlops shards</c> against the fake admin API.</summary>
public sealed class ClusterCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>
{
    private const string Other = FakeClusterRoutes.Other;

    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Fact]
    public async Task Cluster_show_prints_one_row_per_member_marking_this_node_the_leader_and_the_unreachable()
    {
        var run = await Mlops("cluster", "show");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal("GET", api.Last("/api/v1/cluster").Method);
        var lines = run.StdoutLines;
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^ADDRESS\s+STATUS\s+ROLES\s+LEADER\s+REACHABLE$", lines[0]);
        Assert.Matches($@"^{Regex.Escape(FakeClusterRoutes.Self)} \(this node\)\s+Up\s+serving\s+\*\s+yes$", lines[1]);
        Assert.Matches($@"^{Regex.Escape(Other)}\s+Up\s+-\s+-\s+no$", lines[2]);
    }

    [Fact]
    public async Task Cluster_show_as_json_prints_the_servers_json_as_it_answered()
    {
        var run = await Mlops("cluster", "show", "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(FakeClusterRoutes.ClusterJson.Trim(), run.Stdout.Trim());
    }

    [Theory]
    [InlineData("leave", "Asked akka.tcp://mlops@10.0.0.2:4053 to leave the cluster (was Up); its shards move to other members before it stops.")]
    [InlineData("down", "Marked akka.tcp://mlops@10.0.0.2:4053 as down (was Up); the leader removes it and its shards start elsewhere.")]
    public async Task Cluster_leave_and_down_post_the_address_and_say_what_the_node_accepted(string action, string expected)
    {
        var run = await Mlops("cluster", action, Other);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = api.Last($"/api/v1/cluster/{action}");
        Assert.Equal("POST", request.Method);
        Assert.Equal(Other, JsonDocument.Parse(request.Body).RootElement.GetProperty("address").GetString());
        Assert.Equal([expected], run.StdoutLines);
    }

    [Fact]
    public async Task Cluster_down_as_json_prints_the_change()
    {
        var run = await Mlops("cluster", "down", Other, "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("down", root.GetProperty("action").GetString());
        Assert.Equal(Other, root.GetProperty("address").GetString());
    }

    [Fact]
    public async Task Cluster_leave_of_an_address_that_is_not_a_member_is_refused_with_exit_1_and_one_line()
    {
        var run = await Mlops("cluster", "leave", FakeClusterRoutes.GhostMember);

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal(
            $"mlops: {FakeClusterRoutes.GhostMember} is not a member of the cluster (members: {FakeClusterRoutes.Self}, {Other}) (member_not_found, HTTP 404)",
            run.Stderr.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("leave", "10.0.0.2:4053")]
    [InlineData("down", "akka.tcp://10.0.0.2:4053")]
    [InlineData("down", "akka.tcp://mlops@10.0.0.2")]
    public async Task Cluster_leave_or_down_of_a_malformed_address_is_a_usage_error_and_sends_nothing(string action, string address)
    {
        var before = api.Requests.Count;

        var run = await Mlops("cluster", action, address);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal($"mlops: the address must look like akka.tcp://<system>@<host>:<port> (got '{address}') (see 'mlops cluster {action} --help')",
            run.Stderr.TrimEnd('\n'));
        Assert.Equal(before, api.Requests.Count);
    }

    [Fact]
    public async Task Cluster_leave_without_an_address_is_a_usage_error()
    {
        var run = await Mlops("cluster", "leave");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("mlops: ", run.Stderr);
    }

    [Fact]
    public async Task Shards_prints_one_row_per_entity_and_notes_what_did_not_answer()
    {
        var run = await Mlops("shards");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal("GET", api.Last("/api/v1/shards").Method);
        var self = Regex.Escape(FakeClusterRoutes.Self);
        string[] expected =
        [
            @"^NODE\s+MODEL\s+ENTITY\s+SHARD\s+STATE\s+PARTITIONS\s+LAG\s+QUEUE$",
            // fraud-demo's replicas are listed by the node (state, partitions, lag, queue); churn's are not known (404): dashes.
            $@"^{self}\s+fraud-demo\s+fraud-demo#0\s+12\s+ready\s+0,1,2\s+4\s+1$",
            $@"^{self}\s+churn\s+churn#0\s+3\s+-\s+-\s+-\s+-$",
            $@"^{self}\s+-\s+-\s+7\s+-\s+-\s+-\s+-$",
            $"^{self}: shards 9 did not report their entities in time$",
            $"^{Regex.Escape(Other)}: no answer from its 'model-replica' region within 5 s$",
        ];
        Assert.Equal(expected.Length, run.StdoutLines.Length);
        Assert.All(expected.Zip(run.StdoutLines), pair => Assert.Matches(pair.First, pair.Second));
    }

    [Fact]
    public async Task Shards_as_json_prints_the_servers_json_as_it_answered()
    {
        var run = await Mlops("shards", "--output", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(FakeClusterRoutes.ShardsJson.Trim(), run.Stdout.Trim());
    }
}
