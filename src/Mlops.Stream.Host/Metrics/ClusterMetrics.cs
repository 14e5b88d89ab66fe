using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Prometheus;

namespace Mlops.Stream.Host.Metrics;

/// <summary>
/// Cluster membership as this node sees it, and the shards and entities its own model-replica
/// region hosts, sampled at each scrape (every node exports its own, so a Prometheus query sums or
/// groups by instance for "per node").
/// </summary>
public sealed class ClusterMetrics(ServingMetrics metrics, ActorSystem system, IRequiredActor<ModelReplica> replicas, ILogger<ClusterMetrics> logger)
    : IHostedService
{
    private static readonly TimeSpan RegionAskTimeout = TimeSpan.FromSeconds(2);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var members = factory.CreateGauge("mlops_cluster_members", "Cluster members by status, as this node sees them.", "status");
        var unreachable = factory.CreateGauge("mlops_cluster_unreachable_members", "Members this node's failure detector marks unreachable.");
        var leader = factory.CreateGauge("mlops_cluster_leader", "1 while this node is the cluster leader.");
        var shards = factory.CreateGauge("mlops_sharding_shards", "Shards of the model-replica region hosted on this node.");
        var entities = factory.CreateGauge("mlops_sharding_entities", "Model replicas (entities) running on this node, per model.", "model");
        var sampledEntities = new SampledGauge(entities);

        metrics.Registry.AddBeforeCollectCallback(async cancel =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var state = cluster.State;
            foreach (var status in Enum.GetValues<MemberStatus>())
                members.WithLabels(status.ToString().ToLowerInvariant()).Set(state.Members.Count(m => m.Status == status));
            unreachable.Set(state.Unreachable.Count);
            leader.Set(state.Leader == cluster.SelfAddress ? 1 : 0);
            try
            {
                var region = await replicas.GetAsync(cancel);
                var current = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, RegionAskTimeout, cancel);
                shards.Set(current.Shards.Count);
                sampledEntities.BeginRound();
                foreach (var perModel in current.Shards.SelectMany(s => s.EntityIds).GroupBy(id => ReplicaId.Parse(id).Model))
                    sampledEntities.Set(perModel.Count(), perModel.Key);
                sampledEntities.EndRound();
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
            {
                // A busy or stopping region: keep the last values rather than fail the scrape.
                logger.LogDebug("The model-replica region did not report its shards in time: {Reason}", e.Message);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
