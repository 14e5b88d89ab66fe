using Mlops.Stream.Actors.Batching;
using Mlops.Stream.Actors.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// What the HTTP edge may ask of the serving side. It sees no actors, no ONNX types and no Kafka:
/// the host implements this over the model replicas' shard region and the registry.
/// </summary>
public interface IInferenceGateway
{
    /// <summary>
    /// Runs one Open Inference Protocol v2 request (its JSON body) on the model's production or
    /// canary version, or on <paramref name="version"/> when given, through the same batcher the
    /// Kafka path uses. Never throws for a bad request or a busy model: the reply says what happened.
    /// </summary>
    Task<InferReply> InferAsync(string model, int? version, ReadOnlyMemory<byte> requestJson, CancellationToken cancellationToken);

    /// <summary>The model's metadata and serving state, or null if the registry does not know it.</summary>
    Task<ModelStatus?> GetModelAsync(string model, CancellationToken cancellationToken);

    /// <summary>Every model in the registry with its serving state.</summary>
    Task<IReadOnlyList<ModelStatus>> ListModelsAsync(CancellationToken cancellationToken);
}

/// <summary>The outcome of one synchronous inference. Exactly one case applies.</summary>
public abstract record InferReply
{
    private InferReply() { }

    /// <summary>Served: the v2 response body (UTF-8 JSON) and the version that served it.</summary>
    public sealed record Served(byte[] ResponseJson, int Version) : InferReply;

    /// <summary>The request itself is wrong (HTTP 400, Kafka dead letter).</summary>
    public sealed record Invalid(InferenceError Error) : InferReply;

    /// <summary>The model or version does not exist (HTTP 404).</summary>
    public sealed record NotFound(string Message) : InferReply;

    /// <summary>The model exists but has no loaded version right now: loading, failed, undeployed (HTTP 503).</summary>
    public sealed record NotReady(string Message) : InferReply;

    /// <summary>Refused by the batcher: queue full (HTTP 429), shutting down (503) or the model failed on the batch (500).</summary>
    public sealed record Rejected(BatchRejection Rejection) : InferReply;

    /// <summary>No answer in time (HTTP 504). The request may still run.</summary>
    public sealed record TimedOut(string Message) : InferReply;
}

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
}

/// <summary>
/// A replica's Kafka serving stream: running or waiting to restart, how often it restarted, and
/// the last failure (naming the request record when one caused it).
/// </summary>
public sealed record KafkaStreamStatus(bool Running, int Restarts, int ConsecutiveFailures, string? LastFailure, DateTimeOffset? LastFailureAt)
{
    /// <summary>It failed again soon after being restarted: it keeps failing, and the model is not ready.</summary>
    public bool FailingRepeatedly => ConsecutiveFailures >= 2;
}
