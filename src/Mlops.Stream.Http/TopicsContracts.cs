using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

// What the topic, tail and produce routes (TopicsApi) need from the host, and what they answer.
// The host implements the interfaces over Kafka; this project sees no Kafka types.

/// <summary>One topic of the project in <c>GET /api/v1/topics</c>: its family and model (from <c>topics/*.json</c>), partitions and summed end offset.</summary>
public sealed record TopicSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("family")] string? Family,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("partitions")] int Partitions,
    [property: JsonPropertyName("end_offset")] long EndOffset);

/// <summary><c>GET /api/v1/topics/{name}</c>: watermarks per partition and, per consumer group the node knows, committed offsets and lag.</summary>
public sealed record TopicDetail(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("family")] string? Family,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("end_offset")] long EndOffset,
    [property: JsonPropertyName("partitions")] IReadOnlyList<PartitionWatermarks> Partitions,
    [property: JsonPropertyName("groups")] IReadOnlyList<GroupLag> Groups);

/// <summary>The oldest offset still held (<c>low</c>) and the offset the next record gets (<c>high</c>).</summary>
public sealed record PartitionWatermarks(
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("low")] long Low,
    [property: JsonPropertyName("high")] long High);

/// <summary>A consumer group's position on one topic; <c>lag</c> is the sum over partitions.</summary>
public sealed record GroupLag(
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("lag")] long Lag,
    [property: JsonPropertyName("partitions")] IReadOnlyList<GroupPartitionLag> Partitions);

/// <summary>
/// <c>committed</c> is null when the group has committed nothing on the partition; its <c>lag</c> then
/// counts from the low watermark, where a group that starts at the earliest offset (the serving group) begins.
/// </summary>
public sealed record GroupPartitionLag(
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("committed")] long? Committed,
    [property: JsonPropertyName("lag")] long Lag);

/// <summary>Reads topics, watermarks and committed offsets from Kafka.</summary>
public interface ITopicInspector
{
    /// <summary>The project's topics that exist on the broker, by name.</summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer.</exception>
    Task<IReadOnlyList<TopicSummary>> ListAsync(CancellationToken cancellationToken);

    /// <summary>One existing topic (of the project or not); null when the broker has no such topic.</summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer.</exception>
    Task<TopicDetail?> DescribeAsync(string topic, CancellationToken cancellationToken);
}

/// <summary>Which of a model's output topics a tail reads; the wire names are the path segment.</summary>
public enum ModelStream
{
    /// <summary><c>predictions</c>: the v2 responses.</summary>
    Predictions,

    /// <summary><c>served</c>: served events (inputs, outputs, version, timings).</summary>
    Served,

    /// <summary><c>dlq</c>: dead-lettered requests with their error headers.</summary>
    DeadLetters,
}

/// <summary>Where a tail starts on every partition.</summary>
public enum TailStart
{
    /// <summary>Only records written after the tail opened.</summary>
    End,

    /// <summary>The oldest records the broker still holds.</summary>
    Beginning,
}

/// <summary>One Kafka record as a tail hands it to the HTTP edge. <see cref="Value"/> is null for a record without a value.</summary>
public sealed record TailedRecord(
    string Topic,
    int Partition,
    long Offset,
    DateTimeOffset Timestamp,
    string? Key,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Value);

/// <summary>Opens read-only tails of a model's output topics.</summary>
public interface IModelTopicTail
{
    /// <summary>
    /// Fixes the start position on every partition and returns the open tail, or null when the
    /// model's topic does not exist (yet). A tail never commits offsets or joins a group, so it
    /// cannot disturb the consumers that serve.
    /// </summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer.</exception>
    Task<ITailSession?> OpenAsync(string model, ModelStream stream, TailStart from, CancellationToken cancellationToken);
}

/// <summary>An open tail. Not thread-safe: one reader at a time.</summary>
public interface ITailSession : IAsyncDisposable
{
    string Topic { get; }

    /// <summary>Waits for the next record.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="BrokerUnavailableException">Reading failed; the tail is over.</exception>
    ValueTask<TailedRecord> NextAsync(CancellationToken cancellationToken);
}

/// <summary>One request to write to a model's request topic: its id (the record key and <c>mlops-request-id</c> header) and its v2 JSON.</summary>
public sealed record RequestRecord(string Id, byte[] Value);

/// <summary>Where one request was written. <c>timestamp</c> is the record's Kafka timestamp, the start of end-to-end latency.</summary>
public sealed record ProducedRequest(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp);

/// <summary>The 200 body of <c>POST /api/v1/models/{model}/requests</c>, one entry per request in the order sent.</summary>
public sealed record ProducedRequestsResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("records")] IReadOnlyList<ProducedRequest> Records);

/// <summary>What producing a batch of requests came to. Exactly one case applies.</summary>
public abstract record ProduceOutcome
{
    private ProduceOutcome() { }

    /// <summary>Every request was acknowledged by the broker.</summary>
    public sealed record Written(string Topic, IReadOnlyList<ProducedRequest> Records) : ProduceOutcome;

    /// <summary>The model's request topic does not exist yet (its replica creates it when it starts); nothing was written.</summary>
    public sealed record TopicMissing(string Topic) : ProduceOutcome;

    /// <summary>Some requests were not acknowledged; the others may have been written (retrying is safe: consumers drop duplicates by id).</summary>
    public sealed record Failed(string Topic, string Message) : ProduceOutcome;
}

/// <summary>Writes requests to a model's request topic the way any producer would (key and header = request id).</summary>
public interface IRequestProducer
{
    Task<ProduceOutcome> ProduceAsync(string model, IReadOnlyList<RequestRecord> requests, CancellationToken cancellationToken);
}

/// <summary>
/// One ground-truth label of <c>POST /api/v1/models/{model}/feedback</c>, for the OpenAPI document
/// only (the route writes each object as sent): <c>id</c> is the served request's id, <c>label</c> its
/// true class as an index, a name of the manifest's labels, true/false, or an array of those, one per row.
/// </summary>
public sealed record FeedbackLabelBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("id")] string Id,
    [property: System.Text.Json.Serialization.JsonPropertyName("label")] System.Text.Json.JsonElement Label);

/// <summary>Writes ground-truth labels to a model's feedback topic, which its drift job reads (key and header = the request id a label is for).</summary>
public interface IFeedbackProducer
{
    Task<ProduceOutcome> ProduceFeedbackAsync(string model, IReadOnlyList<RequestRecord> labels, CancellationToken cancellationToken);
}

/// <summary>Kafka did not answer an admin or metadata request in time; the routes answer 503 <c>kafka_unavailable</c>.</summary>
public sealed class BrokerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Error codes of the topic, tail and produce routes, beside <see cref="HttpErrorCodes"/>. A stable
/// contract like the other wire codes: never rename one.
/// </summary>
public static class TopicsErrorCodes
{
    /// <summary>The broker has no such topic, or the model's topic is not created yet (404 on reads, 503 on produce).</summary>
    public const string TopicNotFound = "topic_not_found";

    /// <summary>Kafka did not answer or did not acknowledge the records (503).</summary>
    public const string KafkaUnavailable = "kafka_unavailable";

    /// <summary>Every tail slot is in use (429, with <c>Retry-After</c>).</summary>
    public const string TooManyTails = "too_many_tails";

    /// <summary>More requests in one produce call than <see cref="TopicsApi.MaxProduceBatch"/> (413).</summary>
    public const string BatchTooLarge = "batch_too_large";
}
