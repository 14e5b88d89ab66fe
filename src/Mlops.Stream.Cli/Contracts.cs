using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Cli;

// The admin API's JSON shapes as the CLI reads them. They mirror the server's contracts in
// Mlops.Stream.Http (ModelSummary, AdminChangeResponse, AuditEvent, ErrorResponse) but are kept here
// on purpose: the CLI speaks HTTP/JSON only and must not pull in the server's assemblies.
// Fields the CLI does not know are kept in ExtensionData so tables can still show them.

/// <summary>One model from <c>GET /api/v1/models[/{model}]</c>.</summary>
internal sealed class ModelSummaryDto
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("versions")] public IReadOnlyList<int> Versions { get; init; } = [];
    [JsonPropertyName("production_version")] public int? ProductionVersion { get; init; }
    [JsonPropertyName("serving_version")] public int? ServingVersion { get; init; }
    [JsonPropertyName("state")] public string? State { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    /// <summary>Null from a node before the model cache; false: ready, loads on its next request.</summary>
    [JsonPropertyName("loaded")] public bool? Loaded { get; init; }
    [JsonPropertyName("pinned")] public bool? Pinned { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>The node's model cache from <c>GET /api/v1/model-cache</c>.</summary>
internal sealed class ModelCacheDto
{
    [JsonPropertyName("budget_bytes")] public long? BudgetBytes { get; init; }
    [JsonPropertyName("max_loaded")] public int? MaxLoaded { get; init; }
    [JsonPropertyName("loaded")] public int Loaded { get; init; }
    [JsonPropertyName("loaded_bytes")] public long LoadedBytes { get; init; }
    [JsonPropertyName("replicas")] public int Replicas { get; init; }
    [JsonPropertyName("pinned")] public int Pinned { get; init; }
    [JsonPropertyName("loads")] public long Loads { get; init; }
    [JsonPropertyName("evictions")] public long Evictions { get; init; }
}

/// <summary>The answer to every change (register, promote, canary, rollback, deploy, undeploy).</summary>
internal sealed class AdminChangeDto
{
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("changed")] public bool Changed { get; init; }
    [JsonPropertyName("version")] public int? Version { get; init; }
    [JsonPropertyName("aliases")] public Dictionary<string, AliasDto> Aliases { get; init; } = [];
    /// <summary>Promotions only: <c>serving</c>, or <c>pending</c> with <see cref="Detail"/> saying what it waits for.</summary>
    [JsonPropertyName("outcome")] public string? Outcome { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}

internal sealed class AliasDto
{
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("weight")] public double? Weight { get; init; }
}

/// <summary>One entry of <c>GET /api/v1/audit</c>.</summary>
internal sealed class AuditEventDto
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("timestamp")] public DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("actor")] public string? Actor { get; init; }
    [JsonPropertyName("action")] public string? Action { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("version")] public int? Version { get; init; }
    [JsonPropertyName("result")] public string? Result { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}

/// <summary>Every error body of the node: <c>{"error": message, "code": code}</c>.</summary>
internal sealed class ErrorDto
{
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("code")] public string? Code { get; init; }
}

internal sealed record PromoteBody(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("force")] bool Force = false);

internal sealed record CanaryBody([property: JsonPropertyName("version")] int Version, [property: JsonPropertyName("weight")] double Weight);

/// <summary>One replica from <c>GET /api/v1/models/{model}/replicas</c>.</summary>
internal sealed class ReplicaDto
{
    [JsonPropertyName("replica")] public string Replica { get; init; } = "";
    [JsonPropertyName("node")] public string Node { get; init; } = "";
    [JsonPropertyName("local")] public bool Local { get; init; }
    [JsonPropertyName("reachable")] public bool Reachable { get; init; }
    [JsonPropertyName("state")] public string State { get; init; } = "";
    [JsonPropertyName("serving_version")] public int? ServingVersion { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("partitions")] public IReadOnlyList<int> Partitions { get; init; } = [];
    [JsonPropertyName("lag")] public long? Lag { get; init; }
    [JsonPropertyName("queue_depth")] public int? QueueDepth { get; init; }
}

/// <summary><c>{"replicas": N}</c>, or null for one replica per node.</summary>
internal sealed record ScaleBody(
    [property: JsonPropertyName("replicas"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? Replicas,
    [property: JsonPropertyName("min"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Min = null,
    [property: JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Max = null);

internal sealed class ScaleDecisionDto
{
    [JsonPropertyName("at")] public DateTimeOffset At { get; init; }
    [JsonPropertyName("from")] public int From { get; init; }
    [JsonPropertyName("to")] public int To { get; init; }
    [JsonPropertyName("reason")] public string Reason { get; init; } = "";
}

internal sealed class ScaleDto
{
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("mode")] public string Mode { get; init; } = "";
    [JsonPropertyName("replicas")] public int? Replicas { get; init; }
    [JsonPropertyName("changed")] public bool? Changed { get; init; }
    [JsonPropertyName("min")] public int? Min { get; init; }
    [JsonPropertyName("max")] public int? Max { get; init; }
    [JsonPropertyName("last_decision")] public ScaleDecisionDto? LastDecision { get; init; }
}

[JsonSerializable(typeof(IReadOnlyList<ModelSummaryDto>))]
[JsonSerializable(typeof(ModelSummaryDto))]
[JsonSerializable(typeof(ModelCacheDto))]
[JsonSerializable(typeof(AdminChangeDto))]
[JsonSerializable(typeof(IReadOnlyList<AuditEventDto>))]
[JsonSerializable(typeof(ErrorDto))]
[JsonSerializable(typeof(PromoteBody))]
[JsonSerializable(typeof(CanaryBody))]
[JsonSerializable(typeof(ScaleBody))]
[JsonSerializable(typeof(IReadOnlyList<ReplicaDto>))]
[JsonSerializable(typeof(ScaleDto))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
