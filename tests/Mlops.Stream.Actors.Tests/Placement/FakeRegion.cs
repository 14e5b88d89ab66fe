using Akka.Actor;

namespace Mlops.Stream.Actors.Tests.Placement;

/// <summary>
/// An actor reference that only has a path: a shard region (or a replica) on the node at
/// <paramref name="node"/>, with no actor system behind it. Messages told to it are dropped.
/// </summary>
internal sealed class FakeRef(Address node, string name) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(node) / "system" / "sharding" / name;

    public override IActorRefProvider Provider => throw new NotSupportedException("a fake reference has no provider");

    public static Address Node(int n) => new("akka.tcp", "mlops", $"10.0.0.{n}", 4053);
}
