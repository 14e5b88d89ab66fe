using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>A fault run on a broker, registry and in-process node of its own, started with the fault's settings.</summary>
internal static class OneNodeFaultRun
{
    public const string Model = "fraud-demo";

    public static async Task<FaultRunResult> RunAsync(BrokerFault fault, ITestOutputHelper output)
    {
        using var broker = EmbeddedKafka.Start(fault.Brokers);
        broker.CreateTopics(TopicCatalog.Default.DeclareAll([Model]));
        using var registry = new TempDirectory("mlops-faults-registry-");
        await using var node = await TestNode.StartAsync([$"--Kafka:BootstrapServers={broker.BootstrapServers}", $"--Registry:Path={registry.Path}",
            "--Kafka:FetchWait=00:00:00.005", .. fault.NodeArguments]);
        using var oracle = new RegistryOracle(new FolderModelRegistry(registry.Path));

        var result = await FaultRun.RunAsync(fault, new FaultTarget(broker, node.Http, Model, oracle), log: output.WriteLine);

        output.WriteLine(result.ToString());
        Assert.True(result.Report.Sent > 0);
        return result;
    }
}
