using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Gateway;

/// <summary>Replica serving states, one by one (Triton's model states).</summary>
public enum ReplicaState
{
    /// <summary>No replica runs for the model (no production alias, or undeployed).</summary>
    NotServing,
    /// <summary>Loading and warming a version; requests get NotReady.</summary>
    Loading,
    /// <summary>A version is loaded and warmed; requests are served.</summary>
    Ready,
    /// <summary>Loading failed; <see cref="ModelStatus.Reason"/> says why.</summary>
    Failed,
}

/// <summary>One model as the registry and its replica see it.</summary>
public sealed record ModelStatus(
    string Name,
    IReadOnlyList<int> Versions,
    int? ProductionVersion,
    int? ServingVersion,
    ReplicaState State,
    string? Reason,
    ModelSignature? Signature,
    string Platform = "onnxruntime_onnx")
{
    /// <summary>The canary a replica serves beside production, with its share of requests.</summary>
    public CanaryTarget? Canary { get; init; }

    /// <summary>The version kept warm for an instant rollback.</summary>
    public int? PreviousVersion { get; init; }

    /// <summary>The last swap attempt (version change) of the replica, successful or refused.</summary>
    public SwapRecord? LastSwap { get; init; }

    /// <summary>Requests served and failed, and latency, per version.</summary>
    public IReadOnlyList<VersionStats> VersionStats { get; init; } = [];

    /// <summary>The replica's Kafka serving stream; null when the node serves without Kafka or no replica answered.</summary>
    public KafkaStreamStatus? KafkaStream { get; init; }

    /// <summary>The replica that answered for the model (<c>&lt;model&gt;#&lt;n&gt;</c>): this node's own when it has one.</summary>
    public string? Replica { get; init; }

    /// <summary>Whether that replica holds a session now; a ready model that is not loaded loads on its next request (the node's memory budget).</summary>
    public bool Loaded { get; init; }

    /// <summary>An operator pinned the model: the nodes' model caches never evict it.</summary>
    public bool Pinned { get; init; }
}

/// <summary>
/// A replica's Kafka serving stream: running or waiting to restart, how often it restarted, and
/// the last failure (naming the request record when one caused it).
/// </summary>
public sealed record KafkaStreamStatus(bool Running, int Restarts, int ConsecutiveFailures, string? LastFailure, DateTimeOffset? LastFailureAt)
{
    /// <summary>It failed again soon after being restarted: it keeps failing, and the model is not ready.</summary>
    public bool FailingRepeatedly => ConsecutiveFailures >= 2;

    /// <summary>The request topic's partitions this replica consumes now (the group divides them among the replicas).</summary>
    public IReadOnlyList<int> Partitions { get; init; } = [];

    /// <summary>Records behind on those partitions, as last measured; null before the first measurement.</summary>
    public long? Lag { get; init; }

    /// <summary>
    /// Why the stream has not started yet when Kafka does not answer (its topics could not be made
    /// sure of); the replica serves HTTP meanwhile and retries. Null once the stream runs.
    /// </summary>
    public string? WaitingForKafka { get; init; }
}

/// <summary>A canary version and the share of request ids (0..1) it serves.</summary>
public sealed record CanaryTarget(int Version, double Weight);

/// <summary>The outcome of the last swap attempt.</summary>
public sealed record SwapRecord(int? From, int To, DateTimeOffset At, bool Succeeded, string? Reason);

/// <summary>One version's counts and latency (queue + inference) as a replica saw them.</summary>
public sealed record VersionStats(int Version, long Served, long Failed, double P50Ms, double P99Ms)
{
    public long Total => Served + Failed;
    public double ErrorRate => Total == 0 ? 0 : (double)Failed / Total;
}

/// <summary>
/// One replica of a model as an operator sees it: where it runs, whether that is this node, and
/// what it said when asked (<paramref name="State"/> null: it did not answer in time, or its node
/// is unreachable).
/// </summary>
public sealed record ReplicaInfo(string Replica, int Index, string Node, bool Local, bool Reachable, ReplicaState? State)
{
    public int? ServingVersion { get; init; }
    public string? Reason { get; init; }
    public KafkaStreamStatus? KafkaStream { get; init; }

    /// <summary>Requests waiting in the replica's batcher queues.</summary>
    public int? QueueDepth { get; init; }

    /// <summary>Inside the model's plan (its index is below the replica count); false for a replica being retired.</summary>
    public bool Planned { get; init; } = true;

    /// <summary>Whether the replica holds a session now (see <see cref="ModelStatus.Loaded"/>); null when it did not answer.</summary>
    public bool? Loaded { get; init; }
}
