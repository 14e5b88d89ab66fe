using System.Collections.Immutable;
using Akka.Actor;
using Mlops.Stream.Actors.Placement;

namespace Mlops.Stream.Actors.Tests.Placement;

/// <summary>
/// Where new replicas go and which replica a rebalance moves, without a cluster (so every region
/// counts as a candidate). Regions are fake references on distinct nodes 10.0.0.n.
/// </summary>
public sealed class ReplicaAllocationStrategyTests
{
    private static readonly IActorRef A = new FakeRef(FakeRef.Node(1), "a");
    private static readonly IActorRef B = new FakeRef(FakeRef.Node(2), "b");
    private static readonly IActorRef C = new FakeRef(FakeRef.Node(3), "c");
    private static readonly IImmutableSet<string> NoneInProgress = ImmutableHashSet<string>.Empty;

    private readonly ReplicaAllocationStrategy _strategy = new();

    private static IImmutableDictionary<IActorRef, IImmutableList<string>> Allocations(params (IActorRef Region, string[] Shards)[] regions) =>
        regions.ToImmutableDictionary(r => r.Region, r => (IImmutableList<string>)r.Shards.ToImmutableList());

    private Task<IActorRef> Allocate(string shard, IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        _strategy.AllocateShard(A, shard, allocations);

    [Fact]
    public async Task A_new_replica_goes_to_the_region_with_the_fewest_replicas_of_its_model_even_if_that_region_holds_more_shards()
    {
        // B holds more shards, but none of model "m" ("m2" is another model, not a replica of "m").
        var allocations = Allocations((A, ["m#0"]), (B, ["m2#0", "m2#1", "other#0"]));

        Assert.Same(B, await Allocate("m#1", allocations));
        // For "m2" it is the other way round.
        Assert.Same(A, await Allocate("m2#2", allocations));
    }

    [Fact]
    public async Task Among_regions_with_as_many_replicas_of_the_model_the_one_with_the_fewest_shards_overall_wins()
    {
        var allocations = Allocations((A, ["m#0", "x#0"]), (B, ["m#1"]), (C, ["m#2", "x#1", "y#0"]));

        Assert.Same(B, await Allocate("m#3", allocations));
    }

    [Fact]
    public async Task A_full_tie_is_broken_by_node_address_so_every_coordinator_decides_the_same()
    {
        // The lowest address (10.0.0.1, then 10.0.0.2) wins, whatever order the regions are listed in.
        Assert.Same(A, await Allocate("m#0", Allocations((C, []), (B, []), (A, []))));
        Assert.Same(A, await Allocate("m#0", Allocations((A, []), (C, []), (B, []))));
        Assert.Same(B, await Allocate("m#0", Allocations((C, []), (B, []))));
    }

    [Fact]
    public async Task Without_any_region_the_requester_gets_the_shard()
    {
        var requester = new FakeRef(FakeRef.Node(9), "requester");

        Assert.Same(requester, await _strategy.AllocateShard(requester, "m#0", Allocations()));
    }

    [Fact]
    public async Task Allocating_replicas_one_after_another_spreads_each_model_evenly_over_the_regions()
    {
        var allocations = Allocations((A, []), (B, []), (C, []));
        // Two models interleaved, six replicas each, as a keeper would start them.
        foreach (var shard in Enumerable.Range(0, 6).SelectMany(i => new[] { $"fraud#{i}", $"churn#{i}" }))
        {
            var region = await Allocate(shard, allocations);
            allocations = allocations.SetItem(region, allocations[region].Add(shard));
        }

        foreach (var model in new[] { "fraud", "churn" })
        {
            Assert.All(allocations, a => Assert.Equal(2, a.Value.Count(s => s.StartsWith(model + "#", StringComparison.Ordinal))));
        }
    }

    [Fact]
    public async Task Rebalance_moves_the_highest_replica_of_a_region_holding_two_more_of_a_model_than_another()
    {
        var moved = await _strategy.Rebalance(Allocations((A, ["m#0", "m#2", "m#1"]), (B, [])), NoneInProgress);

        Assert.Equal(["m#2"], moved);
    }

    [Fact]
    public async Task Rebalance_counts_replicas_per_model_not_shards_per_region()
    {
        // Two shards each, but all of "a" on A and all of "b" on B: losing one node loses a whole model.
        var moved = await _strategy.Rebalance(Allocations((A, ["a#0", "a#1"]), (B, ["b#0", "b#1"])), NoneInProgress);

        Assert.Single(moved);
        Assert.Contains(moved.Single(), new[] { "a#1", "b#1" });
    }

    [Fact]
    public async Task Rebalance_moves_nothing_for_a_difference_of_one()
    {
        Assert.Empty(await _strategy.Rebalance(Allocations((A, ["m#0", "m#1"]), (B, ["m#2"]), (C, ["m#3"])), NoneInProgress));
        Assert.Empty(await _strategy.Rebalance(Allocations((A, ["m#0"]), (B, [])), NoneInProgress));
    }

    [Fact]
    public async Task Rebalance_moves_nothing_while_a_rebalance_is_in_progress_or_with_a_single_region()
    {
        var unbalanced = Allocations((A, ["m#0", "m#1", "m#2", "m#3"]), (B, []));

        Assert.Empty(await _strategy.Rebalance(unbalanced, ImmutableHashSet.Create("m#3")));
        Assert.Empty(await _strategy.Rebalance(Allocations((A, ["m#0", "m#1", "m#2", "m#3"])), NoneInProgress));
    }

    [Fact]
    public async Task Rebalance_moves_at_most_one_replica_at_a_time_even_when_several_models_are_unbalanced()
    {
        var moved = await _strategy.Rebalance(
            Allocations((A, ["a#0", "a#1", "a#2", "a#3", "b#0", "b#1", "b#2"]), (B, []), (C, [])), NoneInProgress);

        Assert.Single(moved);
    }

    [Fact]
    public async Task After_a_node_joins_repeated_rebalancing_converges_to_an_even_spread_and_then_stops()
    {
        // A and B held the replicas; C just joined with nothing.
        var allocations = Allocations((A, ["m#0", "m#2", "m#4"]), (B, ["m#1", "m#3", "m#5"]), (C, []));
        var moves = 0;
        while (true)
        {
            var moved = await _strategy.Rebalance(allocations, NoneInProgress);
            if (moved.Count == 0) break;
            Assert.True(++moves <= 6, $"still moving after 6 moves: {Describe(allocations)}");
            var shard = Assert.Single(moved);
            var from = allocations.Single(a => a.Value.Contains(shard)).Key;
            allocations = allocations.SetItem(from, allocations[from].Remove(shard));
            var to = await Allocate(shard, allocations);
            allocations = allocations.SetItem(to, allocations[to].Add(shard));
        }

        Assert.Equal(2, moves);
        Assert.All(allocations, a => Assert.Equal(2, a.Value.Count));
    }

    private static string Describe(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        string.Join("; ", allocations.Select(a => $"{a.Key.Path.Address}: {string.Join(",", a.Value)}"));
}
