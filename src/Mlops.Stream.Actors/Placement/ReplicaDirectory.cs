using System.Text.Json;
using Akka.Actor;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// Chooses the replicas a request goes to, in the order to try them: a replica on this node when
/// there is one that serves (no remote hop), then the replicas on other live nodes, ordered by a
/// stable hash of the request id (rendezvous hashing: the same id goes to the same replica while the
/// set of replicas stays the same, and only the ids of a lost replica move). Replicas outside the
/// model's plan (being retired) are not chosen on other nodes, so a request does not wake them again.
/// </summary>
/// <param name="remoteEntity">
/// The entity actor of a replica on another node, addressed by its path (never through sharding), for
/// questions that must not start a replica: a status query sent through sharding to a replica that
/// is being retired would start it again. Null: such questions go through sharding.
/// </param>
public sealed class ReplicaDirectory(
    LocalReplicas local, IReplicaLocations locations, ReplicaPlan plan, INodeLiveness liveness, Func<Address, string, ICanTell>? remoteEntity = null)
{
    public INodeLiveness Liveness => liveness;

    /// <summary>Where to ask a replica something without starting it: its actor on this node, or its path on its node; null when neither is known.</summary>
    public ICanTell? WithoutStarting(ReplicaTarget target) =>
        target.Local ?? (target.Node is { } node && remoteEntity is not null ? remoteEntity(node, target.EntityId) : null);

    public IReadOnlyList<ReplicaTarget> ForInference(string model, string routingKey) => [.. Targets(model, () => routingKey)];

    /// <summary>
    /// <see cref="ForInference(string, string)"/> for a request body, tried in order: the routing key
    /// is read from the body only when there is a choice to make, and the other nodes' replicas are
    /// looked at only when this node's did not answer. The usual request (one serving replica here)
    /// reads neither.
    /// </summary>
    public IEnumerable<ReplicaTarget> ForRequest(string model, byte[] requestJson)
    {
        string? key = null;
        return Targets(model, () => key ??= RoutingKey(requestJson));
    }

    private IEnumerable<ReplicaTarget> Targets(string model, Func<string> routingKey)
    {
        var any = false;
        foreach (var r in InOrder(local.ReadyOf(model), r => r.EntityId, routingKey))
        {
            any = true;
            yield return new ReplicaTarget(r.EntityId, r.Ref, null);
        }
        foreach (var r in InOrder([.. Remote(model)], r => r.EntityId, routingKey))
        {
            any = true;
            yield return new ReplicaTarget(r.EntityId, null, r.Node);
        }
        if (!any) yield return Fallback(model);
    }

    /// <summary>Rendezvous order by the routing key; a single candidate needs no key.</summary>
    private static IEnumerable<T> InOrder<T>(IReadOnlyList<T> candidates, Func<T, string> entityId, Func<string> routingKey) =>
        candidates.Count < 2 ? candidates : candidates.OrderByDescending(c => Score(routingKey(), entityId(c)));

    /// <summary>Every replica that may say how the model serves: this node's (serving ones first), then the others by index.</summary>
    public IReadOnlyList<ReplicaTarget> ForStatus(string model)
    {
        var localReplicas = local.Of(model);
        var ready = local.ReadyOf(model).Select(r => r.EntityId).ToHashSet(StringComparer.Ordinal);
        var targets = localReplicas
            .OrderBy(r => ready.Contains(r.EntityId) ? 0 : 1)
            .Select(r => new ReplicaTarget(r.EntityId, r.Ref, null))
            .ToList();
        targets.AddRange(Remote(model).OrderBy(r => r.Index).Select(r => new ReplicaTarget(r.EntityId, null, r.Node)));
        return targets.Count > 0 ? targets : [Fallback(model)];
    }

    /// <summary>Whether replica <paramref name="index"/> of <paramref name="model"/> is inside the model's plan (not being retired).</summary>
    public bool Planned(string model, int index) => index < plan.CountOf(model);

    /// <summary>Every replica of the model observed anywhere, by index: this node's asked directly, the others through sharding.</summary>
    public IReadOnlyList<(ReplicaLocation Location, ReplicaTarget Target, bool Local, bool Reachable)> All(string model)
    {
        var mine = local.Of(model).ToDictionary(r => r.EntityId, StringComparer.Ordinal);
        return [.. locations.Of(model).OrderBy(r => r.Index).Select(r => mine.TryGetValue(r.EntityId, out var own) && r.Node == liveness.Self
            ? (r, new ReplicaTarget(r.EntityId, own.Ref, null), true, true)
            : (r, new ReplicaTarget(r.EntityId, null, r.Node), false, liveness.IsLive(r.Node)))];
    }

    /// <summary>
    /// The routing key of a v2 request: its top-level <c>id</c>, or (no id, or not JSON) a random
    /// one, so requests without ids still spread over the replicas.
    /// </summary>
    public static string RoutingKey(ReadOnlySpan<byte> requestJson)
    {
        try
        {
            var reader = new Utf8JsonReader(requestJson);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isId = reader.ValueTextEquals("id"u8);
                    reader.Read();
                    if (isId && reader.TokenType == JsonTokenType.String) return reader.GetString()!;
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // The replica answers with the parse error; any replica will do.
        }
        return Random.Shared.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private IEnumerable<ReplicaLocation> Remote(string model)
    {
        var count = plan.CountOf(model);
        return locations.Of(model).Where(r => r.Index < count && r.Node != liveness.Self && liveness.IsLive(r.Node));
    }

    /// <summary>Nothing observed yet (a node just started): replica 0 through sharding, which always exists for a served model.</summary>
    private static ReplicaTarget Fallback(string model) => new(ReplicaId.For(model), null, null);

    private static double Score(string key, string entityId) => ReplicaRouter.BucketOf(string.Concat(key, "\n", entityId));
}
