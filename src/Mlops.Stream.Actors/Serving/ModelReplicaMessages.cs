using Akka.Cluster.Sharding;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>Every message routed to a model replica through the shard region names its entity.</summary>
public interface IReplicaMessage
{
    string EntityId { get; }
}

/// <summary>Entity ids are <c>&lt;model&gt;#&lt;replica&gt;</c>.</summary>
public static class ReplicaId
{
    public static string For(string model, int replica = 0) => $"{model}#{replica}";

    public static (string Model, int Replica) Parse(string entityId)
    {
        var hash = entityId.LastIndexOf('#');
        if (hash <= 0 || !int.TryParse(entityId.AsSpan(hash + 1), out var replica))
            throw new ArgumentException($"A model replica id looks like '<model>#<replica>', got '{entityId}'.", nameof(entityId));
        return (entityId[..hash], replica);
    }
}

/// <summary>
/// The versions the registry's aliases ask for. The replica swaps towards them (idempotent: sent
/// again and again by the keeper; the first one also starts the entity through sharding). Not
/// answered; <see cref="GetReplicaStatus"/> shows the outcome.
/// </summary>
/// <remarks><paramref name="Pinned"/>: an operator pinned the model (<see cref="ModelAdministration.PinnedAlias"/>), so the node's model cache never evicts it.</remarks>
public sealed record SetTargets(string EntityId, int Production, CanaryTarget? Canary = null, bool AllowBreaking = false, bool Pinned = false)
    : IReplicaMessage
{
    public static SetTargets From(string entityId, ModelAliases aliases) => new(
        entityId,
        aliases.Production ?? throw new ArgumentException("A replica needs a production version.", nameof(aliases)),
        aliases.Canary is { Version: var version, Weight: > 0 and var weight } && version != aliases.Production
            ? new CanaryTarget(version, weight)
            : null,
        // A forced promotion (the admin API's "breaking" alias) may change inputs and outputs.
        aliases.Resolve(ModelAdministration.BreakingAlias) is { } breaking && breaking == aliases.Production,
        aliases.Resolve(ModelAdministration.PinnedAlias) is not null);
}

/// <summary>The model is no longer served (undeployed): the replica drains its stream and passivates.</summary>
public sealed record RetireReplica(string EntityId) : IReplicaMessage;

/// <summary>Ask for the replica's state; answered with <see cref="ReplicaStatus"/>.</summary>
public sealed record GetReplicaStatus(string EntityId) : IReplicaMessage;

/// <summary>One synchronous inference (HTTP path); answered with an <see cref="InferReply"/>.</summary>
public sealed record Infer(string EntityId, int? Version, byte[] RequestJson) : IReplicaMessage;

/// <summary>
/// Sharding's hand-off stop message for replicas (shard moved, node leaving, host stopping): drain
/// the Kafka stream, so every request it took is finished and committed, then stop.
/// </summary>
public sealed class StopReplica
{
    public static readonly StopReplica Instance = new();
    private StopReplica() { }
}

public sealed record ReplicaStatus(string EntityId, ReplicaState State, int? ServingVersion, string? Reason, ModelSignature? Signature)
{
    /// <summary>The version kept loaded for an instant rollback, if any.</summary>
    public int? PreviousVersion { get; init; }

    /// <summary>The version being loaded and warmed to replace the serving one, if any.</summary>
    public int? SwappingTo { get; init; }

    public SwapRecord? LastSwap { get; init; }

    /// <summary>The last automatic canary rollback (From = the canary version, To = production).</summary>
    public SwapRecord? LastCanaryRollback { get; init; }

    /// <summary>The canary statistics the guard judged last (null when no guard or no canary).</summary>
    public VersionStats? LastGuardCheck { get; init; }

    /// <summary>The canary version serving its share of requests, and that share.</summary>
    public CanaryTarget? Canary { get; init; }

    /// <summary>Requests served and failed, and latency, per version since the replica started.</summary>
    public IReadOnlyList<VersionStats> Versions { get; init; } = [];

    /// <summary>The Kafka serving stream's health; null when the replica has no Kafka stream.</summary>
    public KafkaStreamStatus? KafkaStream { get; init; }

    /// <summary>Requests waiting in the replica's batcher queues (production and canary), not yet in a batch.</summary>
    public int QueueDepth { get; init; }

    /// <summary>
    /// Whether the production session is in memory. A ready replica that is not loaded was checked
    /// (sha256, signature) but has no session: the node's memory budget had no room for it, or it was
    /// evicted; its next request loads it (a cold start).
    /// </summary>
    public bool Loaded { get; init; }

    /// <summary>Never evicted from the node's model cache (an operator pinned the model).</summary>
    public bool Pinned { get; init; }

    /// <summary>ONNX sessions this replica has released after swaps (exposed so tests and operators see old versions go away).</summary>
    public int DisposedSessions { get; init; }
}

/// <summary>
/// Each replica is its own shard (shard id = entity id), so the allocation strategy places replicas
/// one by one and can keep the replicas of a model on different nodes (see <see cref="Placement.ReplicaAllocationStrategy"/>).
/// </summary>
public sealed class ReplicaMessageExtractor : IMessageExtractor
{
    public string EntityId(object message) => message switch
    {
        IReplicaMessage m => m.EntityId,
        _ => null!,
    };

    public object EntityMessage(object message) => message;

    public string ShardId(object message) => message switch
    {
        IReplicaMessage m => m.EntityId,
        _ => null!,
    };

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
