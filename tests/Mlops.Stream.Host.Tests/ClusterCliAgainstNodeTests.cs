using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The cluster commands of the `mlops` CLI against a real node, with a second, plain Akka cluster
/// member started in the test to join it and be taken out again.
/// </summary>
public sealed class ClusterCliAgainstNodeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Cluster_show_shards_leave_and_down_work_against_a_node_that_a_second_member_joins()
    {
        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync("/v2/models/fraud-demo/ready");
        var url = node.Address.ToString();

        // Alone, the node is the only member: Up, leader, reachable.
        var show = await Mlops("cluster", "show", "--url", url);
        Assert.True(show.Code == 0, show.Error);
        var row = Assert.Single(show.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("(this node)"));
        Assert.Matches(@"\(this node\)\s+Up\s+-\s+\*\s+yes", row);
        var self = (await ClusterJson(url)).GetProperty("self").GetString()!;
        Assert.Equal(self, (await ClusterJson(url)).GetProperty("leader").GetString());

        // The demo model's replica runs on the node, serves, and consumes every request partition.
        await WaitFor(url, ["shards"], output => output.Split('\n').Any(l =>
            l.StartsWith(self, StringComparison.Ordinal) && l.Contains(" fraud-demo ") && l.Contains("fraud-demo#0")
            && System.Text.RegularExpressions.Regex.IsMatch(l, @"\sready\s+0,1,2,3,4,5,6,7\s")));

        var unknown = await Mlops("cluster", "leave", "akka.tcp://mlops@127.0.0.1:1", "--url", url);
        Assert.Equal(1, unknown.Code);
        Assert.Contains("akka.tcp://mlops@127.0.0.1:1 is not a member of the cluster", unknown.Error);
        Assert.Contains("member_not_found, HTTP 404", unknown.Error);

        var second = StartPlainMember(Address.Parse(self));
        try
        {
            var secondAddress = Akka.Cluster.Cluster.Get(second).SelfAddress.ToString();
            await WaitFor(url, ["cluster", "show", "--output", "json"], output =>
                Members(output).Count(m => m.GetProperty("status").GetString() == "Up") == 2);

            // The second member runs no shard region: it shows as not answering, the node still lists its shards.
            var shards = await Mlops("shards", "--output", "json", "--url", url);
            Assert.True(shards.Code == 0, shards.Error);
            var nodes = JsonDocument.Parse(shards.Output).RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("address").GetString()!);
            Assert.Equal("ok", nodes[self].GetProperty("answer").GetString());
            Assert.Equal("timed_out", nodes[secondAddress].GetProperty("answer").GetString());

            var down = await Mlops("cluster", "down", secondAddress, "--url", url);
            Assert.True(down.Code == 0, down.Error);
            Assert.Contains($"Marked {secondAddress} as down (was Up)", down.Output);
            await WaitFor(url, ["cluster", "show", "--output", "json"], output =>
                Members(output).All(m => m.GetProperty("address").GetString() != secondAddress || m.GetProperty("status").GetString() is "Down" or "Removed"));
        }
        finally
        {
            // Downed, it shuts itself down; terminating covers a test that failed before that.
            await second.Terminate().WaitAsync(Patience);
        }

        // Both requests are in the audit log, the refused one too.
        var audit = await Mlops("audit", "--output", "json", "--url", url);
        var entries = JsonDocument.Parse(audit.Output).RootElement.EnumerateArray()
            .Select(e => (Action: e.GetProperty("action").GetString(), Result: e.GetProperty("result").GetString())).ToArray();
        Assert.Contains(("cluster-down", "ok"), entries);
        Assert.Contains(("cluster-leave", "not_found"), entries);
    }

    [Fact]
    public async Task With_keys_configured_the_cluster_routes_need_the_admin_key_and_refuse_a_malformed_address()
    {
        const string adminKey = "cluster-admin-key-0a1b2c3d4e5f";
        const string inferKey = "cluster-infer-key-5f4e3d2c1b0a";
        await using var node = await TestNode.StartAsync($"--Security:AdminKeys:0={adminKey}", $"--Security:InferKeys:0={inferKey}");

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, "/api/v1/cluster", null));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(node, "/api/v1/cluster", inferKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, "/api/v1/cluster", adminKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, "/api/v1/shards", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, "/api/v1/cluster/down", null, """{"address":"akka.tcp://mlops@127.0.0.1:1"}"""));

        var refused = await Mlops("cluster", "show", "--url", node.Address.ToString());
        Assert.Equal(1, refused.Code);
        Assert.Contains("key_required, HTTP 401", refused.Error);
        var allowed = await Mlops("cluster", "show", "--url", node.Address.ToString(), "--key", adminKey);
        Assert.True(allowed.Code == 0, allowed.Error);

        // The CLI checks the address itself; the node checks it too for other callers.
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(node, "/api/v1/cluster/down", adminKey, """{"address":"not-an-address"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(node, "/api/v1/cluster/leave", adminKey, "{}"));
    }

    /// <summary>
    /// A bare cluster member: the node's actor system name, remoting on a free loopback port, and
    /// sharding's configuration only so it can read the sharding messages it is sent (it runs no region).
    /// </summary>
    private static ActorSystem StartPlainMember(Address seed)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            """).WithFallback(ClusterSharding.DefaultConfig());
        var system = ActorSystem.Create(seed.System, config);
        Akka.Cluster.Cluster.Get(system).Join(seed);
        return system;
    }

    private static IEnumerable<JsonElement> Members(string clusterJson) =>
        JsonDocument.Parse(clusterJson).RootElement.GetProperty("members").EnumerateArray().Select(m => m.Clone()).ToArray();

    private static async Task<JsonElement> ClusterJson(string url)
    {
        var run = await Mlops("cluster", "show", "--output", "json", "--url", url);
        Assert.True(run.Code == 0, run.Error);
        return JsonDocument.Parse(run.Output).RootElement.Clone();
    }

    /// <summary>Runs the command until its output satisfies <paramref name="condition"/>; fails with the last output after <see cref="Patience"/>.</summary>
    private static Task WaitFor(string url, string[] command, Func<string, bool> condition) =>
        Eventually.ReadsAsync(async () =>
        {
            var run = await Mlops([.. command, "--url", url]);
            Assert.True(run.Code == 0, run.Error);
            return run.Output;
        }, condition, $"'mlops {string.Join(' ', command)}' shows the expected state", Patience, interval: TimeSpan.FromMilliseconds(200));

    private static Task<(int Code, string Output, string Error)> Mlops(params string[] args) => MlopsCli.RunAsync(args);

    private static async Task<HttpStatusCode> StatusAsync(TestNode node, string path, string? key, string? jsonBody = null)
    {
        using var request = new HttpRequestMessage(jsonBody is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (jsonBody is not null) request.Content = new StringContent(jsonBody, Encoding.UTF8, "application/json");
        using var response = await node.Http.SendAsync(request);
        return response.StatusCode;
    }
}
