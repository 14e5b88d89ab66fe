using System.Text.RegularExpressions;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 10: <c>kafka --port N</c> runs only the embedded broker, in its own process, on a port
/// given in advance, with the topics nodes need; a node started against it serves, and the broker
/// outlives any node (here: a node is stopped and another one started serves on).
/// </summary>
public sealed partial class KafkaVerbTests
{
    [Fact]
    public async Task Nodes_started_against_the_kafka_verbs_broker_serve_one_after_another()
    {
        using var broker = HostProcess.Start(["kafka", "--port", "0", "--model", "fraud-demo"]);
        var line = await Eventually.ReadsAsync(() => Task.FromResult(broker.Stdout.FirstOrDefault(l => ListeningOn().IsMatch(l))),
            l => l is not null, "the kafka verb says where it listens", HostProcess.Timeout, _ => broker.Output);
        var bootstrap = ListeningOn().Match(line!).Groups[1].Value;

        foreach (var _ in Enumerable.Range(0, 2))
        {
            await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={bootstrap}", "--Kafka:FetchWait=00:00:00.005");
            (await node.WaitForOkAsync("/v2/models/fraud-demo/ready")).Dispose();
            (await node.WaitForOkAsync("/healthz/ready")).Dispose();
        }
        Assert.True(await broker.TerminateAsync() == 0, broker.Output);
    }

    [GeneratedRegex(@"listening on (127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
