using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>
/// One model in <c>/api/v1/models</c>: registry versions, the production alias, the version a
/// replica serves and its state (<c>not_serving</c>, <c>loading</c>, <c>ready</c>, <c>failed</c>;
/// see <see cref="ModelStates"/>) with the reason for the last two when there is one.
/// </summary>
public sealed record ModelSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<int> Versions,
    [property: JsonPropertyName("production_version")] int? ProductionVersion,
    [property: JsonPropertyName("serving_version")] int? ServingVersion,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string? Reason)
{
    [JsonPropertyName("canary")] public CanarySummary? Canary { get; init; }
    [JsonPropertyName("previous_version")] public int? PreviousVersion { get; init; }
    [JsonPropertyName("last_swap")] public SwapSummary? LastSwap { get; init; }
    [JsonPropertyName("version_stats")] public IReadOnlyList<VersionStatsSummary> VersionStats { get; init; } = [];
    [JsonPropertyName("kafka_stream")] public KafkaStreamSummary? KafkaStream { get; init; }

    /// <summary>The replica that answered (<c>&lt;model&gt;#&lt;n&gt;</c>): the node's own when it has one.</summary>
    [JsonPropertyName("replica"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Replica { get; init; }

    /// <summary>Whether the answering replica holds a session; a ready model that is not loaded loads on its next request.</summary>
    [JsonPropertyName("loaded")] public bool Loaded { get; init; }

    /// <summary>Never evicted by the nodes' model caches.</summary>
    [JsonPropertyName("pinned")] public bool Pinned { get; init; }

    public static ModelSummary From(ModelStatus status) => new(
        status.Name,
        status.Versions,
        status.ProductionVersion,
        status.ServingVersion,
        ModelStates.ToWireName(status.State),
        status.Reason)
    {
        Canary = status.Canary is { } canary ? new CanarySummary(canary.Version, canary.Weight) : null,
        PreviousVersion = status.PreviousVersion,
        LastSwap = status.LastSwap is { } swap ? new SwapSummary(swap.From, swap.To, swap.At, swap.Succeeded, swap.Reason) : null,
        VersionStats = status.VersionStats.Select(v => new VersionStatsSummary(v.Version, v.Served, v.Failed, v.P50Ms, v.P99Ms)).ToList(),
        KafkaStream = status.KafkaStream is { } stream
            ? new KafkaStreamSummary(stream.Running, stream.Restarts, stream.FailingRepeatedly, stream.LastFailure, stream.LastFailureAt)
            {
                Partitions = stream.Partitions,
                Lag = stream.Lag,
                WaitingForKafka = stream.WaitingForKafka,
            }
            : null,
        Replica = status.Replica,
        Loaded = status.Loaded,
        Pinned = status.Pinned,
    };
}

/// <summary>
/// One replica in <c>/api/v1/models/{model}/replicas</c>: its entity id and index, the node it runs
/// on (and whether that is the node asked), its state (<c>unknown</c> when it did not answer or its
/// node is unreachable), the version it serves, and the partitions it consumes with their lag.
/// </summary>
public sealed record ReplicaSummary(
    [property: JsonPropertyName("replica")] string Replica,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("local")] bool Local,
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("serving_version")] int? ServingVersion,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("partitions")] IReadOnlyList<int> Partitions,
    [property: JsonPropertyName("lag")] long? Lag)
{
    public const string UnknownState = "unknown";

    /// <summary>Requests waiting in the replica's batcher queues; null when it did not answer.</summary>
    [JsonPropertyName("queue_depth")] public int? QueueDepth { get; init; }

    /// <summary>Inside the model's plan; false while a replica beyond the replica count is being retired.</summary>
    [JsonPropertyName("planned")] public bool Planned { get; init; } = true;

    /// <summary>Whether the replica holds a session now; null when it did not answer.</summary>
    [JsonPropertyName("loaded")] public bool? Loaded { get; init; }

    public static ReplicaSummary From(ReplicaInfo replica) => new(
        replica.Replica, replica.Index, replica.Node, replica.Local, replica.Reachable,
        replica.State is { } state ? ModelStates.ToWireName(state) : UnknownState,
        replica.ServingVersion, replica.Reason, replica.KafkaStream?.Partitions ?? [], replica.KafkaStream?.Lag)
    {
        QueueDepth = replica.QueueDepth,
        Planned = replica.Planned,
        Loaded = replica.Loaded,
    };
}

public sealed record CanarySummary([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("weight")] double Weight);

public sealed record SwapSummary(
    [property: JsonPropertyName("from")] int? From,
    [property: JsonPropertyName("to")] int To,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("succeeded")] bool Succeeded,
    [property: JsonPropertyName("reason")] string? Reason);

public sealed record VersionStatsSummary(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("served")] long Served,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("p50_ms")] double P50Ms,
    [property: JsonPropertyName("p99_ms")] double P99Ms);

/// <summary>The replica's Kafka serving stream: running, restarts, whether it keeps failing, and the last failure.</summary>
public sealed record KafkaStreamSummary(
    [property: JsonPropertyName("running")] bool Running,
    [property: JsonPropertyName("restarts")] int Restarts,
    [property: JsonPropertyName("failing")] bool Failing,
    [property: JsonPropertyName("last_failure")] string? LastFailure,
    [property: JsonPropertyName("last_failure_at")] DateTimeOffset? LastFailureAt)
{
    /// <summary>The request topic's partitions the replica consumes now.</summary>
    [JsonPropertyName("partitions")] public IReadOnlyList<int> Partitions { get; init; } = [];

    /// <summary>Records behind on those partitions, as last measured.</summary>
    [JsonPropertyName("lag")] public long? Lag { get; init; }

    /// <summary>Why the stream waits to start (Kafka does not answer); absent once it runs.</summary>
    [JsonPropertyName("waiting_for_kafka"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WaitingForKafka { get; init; }
}

/// <summary>
/// <c>GET /api/v1/model-cache</c>: the node's loaded models against its memory budget. <c>loaded</c> and
/// <c>loaded_bytes</c> count what holds memory (loaded, loading, or still unloading), never above
/// <c>max_loaded</c> and <c>budget_bytes</c> (null: no limit); bytes are estimates (2 x the ONNX file + 1 MiB).
/// </summary>
public sealed record ModelCacheResponse(
    [property: JsonPropertyName("budget_bytes")] long? BudgetBytes,
    [property: JsonPropertyName("max_loaded")] int? MaxLoaded,
    [property: JsonPropertyName("loaded")] int Loaded,
    [property: JsonPropertyName("loaded_bytes")] long LoadedBytes,
    [property: JsonPropertyName("replicas")] int Replicas,
    [property: JsonPropertyName("pinned")] int Pinned,
    [property: JsonPropertyName("loads")] long Loads,
    [property: JsonPropertyName("evictions")] long Evictions,
    [property: JsonPropertyName("waiting_loads")] int WaitingLoads,
    [property: JsonPropertyName("peak_loaded")] int PeakLoaded,
    [property: JsonPropertyName("peak_loaded_bytes")] long PeakLoadedBytes,
    [property: JsonPropertyName("models")] IReadOnlyList<ModelCacheEntrySummary> Models)
{
    public static ModelCacheResponse From(Mlops.Stream.Inference.Caching.ModelCache cache)
    {
        var s = cache.Summary();
        return new(s.BudgetBytes, s.MaxLoaded, s.Reserved, s.ReservedBytes, s.Replicas, s.Pinned, s.Loads, s.Evictions, s.WaitingLoads,
            s.PeakReserved, s.PeakReservedBytes,
            [.. cache.Entries().Select(e => new ModelCacheEntrySummary(e.Name, e.State, e.Bytes, e.InFlight, e.Pinned, e.Loads, e.Evictions))]);
    }
}

/// <summary>One replica on the node, most recently used first: <c>unloaded</c>, <c>reserved</c> (loading), <c>loaded</c> or <c>evicting</c>.</summary>
public sealed record ModelCacheEntrySummary(
    [property: JsonPropertyName("replica")] string Replica,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("in_flight")] int InFlight,
    [property: JsonPropertyName("pinned")] bool Pinned,
    [property: JsonPropertyName("loads")] int Loads,
    [property: JsonPropertyName("evictions")] int Evictions);
