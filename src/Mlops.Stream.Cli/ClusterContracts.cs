using System.Text.Json.Serialization;

namespace Mlops.Stream.Cli;

// The cluster admin API's JSON shapes as the CLI reads them, mirroring ClusterState, ShardPlacement
// and ClusterChangeResponse in Mlops.Stream.Http (kept apart for the same reason as Contracts.cs).
// Their own serializer context keeps the cluster commands out of the shared CliJsonContext.

/// <summary><c>GET /api/v1/cluster</c>.</summary>
internal sealed class ClusterStateDto
{
    [JsonPropertyName("self")] public string Self { get; init; } = "";
    [JsonPropertyName("leader")] public string? Leader { get; init; }
    [JsonPropertyName("members")] public IReadOnlyList<ClusterMemberDto> Members { get; init; } = [];
    [JsonPropertyName("unreachable")] public IReadOnlyList<string> Unreachable { get; init; } = [];
}

internal sealed class ClusterMemberDto
{
    [JsonPropertyName("address")] public string Address { get; init; } = "";
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("roles")] public IReadOnlyList<string> Roles { get; init; } = [];
    [JsonPropertyName("age")] public int? Age { get; init; }
    [JsonPropertyName("reachable")] public bool Reachable { get; init; } = true;
    [JsonPropertyName("leader")] public bool Leader { get; init; }
    [JsonPropertyName("self")] public bool Self { get; init; }
}

/// <summary>The body of <c>POST /api/v1/cluster/leave</c> and <c>/down</c>.</summary>
internal sealed record MemberAddressBody([property: JsonPropertyName("address")] string Address);

/// <summary>The answer to leave and down.</summary>
internal sealed class ClusterChangeDto
{
    [JsonPropertyName("address")] public string Address { get; init; } = "";
    [JsonPropertyName("action")] public string? Action { get; init; }
    [JsonPropertyName("previous_status")] public string? PreviousStatus { get; init; }
}

/// <summary><c>GET /api/v1/shards</c>.</summary>
internal sealed class ShardPlacementDto
{
    [JsonPropertyName("type_name")] public string? TypeName { get; init; }
    [JsonPropertyName("nodes")] public IReadOnlyList<NodeShardsDto> Nodes { get; init; } = [];
}

internal sealed class NodeShardsDto
{
    /// <summary>The value of <see cref="Answer"/> when the node's region answered.</summary>
    public const string Answered = "ok";

    [JsonPropertyName("address")] public string Address { get; init; } = "";
    [JsonPropertyName("answer")] public string? Answer { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("shards")] public IReadOnlyList<ShardEntitiesDto> Shards { get; init; } = [];
    [JsonPropertyName("failed_shards")] public IReadOnlyList<string> FailedShards { get; init; } = [];
}

internal sealed class ShardEntitiesDto
{
    [JsonPropertyName("shard_id")] public string ShardId { get; init; } = "";
    [JsonPropertyName("entities")] public IReadOnlyList<EntityPlacementDto> Entities { get; init; } = [];
}

internal sealed class EntityPlacementDto
{
    [JsonPropertyName("entity_id")] public string EntityId { get; init; } = "";
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("replica")] public int? Replica { get; init; }
}

[JsonSerializable(typeof(ClusterStateDto))]
[JsonSerializable(typeof(MemberAddressBody))]
[JsonSerializable(typeof(ClusterChangeDto))]
[JsonSerializable(typeof(ShardPlacementDto))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
