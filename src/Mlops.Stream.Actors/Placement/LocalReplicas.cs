using System.Collections.Concurrent;
using Akka.Actor;

namespace Mlops.Stream.Actors.Placement;

/// <summary>
/// The model replicas running on this node, as they register themselves, so an HTTP request can go
/// to one of them directly (no sharding hop, no remote hop). A replica counts as ready from its
/// first served version until it starts stopping.
/// </summary>
public sealed class LocalReplicas
{
    private readonly ConcurrentDictionary<string, Entry> _replicas = new(StringComparer.Ordinal);

    /// <summary>Registers a replica that just started; dispose the result when it stops.</summary>
    public IDisposable Add(string entityId, string model, IActorRef replica)
    {
        var entry = new Entry(new LocalReplica(entityId, model, replica));
        _replicas[entityId] = entry;
        return new Removal(this, entry);
    }

    public void SetReady(string entityId, bool ready)
    {
        if (_replicas.TryGetValue(entityId, out var entry)) entry.Ready = ready;
    }

    /// <summary>The replicas of <paramref name="model"/> on this node, ready or not, in entity id order.</summary>
    public IReadOnlyList<LocalReplica> Of(string model) => Select(model, readyOnly: false);

    /// <summary>The replicas of <paramref name="model"/> on this node that serve, in entity id order.</summary>
    public IReadOnlyList<LocalReplica> ReadyOf(string model) => Select(model, readyOnly: true);

    private List<LocalReplica> Select(string model, bool readyOnly) =>
        [.. _replicas.Values
            .Where(e => e.Replica.Model == model && (!readyOnly || e.Ready))
            .Select(e => e.Replica)
            .OrderBy(r => r.EntityId, StringComparer.Ordinal)];

    private sealed class Entry(LocalReplica replica)
    {
        public LocalReplica Replica { get; } = replica;
        public volatile bool Ready;
    }

    private sealed class Removal(LocalReplicas owner, Entry entry) : IDisposable
    {
        // Only this registration: a new incarnation of the same entity may have registered since.
        public void Dispose() => owner._replicas.TryRemove(new KeyValuePair<string, Entry>(entry.Replica.EntityId, entry));
    }
}

public sealed record LocalReplica(string EntityId, string Model, IActorRef Ref);
