using Akka.Actor;

namespace Mlops.Stream.Actors.Placement;

/// <summary>Whether a cluster member can take requests now, and a token that fires when it no longer can.</summary>
public interface INodeLiveness
{
    Address Self { get; }

    bool IsLive(Address node);

    CancellationToken LostToken(Address node);

    /// <summary>
    /// This node is on its way out (leaving, exiting, downed, or its actor system shutting down):
    /// nothing more should be sent through its shard region, which would buffer it and hold up the
    /// region's graceful shutdown until it times out.
    /// </summary>
    bool SelfLeaving => false;
}
