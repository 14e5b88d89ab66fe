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
        var result = await OneNodeFaultRun.RunAsync(BrokerFaults.Named(name), output);

        Assert.Equal(0, result.Report.Lost);
        Assert.Equal(0, result.Report.Wrong);
        Assert.Equal(result.Report.Duplicated, result.DuplicatesOnMetrics);
        Assert.Empty(result.HttpFailures);
    }
}
