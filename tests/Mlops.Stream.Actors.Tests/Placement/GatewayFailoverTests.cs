using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Mlops.Stream.Actors.Placement;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Placement;

/// <summary>
/// Issue 10, HTTP routing: a request forwarded to a replica on another node is retried on the next
/// replica as soon as that node is lost (unreachable, leaving), within the caller's deadline, instead
/// of waiting the deadline out; a not-ready replica also hands the request on.
/// </summary>
public sealed class GatewayFailoverTests : TestKit
{
    private const string Model = DemoModelBuilder.DefaultModelName;
    private static readonly Address Self = FakeRef.Node(1);
    private static readonly Address Lost = FakeRef.Node(2);
    private static readonly Address Alive = FakeRef.Node(3);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _folder = new("mlops-gateway-failover-");
    private readonly Liveness _liveness = new(Self);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _folder.Dispose();
    }

    [Fact]
    public async Task A_request_whose_replica_node_is_lost_is_answered_by_the_next_replica_instead_of_timing_out()
    {
        // Replica 0's node swallows the request (as a node that just died does); replica 1 answers.
        var swallowed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (gateway, id) = await GatewayAsync(region: Sys.ActorOf(Props.Create(() => new Region("silent", "serve", swallowed))));
        // The node is lost while the request waits on it: the cluster's events fire its token.
        var lose = swallowed.Task.ContinueWith(_ => _liveness.Lose(Lost), TaskScheduler.Default);

        var reply = await gateway.InferAsync(Model, null, Body(id), CancellationToken.None);
        await lose;

        // Served by replica 1, not timed out: the ask to replica 0 was given up when its node was lost.
        var served = Assert.IsType<InferReply.Served>(reply);
        Assert.Equal($"{Model}#1", Encoding.UTF8.GetString(served.ResponseJson));
    }

    [Fact]
    public async Task A_replica_that_is_not_ready_hands_the_request_to_the_next_one()
    {
        var (gateway, id) = await GatewayAsync(region: Sys.ActorOf(Props.Create(() => new Region("not-ready", "serve", null))));

        var reply = await gateway.InferAsync(Model, null, Body(id), CancellationToken.None);

        Assert.Equal($"{Model}#1", Encoding.UTF8.GetString(Assert.IsType<InferReply.Served>(reply).ResponseJson));
    }

    [Fact]
    public async Task Without_a_lost_node_a_silent_replica_is_waited_for_until_the_deadline()
    {
        var (gateway, id) = await GatewayAsync(region: Sys.ActorOf(Props.Create(() => new Region("silent", "serve", null))),
            deadline: TimeSpan.FromMilliseconds(500));

        var reply = await gateway.InferAsync(Model, null, Body(id), CancellationToken.None);

        Assert.IsType<InferReply.TimedOut>(reply);
    }

    /// <summary>
    /// A gateway on node 1 for the demo model with replica 0 on node 2 and replica 1 on node 3, and a
    /// request id that the directory sends to replica 0 first.
    /// </summary>
    private async Task<(ShardedInferenceGateway Gateway, string RequestId)> GatewayAsync(IActorRef region, TimeSpan? deadline = null)
    {
        var registry = new FolderModelRegistry(_folder.Path);
        await DemoModelBuilder.CreateAsync(registry);
        var plan = new ReplicaPlan();
        plan.Set(new Dictionary<string, int> { [Model] = 2 });
        var locations = new Locations([new ReplicaLocation($"{Model}#0", Model, 0, Lost), new ReplicaLocation($"{Model}#1", Model, 1, Alive)]);
        var directory = new ReplicaDirectory(new LocalReplicas(), locations, plan, _liveness);
        var id = Enumerable.Range(0, 100).Select(i => $"tx-{i}")
            .First(candidate => directory.ForInference(Model, candidate)[0].EntityId == $"{Model}#0");
        return (new ShardedInferenceGateway(region, new ServedModels(registry), registry, deadline ?? Deadline, directory), id);
    }

    private static byte[] Body(string id) => Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","inputs":[]}""");

    /// <summary>
    /// Stands in for the shard region: replica 0 behaves as <c>first</c> says (<c>silent</c>: never
    /// answers, and says so through <c>swallowed</c>; <c>not-ready</c>: answers NotReady), replica 1
    /// serves, answering with its entity id.
    /// </summary>
    private sealed class Region : ReceiveActor
    {
        public Region(string first, string second, TaskCompletionSource? swallowed)
        {
            Receive<Infer>(infer =>
            {
                var behaviour = infer.EntityId.EndsWith("#0", StringComparison.Ordinal) ? first : second;
                if (behaviour == "not-ready") Sender.Tell(new InferReply.NotReady("loading"));
                else if (behaviour == "serve") Sender.Tell(new InferReply.Served(Encoding.UTF8.GetBytes(infer.EntityId), 1));
                else swallowed?.TrySetResult();
            });
        }
    }

    private sealed class Locations(IReadOnlyList<ReplicaLocation> replicas) : IReplicaLocations
    {
        public IReadOnlyList<ReplicaLocation> Of(string model) => [.. replicas.Where(r => r.Model == model)];

        public IReadOnlyList<ReplicaLocation> All => replicas;
    }

    /// <summary>Every node live until <see cref="Lose"/>, which fires its token as the cluster's events would.</summary>
    private sealed class Liveness(Address self) : INodeLiveness
    {
        private readonly Dictionary<Address, CancellationTokenSource> _tokens = [];
        private readonly HashSet<Address> _lost = [];

        public Address Self => self;

        public bool IsLive(Address node)
        {
            lock (_lost) return !_lost.Contains(node);
        }

        public CancellationToken LostToken(Address node)
        {
            lock (_lost)
            {
                if (!_tokens.TryGetValue(node, out var source)) _tokens[node] = source = new CancellationTokenSource();
                if (_lost.Contains(node)) source.Cancel();
                return source.Token;
            }
        }

        public void Lose(Address node)
        {
            lock (_lost)
            {
                _lost.Add(node);
                if (_tokens.TryGetValue(node, out var source)) source.Cancel();
            }
        }
    }
}
