using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Faults;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Issue 14's cluster scenarios, each on a fresh three-node cluster (node processes, one embedded
/// broker) under the same steady Kafka and HTTP load as the broker faults. HTTP goes through
/// <see cref="ClusterHttp"/>, as through a load balancer; duplicates are counted on every live node.
/// 6: the model's replicas scaled 3 → 1 → 3 (partitions move between nodes); 7: a node killed with
/// <c>kill -9</c>, then started again; 8: every node stopped with SIGTERM and started again, one at a
/// time. Each waits until the replicas serve, balanced, before its next step.
/// </summary>
public static class NodeFaults
{
    public const int Nodes = 3;
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(3);

    /// <summary>A cluster scenario: what to do to the cluster while the load runs.</summary>
    public sealed record NodeFault(string Name, string Description, Func<LocalCluster, Task> ActAsync);

    public static IReadOnlyList<NodeFault> All { get; } =
    [
        new("scale-replicas", "replicas scaled 3 -> 1 -> 3 across 3 nodes", async cluster =>
        {
            foreach (var replicas in new[] { 1, Nodes })
            {
                await cluster.ScaleAsync(replicas);
                await cluster.WaitForReplicasAsync(replicas, RequestPartitions(cluster), Settle);
            }
        }),
        new("kill-restart", "node 2 of 3 killed (kill -9), then started again", async cluster =>
        {
            cluster.KillNode(2);
            await cluster.WaitForReplicasAsync(Nodes - 1, RequestPartitions(cluster), Settle);
            await cluster.RestartNodeAsync(2);
            await cluster.WaitForReplicasAsync(Nodes, RequestPartitions(cluster), Settle);
        }),
        new("rolling-restart", "every node stopped (SIGTERM) and started again, one at a time, the seed last", async cluster =>
        {
            foreach (var node in new[] { 2, 1, 0 })
            {
                await cluster.StopNodeAsync(node);
                await cluster.RestartNodeAsync(node);
                await cluster.WaitForReplicasAsync(Nodes, RequestPartitions(cluster), Settle);
            }
        }),
    ];

    public static bool IsNamed(string name) => All.Any(f => f.Name == name);

    public static async Task<FaultRunResult> RunAsync(NodeFault fault, string model, int rate, Action<string> log)
    {
        using var cluster = await LocalCluster.StartAsync(model, Nodes);
        using var http = ClusterHttp.For(cluster);
        using var oracle = new RegistryOracle(new Mlops.Stream.Inference.Registry.FolderModelRegistry(cluster.RegistryPath));
        try
        {
            await cluster.WaitForReplicasAsync(Nodes, RequestPartitions(cluster), Settle);
            var asBrokerFault = new BrokerFault(fault.Name, fault.Description, (_, _, _) => Task.CompletedTask)
            {
                OnNodeAsync = (_, _) => fault.ActAsync(cluster),
            };
            var target = new FaultTarget(cluster.Broker, http, model, oracle) { CountDuplicatesAsync = () => DuplicatesOnLiveNodesAsync(cluster) };
            return await FaultRun.RunAsync(asBrokerFault, target, rate, log);
        }
        catch
        {
            log(cluster.Tails());
            throw;
        }
    }

    private static int RequestPartitions(LocalCluster cluster) => Pipeline.NodeDrain.PartitionsOf(cluster.Topics.Requests);

    /// <summary>
    /// The duplicates counted by the nodes that are up (a node that is down answers nothing, and the
    /// count of a node's earlier incarnation went with it).
    /// </summary>
    private static async Task<long> DuplicatesOnLiveNodesAsync(LocalCluster cluster)
    {
        long total = 0;
        for (var node = 0; node < cluster.Http.Length; node++)
        {
            try
            {
                total += (long)await cluster.MetricAsync(node, FaultRun.DuplicatesMetric, ("model", cluster.Model));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Down or restarting.
            }
        }
        return total;
    }
}
