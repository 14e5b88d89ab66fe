using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Host.Cluster;

/// <summary>
/// Answers <c>/api/v1/shards</c> by asking the shard region of <paramref name="typeName"/> on every
/// reachable member for its <see cref="CurrentShardRegionState"/>, all at once.
/// </summary>
/// <remarks>
/// Why one <see cref="GetShardRegionState"/> per member rather than <see cref="GetClusterShardingStats"/>:
/// the cluster-wide stats carry only an entity count per shard, so they cannot say which model runs
/// where; a region's state carries the entity ids (<c>&lt;model&gt;#&lt;replica&gt;</c>), but only
/// for that region, so each member's region (at <c>/system/sharding/&lt;typeName&gt;</c>) is asked.
/// A member that does not answer within <see cref="AnswerTimeout"/> (or runs no such region) is
/// reported as timed out instead of failing the call; unreachable members are not asked at all.
/// </remarks>
public sealed class ShardDirectory(ActorSystem system, string typeName) : IShardDirectory
{
    /// <summary>
    /// Longer than the region's own wait for its shards (<c>akka.cluster.sharding.shard-region-query-timeout</c>,
    /// 3 s by default; shards that miss it come back as failed), so a slow shard still lets its region answer.
    /// </summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    public async Task<ShardPlacement> QueryAsync(CancellationToken cancellationToken)
    {
        var state = Akka.Cluster.Cluster.Get(system).State;
        var members = state.Members.OrderBy(m => m, Member.AgeOrdering).ToArray();
        var nodes = await Task.WhenAll(members.Select(m => state.Unreachable.Contains(m)
            ? Task.FromResult(Empty(m.Address, ShardAnswers.Unreachable, "unreachable: not asked"))
            : QueryMemberAsync(m.Address, cancellationToken))).ConfigureAwait(false);
        return new ShardPlacement(typeName, nodes);
    }

    /// <summary>One member's region: its shards and their entities, or why it did not say.</summary>
    public async Task<NodeShards> QueryMemberAsync(Address member, CancellationToken cancellationToken)
    {
        var region = system.ActorSelection(new RootActorPath(member) / "system" / "sharding" / typeName);
        try
        {
            var answer = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AnswerTimeout, cancellationToken).ConfigureAwait(false);
            var shards = answer.Shards
                .OrderBy(s => s.ShardId, StringComparer.Ordinal)
                .Select(s => new ShardEntities(s.ShardId, [.. s.EntityIds.Order(StringComparer.Ordinal).Select(Placement)]))
                .ToArray();
            return new NodeShards(member.ToString(), ShardAnswers.Ok, null, shards, [.. answer.Failed.Order(StringComparer.Ordinal)]);
        }
        catch (AskTimeoutException)
        {
            return Empty(member, ShardAnswers.TimedOut, $"no answer from its '{typeName}' region within {AnswerTimeout.TotalSeconds:0.#} s");
        }
    }

    private static NodeShards Empty(Address member, string answer, string error) => new(member.ToString(), answer, error, [], []);

    private static EntityPlacement Placement(string entityId)
    {
        try
        {
            var (model, replica) = ReplicaId.Parse(entityId);
            return new EntityPlacement(entityId, model, replica);
        }
        catch (ArgumentException)
        {
            // Not a replica id: still listed, so the answer never hides an entity.
            return new EntityPlacement(entityId, null, null);
        }
    }
}
