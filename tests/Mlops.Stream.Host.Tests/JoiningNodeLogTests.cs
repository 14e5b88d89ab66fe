using System.Net;
using System.Net.Sockets;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// A node that cannot join its cluster yet (its seed is not up) is not ready, says so once in its
/// log, and logs no error for it however often a load balancer probes it.
/// </summary>
public sealed class JoiningNodeLogTests
{
    [Fact]
    public async Task A_node_waiting_for_its_seed_answers_503_and_logs_that_it_is_not_ready_yet_without_errors()
    {
        using var registry = new TempDirectory("mlops-joining-");
        var seedPort = FreePort();
        using var node = HostProcess.Start(
        [
            "--Http:Url=http://127.0.0.1:0", "--Grpc:Url=http://127.0.0.1:0", "--Akka:Port=0", $"--Akka:SeedNodes:0=akka.tcp://mlops@127.0.0.1:{seedPort}",
            $"--Registry:Path={registry.Path}",
        ]);
        using var http = new HttpClient { BaseAddress = await node.Listening.WaitAsync(HostProcess.Timeout) };

        for (var probe = 0; probe < 5; probe++)
        {
            using var ready = await http.GetAsync("/healthz/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        await Eventually.HoldsAsync(() => node.Stdout.Any(l => l.Contains("Node not ready yet", StringComparison.Ordinal)),
            "the node logs that it is not ready yet", HostProcess.Timeout, () => node.Output);
        Assert.Single(node.Stdout, l => l.Contains("Node not ready yet", StringComparison.Ordinal));
        // The console's plain lines carry the level after the timestamp: "fail:" is Error, "crit:" Critical.
        Assert.DoesNotContain(node.Stdout.Concat(node.Stderr), l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }
}
