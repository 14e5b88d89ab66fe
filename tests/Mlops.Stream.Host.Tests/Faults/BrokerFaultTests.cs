using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// Issue 14, scenarios 1 to 5: a node under steady Kafka and HTTP load while its broker goes down,
/// slows down, refuses produce requests or commits, or moves partition leaders; and a rebalance
/// (partitions lost and assigned again) while the broker is slow. The delivery
/// checker then finds no request lost, no prediction different from a direct ONNX Runtime run, and
/// exactly as many duplicates as the node counted in <c>mlops_kafka_duplicates_total</c>; every
/// HTTP request is answered. Each test owns its broker, topics and registry.
/// </summary>
public sealed class BrokerFaultTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";

    [Theory]
    [InlineData("broker-down")]
    [InlineData("rtt-500ms")]
    [InlineData("produce-errors")]
    [InlineData("commit-errors")]
    [InlineData("leader-move")]
    [InlineData("slow-rebalance")]
    [InlineData("swaps-under-faults")]
    public async Task Under_load_a_broker_fault_loses_nothing_answers_right_and_counts_every_duplicate(string name)
    {
        var fault = BrokerFaults.Named(name);
        using var broker = EmbeddedKafka.Start(fault.Brokers);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        using var registry = new TempDirectory("mlops-faults-registry-");
        await using var node = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}", $"--Registry:Path={registry.Path}",
            "--Kafka:FetchWait=00:00:00.005");
        using var oracle = new RegistryOracle(new FolderModelRegistry(registry.Path));

        var result = await FaultRun.RunAsync(fault, new FaultTarget(broker, node.Http, Model, oracle), log: output.WriteLine);

        output.WriteLine(result.ToString());
        Assert.True(result.Report.Sent > 0);
        Assert.Equal(0, result.Report.Lost);
        Assert.Equal(0, result.Report.Wrong);
        Assert.Equal(result.Report.Duplicated, result.DuplicatesOnMetrics);
        Assert.Empty(result.HttpFailures);
    }
}
