using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Cli;

// The JSON of the node's Kafka routes (topics, tail, produce, reference) and of v2 model metadata, as
// the topics, tail and load commands read them. They mirror Mlops.Stream.Http's TopicsContracts,
// ModelReferenceResponse and ModelMetadataResponse and are kept here for the same reason as
// Contracts.cs: the CLI speaks HTTP/JSON only.

/// <summary>One topic from <c>GET /api/v1/topics</c>.</summary>
internal sealed class TopicSummaryDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("family")] public string? Family { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("partitions")] public int Partitions { get; init; }
    [JsonPropertyName("end_offset")] public long EndOffset { get; init; }
}

/// <summary><c>GET /api/v1/topics/{name}</c>.</summary>
internal sealed class TopicDetailDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("family")] public string? Family { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("end_offset")] public long EndOffset { get; init; }
    [JsonPropertyName("partitions")] public IReadOnlyList<PartitionWatermarksDto> Partitions { get; init; } = [];
    [JsonPropertyName("groups")] public IReadOnlyList<GroupLagDto> Groups { get; init; } = [];
}

internal sealed class PartitionWatermarksDto
{
    [JsonPropertyName("partition")] public int Partition { get; init; }
    [JsonPropertyName("low")] public long Low { get; init; }
    [JsonPropertyName("high")] public long High { get; init; }
}

internal sealed class GroupLagDto
{
    [JsonPropertyName("group")] public string Group { get; init; } = "";
    [JsonPropertyName("lag")] public long Lag { get; init; }
    [JsonPropertyName("partitions")] public IReadOnlyList<GroupPartitionLagDto> Partitions { get; init; } = [];
}

internal sealed class GroupPartitionLagDto
{
    [JsonPropertyName("partition")] public int Partition { get; init; }
    [JsonPropertyName("committed")] public long? Committed { get; init; }
    [JsonPropertyName("lag")] public long Lag { get; init; }
}

/// <summary>
/// One NDJSON line of a tail: a record (<c>value</c> when it is JSON, else <c>value_base64</c>), or,
/// as the last line when Kafka failed mid-stream, the node's error body (<c>error</c>, <c>code</c>).
/// </summary>
internal sealed class TailRecordDto
{
    [JsonPropertyName("topic")] public string? Topic { get; init; }
    [JsonPropertyName("partition")] public int Partition { get; init; }
    [JsonPropertyName("offset")] public long Offset { get; init; }
    [JsonPropertyName("timestamp")] public DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("key")] public string? Key { get; init; }
    [JsonPropertyName("headers")] public Dictionary<string, string> Headers { get; init; } = [];
    [JsonPropertyName("value")] public JsonElement? Value { get; init; }
    [JsonPropertyName("value_base64")] public string? ValueBase64 { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("code")] public string? Code { get; init; }

    public bool IsError => Topic is null && Error is not null;
}

/// <summary>Kafka header names the serving pipeline writes (the node's ServingHeaders).</summary>
internal static class KafkaHeaders
{
    public const string RequestId = "mlops-request-id";
    public const string Error = "mlops-error";
    public const string ErrorCode = "mlops-error-code";
}

/// <summary>The parts of <c>GET /v2/models/{model}</c> the load generator needs.</summary>
internal sealed class ModelMetadataDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("inputs")] public IReadOnlyList<TensorMetadataDto> Inputs { get; init; } = [];
}

internal sealed class TensorMetadataDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("datatype")] public string DataType { get; init; } = "";
    [JsonPropertyName("shape")] public IReadOnlyList<long> Shape { get; init; } = [];
}

/// <summary><c>GET /api/v1/models/{model}/reference</c>: the reference profile of a version.</summary>
internal sealed class ModelReferenceDto
{
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("features")] public IReadOnlyList<FeatureReferenceDto> Features { get; init; } = [];
}

internal sealed class FeatureReferenceDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("mean")] public double Mean { get; init; }
    [JsonPropertyName("std_dev")] public double StdDev { get; init; }
    [JsonPropertyName("edges")] public IReadOnlyList<double> Edges { get; init; } = [];
    [JsonPropertyName("counts")] public IReadOnlyList<long> Counts { get; init; } = [];
}

/// <summary>The answer of <c>POST /api/v1/models/{model}/requests</c>.</summary>
internal sealed class ProducedRequestsDto
{
    [JsonPropertyName("topic")] public string Topic { get; init; } = "";
    [JsonPropertyName("records")] public IReadOnlyList<ProducedRequestDto> Records { get; init; } = [];
}

internal sealed class ProducedRequestDto
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("partition")] public int Partition { get; init; }
    [JsonPropertyName("offset")] public long Offset { get; init; }
    [JsonPropertyName("timestamp")] public DateTimeOffset Timestamp { get; init; }
}

/// <summary>What <c>mlops feedback --output json</c> prints.</summary>
internal sealed record FeedbackWritten(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("written")] int Written);

/// <summary>What <c>mlops load --output json</c> prints: one object with the run's figures.</summary>
internal sealed record LoadReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("rate")] double Rate,
    [property: JsonPropertyName("duration_s")] double DurationSeconds,
    [property: JsonPropertyName("drift")] double Drift,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("features")] string Features,
    [property: JsonPropertyName("sent")] long Sent,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("first_error")] string? FirstError,
    [property: JsonPropertyName("achieved_rate")] double AchievedRate,
    [property: JsonPropertyName("predicted")] long Predicted,
    [property: JsonPropertyName("missing")] long Missing,
    [property: JsonPropertyName("duplicates")] long Duplicates,
    [property: JsonPropertyName("kafka_latency_ms")] LatencySummary? KafkaLatency,
    [property: JsonPropertyName("client_latency_ms")] LatencySummary? ClientLatency);

/// <summary>Percentiles of one latency, in milliseconds.</summary>
internal sealed record LatencySummary(
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p90")] double P90,
    [property: JsonPropertyName("p99")] double P99,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("count")] long Count);

[JsonSerializable(typeof(IReadOnlyList<TopicSummaryDto>))]
[JsonSerializable(typeof(TopicDetailDto))]
[JsonSerializable(typeof(TailRecordDto))]
[JsonSerializable(typeof(ModelMetadataDto))]
[JsonSerializable(typeof(ModelReferenceDto))]
[JsonSerializable(typeof(ProducedRequestsDto))]
[JsonSerializable(typeof(FeedbackWritten))]
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class KafkaJsonContext : JsonSerializerContext;
