using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// Places model replicas (one shard each, see <see cref="ReplicaMessageExtractor"/>) so that the
/// replicas of one model run on different nodes while there are enough nodes: a new replica goes to
/// the node with the fewest replicas of its model, then the fewest replicas overall. Rebalancing
/// moves one replica at a time, only when a node holds two or more replicas of a model more than
/// another node does (e.g. after a node joins, or a failed node's replicas restarted on the
/// survivors): each move drains the replica and rebalances its Kafka group, so nothing moves for
/// a difference of one.
/// </summary>
/// <remarks>
/// Akka's default (least-shard) strategy only counts shards per node, so two replicas of one model
/// could share a node while another node holds replicas of other models: the node's loss would then
/// take both. Only nodes that are up and reachable take new replicas.
/// </remarks>
public sealed class ReplicaAllocationStrategy : IShardAllocationStrategy, IActorSystemDependentAllocationStrategy
{
    private Cluster? _cluster;

    public void Start(ActorSystem system) => _cluster = Cluster.Get(system);

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var model = ModelOf(shardId);
        var candidates = Candidates(currentShardAllocations);
        if (candidates.Count == 0) return Task.FromResult(requester);
        var chosen = candidates
            .OrderBy(c => c.Value.Count(s => ModelOf(s) == model))
            .ThenBy(c => c.Value.Count)
            .ThenBy(c => AddressOf(c.Key).ToString(), StringComparer.Ordinal)
            .First();
        return Task.FromResult(chosen.Key);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations,
        IImmutableSet<string> rebalanceInProgress)
    {
        IImmutableSet<string> none = ImmutableHashSet<string>.Empty;
        if (rebalanceInProgress.Count > 0) return Task.FromResult(none);
        var candidates = Candidates(currentShardAllocations);
        if (candidates.Count < 2) return Task.FromResult(none);
        var models = candidates.SelectMany(c => c.Value).Select(ModelOf).Distinct().Order(StringComparer.Ordinal);
        foreach (var model in models)
        {
            var byNode = candidates
                .Select(c => c.Value.Where(s => ModelOf(s) == model).OrderBy(IndexOf).ToList())
                .OrderBy(replicas => replicas.Count)
                .ToList();
            if (byNode[^1].Count - byNode[0].Count >= 2)
                return Task.FromResult<IImmutableSet<string>>(ImmutableHashSet.Create(byNode[^1][^1]));
        }
        return Task.FromResult(none);
    }

    /// <summary>Regions on members that are up and reachable (every region when the cluster is not known yet).</summary>
    private List<KeyValuePair<IActorRef, IImmutableList<string>>> Candidates(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
    {
        if (_cluster is not { } cluster) return [.. allocations];
        var state = cluster.State;
        var live = state.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp && !state.Unreachable.Contains(m))
            .Select(m => m.Address)
            .ToHashSet();
        return [.. allocations.Where(a => live.Contains(AddressOf(a.Key)))];
    }

    private Address AddressOf(IActorRef region) =>
        region.Path.Address.HasGlobalScope || _cluster is null ? region.Path.Address : _cluster.SelfAddress;

    private static string ModelOf(string shardId)
    {
        var hash = shardId.LastIndexOf('#');
        return hash > 0 ? shardId[..hash] : shardId;
    }

    private static int IndexOf(string shardId)
    {
        var hash = shardId.LastIndexOf('#');
        return hash > 0 && int.TryParse(shardId.AsSpan(hash + 1), out var index) ? index : 0;
    }
}
