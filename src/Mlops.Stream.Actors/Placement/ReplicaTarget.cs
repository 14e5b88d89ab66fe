using Akka.Actor;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// One replica to try: <paramref name="Local"/> is its actor on this node (asked directly);
/// otherwise it is asked through the shard region, and <paramref name="Node"/>, when known, is where
/// it runs, so the ask can be given up when that node is lost.
/// </summary>
public sealed record ReplicaTarget(string EntityId, IActorRef? Local, Address? Node);
