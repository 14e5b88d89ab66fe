using Akka.Actor;
using Akka.Cluster;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Host.Cluster;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;
using Prometheus;

namespace Mlops.Stream.Host.Metrics;

/// <summary>
/// Cluster membership as this node sees it, and the shards and entities its own model-replica
/// region hosts (asked through <see cref="ShardDirectory"/>, like <c>mlops shards</c>), sampled at
/// each scrape. Every node exports its own, so a Prometheus query groups by instance for "per node".
/// </summary>
public sealed class ClusterMetrics(ServingMetrics metrics, ActorSystem system, ShardDirectory shards, ILogger<ClusterMetrics> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var members = factory.CreateGauge("mlops_cluster_members", "Cluster members by status, as this node sees them.", "status");
        var unreachable = factory.CreateGauge("mlops_cluster_unreachable_members", "Members this node's failure detector marks unreachable.");
        var leader = factory.CreateGauge("mlops_cluster_leader", "1 while this node is the cluster leader.");
        var shardCount = factory.CreateGauge("mlops_sharding_shards", "Shards of the model-replica region hosted on this node.");
        var entities = new SampledGauge(factory.CreateGauge("mlops_sharding_entities", "Model replicas (entities) running on this node, per model.", "model"));

        metrics.Registry.AddBeforeCollectCallback(async cancel =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var state = cluster.State;
            foreach (var status in Enum.GetValues<MemberStatus>())
                members.WithLabels(status.ToString().ToLowerInvariant()).Set(state.Members.Count(m => m.Status == status));
            unreachable.Set(state.Unreachable.Count);
            leader.Set(state.Leader == cluster.SelfAddress ? 1 : 0);

            var local = await shards.QueryMemberAsync(cluster.SelfAddress, cancel);
            if (local.Answer != ShardAnswers.Ok)
            {
                // A busy or stopping region: keep the last values rather than fail the scrape.
                logger.LogDebug("The model-replica region did not report its shards: {Reason}", local.Error);
                return;
            }
            shardCount.Set(local.Shards.Count);
            entities.BeginRound();
            foreach (var perModel in local.Shards.SelectMany(s => s.Entities).GroupBy(e => e.Model ?? ""))
                entities.Set(perModel.Count(), perModel.Key);
            entities.EndRound();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
