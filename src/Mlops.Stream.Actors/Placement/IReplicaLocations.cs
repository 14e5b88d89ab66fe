using Akka.Actor;

namespace Mlops.Stream.Actors.Placement;

/// <summary>Where the replicas of a model run across the cluster, as last observed (it may lag by a moment).</summary>
public interface IReplicaLocations
{
    IReadOnlyList<ReplicaLocation> Of(string model);

    /// <summary>Every replica observed, of every model.</summary>
    IReadOnlyList<ReplicaLocation> All { get; }
}

/// <summary>Replica <paramref name="Index"/> of <paramref name="Model"/> (entity <paramref name="EntityId"/>) runs on <paramref name="Node"/>.</summary>
public sealed record ReplicaLocation(string EntityId, string Model, int Index, Address Node);
