using System.Text;
using Akka.Actor;
using Mlops.Stream.Actors.Placement;

namespace Mlops.Stream.Actors.Tests.Placement;

/// <summary>
/// Which replicas an HTTP request is sent to, in order: this node's serving replica first, then
/// replicas on other live nodes inside the model's plan, by rendezvous hash of the request id.
/// </summary>
public sealed class ReplicaDirectoryTests
{
    private const string Model = "fraud";
    private static readonly Address Self = FakeRef.Node(1);
    private static readonly Address Two = FakeRef.Node(2);
    private static readonly Address Three = FakeRef.Node(3);
    private static readonly Address Four = FakeRef.Node(4);

    private readonly LocalReplicas _local = new();
    private readonly FakeLocations _locations = new();
    private readonly ReplicaPlan _plan = new();
    private readonly FakeLiveness _liveness = new(Self);
    private readonly ReplicaDirectory _directory;

    public ReplicaDirectoryTests()
    {
        _directory = new ReplicaDirectory(_local, _locations, _plan, _liveness);
    }

    private static IEnumerable<string> Ids(int count) => Enumerable.Range(0, count).Select(i => $"req-{i}");

    /// <summary>Replica <paramref name="index"/> of the model runs on <paramref name="node"/>.</summary>
    private void Remote(int index, Address node, string model = Model) =>
        _locations.Replicas.Add(new ReplicaLocation($"{model}#{index}", model, index, node));

    /// <summary>Replica <paramref name="index"/> runs on this node, registered locally (ready or not) and observed there.</summary>
    private IActorRef Local(int index, bool ready = true)
    {
        var entityId = $"{Model}#{index}";
        var actor = new FakeRef(Self, entityId);
        _local.Add(entityId, Model, actor);
        _local.SetReady(entityId, ready);
        Remote(index, Self);
        return actor;
    }

    /// <summary>Three replicas on three other nodes, all in the plan.</summary>
    private void ThreeRemoteReplicas()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 3 });
        Remote(0, Two);
        Remote(1, Three);
        Remote(2, Four);
    }

    [Fact]
    public void A_ready_replica_on_this_node_is_always_tried_first_and_asked_directly()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 3 });
        Remote(0, Two);
        var local = Local(1);
        Remote(2, Three);

        foreach (var id in Ids(200))
        {
            var targets = _directory.ForInference(Model, id);

            Assert.Equal(("fraud#1", local, null), (targets[0].EntityId, targets[0].Local, targets[0].Node));
            Assert.Equal(["fraud#0", "fraud#2"], targets.Skip(1).Select(t => t.EntityId).Order());
            Assert.All(targets.Skip(1), t => Assert.Null(t.Local));
        }
    }

    [Fact]
    public void Every_ready_local_replica_comes_before_every_remote_one()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 4 });
        Local(0);
        Remote(1, Two);
        Local(2);
        Remote(3, Three);

        var firsts = new HashSet<string>();
        foreach (var id in Ids(200))
        {
            var targets = _directory.ForInference(Model, id);
            Assert.Equal(["fraud#0", "fraud#2"], targets.Take(2).Select(t => t.EntityId).Order());
            Assert.All(targets.Take(2), t => Assert.NotNull(t.Local));
            Assert.All(targets.Skip(2), t => Assert.Null(t.Local));
            firsts.Add(targets[0].EntityId);
        }

        // Requests spread over both local replicas too.
        Assert.Equal(["fraud#0", "fraud#2"], firsts.Order());
    }

    [Fact]
    public void A_local_replica_that_does_not_serve_yet_is_not_chosen_here_nor_through_sharding()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 2 });
        Local(0, ready: false);
        Remote(1, Two);

        var targets = _directory.ForInference(Model, "req-1");

        Assert.Equal([("fraud#1", (IActorRef?)null, (Address?)Two)], targets.Select(t => (t.EntityId, t.Local, t.Node)));

        _local.SetReady("fraud#0", true);
        Assert.Equal("fraud#0", _directory.ForInference(Model, "req-1")[0].EntityId);
    }

    [Fact]
    public void Remote_targets_name_the_node_they_run_on()
    {
        ThreeRemoteReplicas();

        var targets = _directory.ForInference(Model, "req-1");

        Assert.Equal(3, targets.Count);
        var expected = new Dictionary<string, Address> { ["fraud#0"] = Two, ["fraud#1"] = Three, ["fraud#2"] = Four };
        Assert.All(targets, t => Assert.Equal(expected[t.EntityId], t.Node));
    }

    [Fact]
    public void A_replica_on_a_node_that_is_not_live_is_never_chosen()
    {
        ThreeRemoteReplicas();
        _liveness.NotLive.Add(Three);

        foreach (var id in Ids(300))
        {
            var targets = _directory.ForInference(Model, id);
            Assert.DoesNotContain(targets, t => t.EntityId == "fraud#1" || t.Node == Three);
            Assert.Equal(2, targets.Count);
        }
    }

    [Fact]
    public void A_replica_outside_the_plan_is_not_chosen_on_another_node()
    {
        ThreeRemoteReplicas();
        _plan.Set(new Dictionary<string, int> { [Model] = 2 });   // fraud#2 is being retired

        foreach (var id in Ids(300))
        {
            Assert.Equal(["fraud#0", "fraud#1"], _directory.ForInference(Model, id).Select(t => t.EntityId).Order());
        }
    }

    [Fact]
    public void Before_the_first_plan_only_replica_0_is_chosen_remotely()
    {
        Remote(0, Two);
        Remote(1, Three);

        Assert.Equal(["fraud#0"], _directory.ForInference(Model, "req-1").Select(t => t.EntityId));
    }

    [Fact]
    public void With_nothing_known_or_nothing_live_the_request_goes_to_replica_0_through_sharding()
    {
        var fallback = Assert.Single(_directory.ForInference(Model, "req-1"));
        Assert.Equal(("fraud#0", null, null), (fallback.EntityId, fallback.Local, fallback.Node));

        ThreeRemoteReplicas();
        _liveness.NotLive.UnionWith([Two, Three, Four]);
        fallback = Assert.Single(_directory.ForInference(Model, "req-1"));
        Assert.Equal(("fraud#0", null, null), (fallback.EntityId, fallback.Local, fallback.Node));

        // Another model's replicas are not this model's.
        _liveness.NotLive.Clear();
        Assert.Equal("churn#0", Assert.Single(_directory.ForInference("churn", "req-1")).EntityId);
    }

    [Fact]
    public void The_same_request_id_goes_to_the_same_replica_every_time()
    {
        ThreeRemoteReplicas();
        var other = new ReplicaDirectory(new LocalReplicas(), _locations, _plan, _liveness);

        foreach (var id in Ids(200))
        {
            var first = _directory.ForInference(Model, id).Select(t => t.EntityId).ToList();
            Assert.Equal(first, _directory.ForInference(Model, id).Select(t => t.EntityId));
            // Another node's directory (same replicas) orders them the same way.
            Assert.Equal(first, other.ForInference(Model, id).Select(t => t.EntityId));
        }
    }

    [Fact]
    public void Different_request_ids_spread_over_the_replicas()
    {
        ThreeRemoteReplicas();

        var counts = Ids(1000).GroupBy(id => _directory.ForInference(Model, id)[0].EntityId).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(["fraud#0", "fraud#1", "fraud#2"], counts.Keys.Order());
        Assert.All(counts, c => Assert.InRange(c.Value, 200, 470));
    }

    [Fact]
    public void Losing_a_replica_moves_only_the_ids_that_went_to_it()
    {
        ThreeRemoteReplicas();
        var before = Ids(1000).ToDictionary(id => id, id => _directory.ForInference(Model, id)[0].EntityId);

        _liveness.NotLive.Add(Three);   // fraud#1's node is lost
        var after = Ids(1000).ToDictionary(id => id, id => _directory.ForInference(Model, id)[0].EntityId);

        var moved = before.Keys.Where(id => before[id] != after[id]).ToList();
        Assert.NotEmpty(moved);
        Assert.All(moved, id => Assert.Equal("fraud#1", before[id]));
        Assert.Equal(before.Count(b => b.Value == "fraud#1"), moved.Count);
        // Where they go is the replica they would have tried next.
        _liveness.NotLive.Clear();
        foreach (var id in moved)
        {
            Assert.Equal(_directory.ForInference(Model, id)[1].EntityId, after[id]);
        }
    }

    [Fact]
    public void Status_asks_this_nodes_replicas_first_serving_ones_first_then_the_others_by_index()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 4 });
        Remote(3, Two);
        Local(0, ready: false);
        Remote(1, Three);
        Local(2);

        var targets = _directory.ForStatus(Model);

        Assert.Equal(["fraud#2", "fraud#0", "fraud#1", "fraud#3"], targets.Select(t => t.EntityId));
        Assert.All(targets.Take(2), t => Assert.NotNull(t.Local));
        Assert.Equal([Three, Two], targets.Skip(2).Select(t => t.Node));
        Assert.Equal("churn#0", Assert.Single(_directory.ForStatus("churn")).EntityId);
    }

    [Fact]
    public void All_lists_every_observed_replica_by_index_with_whether_it_is_local_and_reachable()
    {
        _plan.Set(new Dictionary<string, int> { [Model] = 2 });
        Remote(2, Three);             // outside the plan: still listed
        var local = Local(1, ready: false);
        Remote(0, Two);
        _liveness.NotLive.Add(Three);

        var all = _directory.All(Model);

        Assert.Equal([0, 1, 2], all.Select(r => r.Location.Index));
        Assert.Equal([(false, true), (true, true), (false, false)], all.Select(r => (r.Local, r.Reachable)));
        Assert.Same(local, all[1].Target.Local);
        Assert.Equal([Two, null, Three], all.Select(r => r.Target.Node));
        Assert.Empty(_directory.All("churn"));
    }

    [Fact]
    public void A_stopped_local_replica_leaves_the_directory_but_a_newer_registration_of_it_stays()
    {
        var first = _local.Add("fraud#0", Model, new FakeRef(Self, "first"));
        var second = new FakeRef(Self, "second");
        var again = _local.Add("fraud#0", Model, second);
        _local.SetReady("fraud#0", true);

        first.Dispose();   // the old incarnation stops after the new one registered
        Assert.Same(second, _directory.ForInference(Model, "req-1")[0].Local);

        again.Dispose();
        Assert.Null(_directory.ForInference(Model, "req-1")[0].Local);
    }

    [Theory]
    [InlineData("""{"id":"abc","inputs":[]}""", "abc")]
    [InlineData("""{"inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[1,2]}],"id":"after-inputs"}""", "after-inputs")]
    [InlineData("""{"parameters":{"id":"nested"},"inputs":[{"id":"in-input"}],"id":"top"}""", "top")]
    [InlineData("""{"\u0069d":"escaped"}""", "escaped")]
    public void The_routing_key_is_the_top_level_id_wherever_it_comes(string json, string expected)
    {
        Assert.Equal(expected, ReplicaDirectory.RoutingKey(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"parameters":{"id":"nested"},"inputs":[]}""")]
    [InlineData("""{"inputs":[{"id":"in-input"}]}""")]
    [InlineData("""{"id":42,"inputs":[]}""")]
    [InlineData("""{"inputs":[1,2""")]
    [InlineData("not json")]
    [InlineData("")]
    public void Without_a_top_level_string_id_the_routing_key_is_random(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var keys = Enumerable.Range(0, 5).Select(_ => ReplicaDirectory.RoutingKey(bytes)).ToList();

        Assert.All(keys, k => Assert.True(int.TryParse(k, out _), $"'{k}' is not a random number"));
        Assert.True(keys.Distinct().Count() > 1, $"the same key every time: {keys[0]}");
    }

    private sealed class FakeLocations : IReplicaLocations
    {
        public List<ReplicaLocation> Replicas { get; } = [];

        public IReadOnlyList<ReplicaLocation> Of(string model) => [.. Replicas.Where(r => r.Model == model)];

        public IReadOnlyList<ReplicaLocation> All => Replicas;
    }

    private sealed class FakeLiveness(Address self) : INodeLiveness
    {
        public HashSet<Address> NotLive { get; } = [];

        public Address Self => self;

        public bool IsLive(Address node) => !NotLive.Contains(node);

        public CancellationToken LostToken(Address node) => new(canceled: NotLive.Contains(node));
    }
}
