using Akka.Actor;
using Mlops.Stream.Actors.Placement;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Cluster;

/// <summary>
/// Where every model replica runs, refreshed every <see cref="Interval"/> by asking each reachable
/// member's shard region what it hosts (<see cref="ShardDirectory"/>). The picture may lag by a
/// moment; routing does not rely on it alone: a replica on a node lost since is skipped by
/// <see cref="NodeLiveness"/> at once, and one that moved answers "not ready" or is reached through
/// sharding anyway.
/// </summary>
public sealed class ReplicaLocator(ShardDirectory shards, ILogger<ReplicaLocator> logger) : BackgroundService, IReplicaLocations
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private volatile ReplicaLocation[] _all = [];

    public IReadOnlyList<ReplicaLocation> All => _all;

    public IReadOnlyList<ReplicaLocation> Of(string model) => [.. _all.Where(r => r.Model == model)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                _all = Locate(await shards.QueryAsync(stoppingToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug(e, "Could not locate the model replicas; trying again in {Interval}", Interval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static ReplicaLocation[] Locate(ShardPlacement placement) =>
        [.. from node in placement.Nodes
            where node.Answer == ShardAnswers.Ok
            from shard in node.Shards
            from entity in shard.Entities
            where entity.Model is not null && entity.Replica is not null
            select new ReplicaLocation(entity.EntityId, entity.Model!, entity.Replica!.Value, Address.Parse(node.Address))];
}
