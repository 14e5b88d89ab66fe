using Akka.Actor;

namespace Mlops.Stream.Actors.Placement;

/// <summary>Whether a cluster member can take requests now, and a token that fires when it no longer can.</summary>
public interface INodeLiveness
{
    Address Self { get; }

    bool IsLive(Address node);

    CancellationToken LostToken(Address node);
}
