using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// Which cluster members can take requests now (up and reachable, not leaving), and a cancellation
/// token per member that fires the moment it stops being so: an ask to a replica on a member that
/// becomes unreachable, leaves or is removed is given up at once and retried elsewhere, instead of
/// waiting out its timeout.
/// </summary>
public sealed class NodeLiveness : INodeLiveness
{
    private readonly Cluster _cluster;
    private readonly CoordinatedShutdown _shutdown;
    private readonly ConcurrentDictionary<Address, CancellationTokenSource> _tokens = new();

    private NodeLiveness(ActorSystem system)
    {
        _cluster = Cluster.Get(system);
        _shutdown = CoordinatedShutdown.Get(system);
    }

    public Address Self => _cluster.SelfAddress;

    /// <summary>Raised (on an actor's thread) whenever a member joins, comes up, leaves, becomes unreachable or is removed.</summary>
    public event Action? MembershipChanged;

    /// <summary>Members that are up (or weakly up), reachable or not: the nodes that count as serving capacity until they are downed.</summary>
    public int UpMembers => _cluster.State.Members.Count(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp);

    /// <summary>Starts watching the cluster's events on <paramref name="system"/>.</summary>
    public static NodeLiveness Start(ActorSystem system)
    {
        var liveness = new NodeLiveness(system);
        system.ActorOf(Props.Create(() => new Watcher(liveness)), "node-liveness");
        return liveness;
    }

    /// <summary>
    /// Whether this node is the oldest member that is up: the one node that makes cluster-wide
    /// decisions (autoscaling), as Akka's cluster singletons are placed. During a change of oldest two
    /// nodes may both think so for a moment; decisions are written to the registry, so the worst case
    /// is one decision made twice.
    /// </summary>
    public bool IsOldest
    {
        get
        {
            var oldest = _cluster.State.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
            return oldest is not null && oldest.Address == _cluster.SelfAddress;
        }
    }

    public bool SelfLeaving =>
        _shutdown.ShutdownReason is not null
        || _cluster.SelfMember.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down or MemberStatus.Removed;

    /// <summary>Up (or weakly up), reachable from here, and not on its way out.</summary>
    public bool IsLive(Address node)
    {
        var state = _cluster.State;
        var member = state.Members.FirstOrDefault(m => m.Address == node);
        return member is { Status: MemberStatus.Up or MemberStatus.WeaklyUp }
               && !state.Unreachable.Any(u => u.Address == node);
    }

    /// <summary>Cancelled as soon as <paramref name="node"/> is no longer live (already cancelled if it is not live now).</summary>
    public CancellationToken LostToken(Address node)
    {
        var source = _tokens.GetOrAdd(node, _ => new CancellationTokenSource());
        // An event may have fired between the lookup and now: check after taking the token.
        if (!IsLive(node)) Lost(node);
        return source.Token;
    }

    private void Lost(Address node)
    {
        // Not disposed: a caller may still be reading its token; cancelled sources hold no timer.
        if (_tokens.TryRemove(node, out var source)) source.Cancel();
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(NodeLiveness liveness)
        {
            Receive<ClusterEvent.IMemberEvent>(e =>
            {
                if (e is ClusterEvent.MemberLeft or ClusterEvent.MemberExited or ClusterEvent.MemberRemoved or ClusterEvent.MemberDowned)
                    liveness.Lost(e.Member.Address);
                liveness.MembershipChanged?.Invoke();
            });
            Receive<ClusterEvent.ReachabilityEvent>(e =>
            {
                if (e is ClusterEvent.UnreachableMember) liveness.Lost(e.Member.Address);
                liveness.MembershipChanged?.Invoke();
            });
            ReceiveAny(_ => { });
        }

        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
