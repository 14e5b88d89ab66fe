using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/shards</c>: where the model replica entities run, one entry per cluster member.
/// A member that did not answer is listed with its <see cref="NodeShards.Answer"/> and no shards,
/// so one slow or unreachable node never fails the whole call.
/// </summary>
public sealed record ShardPlacement(
    [property: JsonPropertyName("type_name")] string TypeName,
    [property: JsonPropertyName("nodes")] IReadOnlyList<NodeShards> Nodes);

/// <param name="Address">The member's Akka address.</param>
/// <param name="Answer">One of <see cref="ShardAnswers"/>.</param>
/// <param name="Error">Why there are no shards when <paramref name="Answer"/> is not <c>ok</c>.</param>
/// <param name="Shards">The shards the member's region hosts, with their entities.</param>
/// <param name="FailedShards">Shards the region hosts that did not report their entities in time.</param>
public sealed record NodeShards(
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonPropertyName("shards")] IReadOnlyList<ShardEntities> Shards,
    [property: JsonPropertyName("failed_shards")] IReadOnlyList<string> FailedShards);

public sealed record ShardEntities(
    [property: JsonPropertyName("shard_id")] string ShardId,
    [property: JsonPropertyName("entities")] IReadOnlyList<EntityPlacement> Entities);

/// <param name="EntityId">The sharding entity id, <c>&lt;model&gt;#&lt;replica&gt;</c>.</param>
/// <param name="Model">The model the entity serves; null for an id that is not a replica id.</param>
/// <param name="Replica">The replica number; null with <paramref name="Model"/>.</param>
public sealed record EntityPlacement(
    [property: JsonPropertyName("entity_id")] string EntityId,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("replica")] int? Replica);

/// <summary>The values of <see cref="NodeShards.Answer"/>; a stable contract like the error codes.</summary>
public static class ShardAnswers
{
    /// <summary>The member's shard region answered.</summary>
    public const string Ok = "ok";

    /// <summary>The member is reachable but its region did not answer in time (or it runs none).</summary>
    public const string TimedOut = "timed_out";

    /// <summary>The member is unreachable, so it was not asked.</summary>
    public const string Unreachable = "unreachable";
}

/// <summary>Supplies <see cref="ShardPlacement"/>; the host implements it over Cluster.Sharding.</summary>
public interface IShardDirectory
{
    Task<ShardPlacement> QueryAsync(CancellationToken cancellationToken);
}
