namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// The offsets of the served events each version's open window holds, in the order they were
/// added, so that when a window of N events closes its first N offsets are handed on to be
/// committed once the window's record is acknowledged (and not before: at-least-once). Bounded by
/// the windows themselves: at most one window's events per version. Generic so the bookkeeping is
/// tested without a Kafka consumer. Not thread-safe: the drift stream's one evaluation stage owns it.
/// </summary>
internal sealed class WindowOffsets<TOffset>
{
    private readonly Dictionary<int, Queue<TOffset>> _held = [];

    public void Hold(int version, TOffset offset)
    {
        if (!_held.TryGetValue(version, out var queue))
        {
            _held[version] = queue = new Queue<TOffset>();
        }

        queue.Enqueue(offset);
    }

    /// <summary>The first <paramref name="events"/> offsets held for <paramref name="version"/>, no longer held.</summary>
    /// <exception cref="InvalidOperationException">Fewer are held: the windows and this bookkeeping disagree.</exception>
    public IReadOnlyList<TOffset> Release(int version, int events)
    {
        var held = Held(version);
        if (held < events)
        {
            throw new InvalidOperationException($"a window of version {version} closed with {events} events, but {held} offsets are held for it");
        }

        if (events == 0)
        {
            return [];
        }

        var queue = _held[version];
        var released = new TOffset[events];
        for (var i = 0; i < events; i++)
        {
            released[i] = queue.Dequeue();
        }

        return released;
    }

    /// <summary>Every offset held for <paramref name="version"/>, no longer held.</summary>
    public IReadOnlyList<TOffset> ReleaseAll(int version) => Release(version, Held(version));

    public int Held(int version) => _held.TryGetValue(version, out var queue) ? queue.Count : 0;
}
