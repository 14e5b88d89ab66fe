namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Reads how many records wait for a model's serving group (<see cref="ModelTopics.ConsumerGroup"/>)
/// in its request topic: each partition's committed offset against its high watermark. A replica
/// whose model is not loaded asks it now and then, so a Kafka-only model evicted by the node's
/// memory budget is loaded again when records arrive for it (<see cref="BacklogWatch"/>).
/// </summary>
public interface IRequestBacklog
{
    /// <summary>The request topic's partitions with what waits on each; empty when the topic does not exist.</summary>
    /// <exception cref="Exception">Kafka did not answer (the caller asks again at its next check).</exception>
    Task<IReadOnlyList<PartitionBacklog>> ReadAsync(string model, CancellationToken cancellationToken);
}

/// <summary>One partition of a request topic: the serving group's committed offset (null: none yet) and the records after it.</summary>
public sealed record PartitionBacklog(int Partition, long? Committed, long Waiting);

/// <summary>
/// Decides, from successive reads of a model's request backlog, whether records wait that nobody
/// consumes: a partition with records after its committed offset, where that offset has not moved
/// since the previous read. Records a loaded replica on another node is working through move its
/// offsets, so they do not make this node load the model too; the first read after the model
/// unloads only records where the offsets stand. After a load triggered here is refused (the model
/// cannot fit the budget now), reads are skipped for 1, 2, 4 ... up to 64 checks, so a model that
/// never fits does not open its registry version every check. Used on the replica actor's thread only.
/// </summary>
public sealed class BacklogWatch
{
    private const int MaxSkippedChecks = 64;

    private Dictionary<int, long?>? _previous;
    private int _backoff;
    private int _skip;

    /// <summary>The model unloaded (or a load began): the next read starts afresh.</summary>
    public void Reset() => _previous = null;

    /// <summary>Whether this check should read the backlog, or sit out after a refused load.</summary>
    public bool ShouldRead()
    {
        if (_skip == 0) return true;
        _skip--;
        return false;
    }

    /// <summary>The records that wait with nobody consuming them (0: none, or not sure yet).</summary>
    public long Stalled(IReadOnlyList<PartitionBacklog> reading)
    {
        var previous = _previous;
        _previous = reading.ToDictionary(p => p.Partition, p => p.Committed);
        if (previous is null) return 0;
        return reading
            .Where(p => p.Waiting > 0 && previous.TryGetValue(p.Partition, out var before) && before == p.Committed)
            .Sum(p => p.Waiting);
    }

    /// <summary>A load this watch asked for was refused by the budget: back off.</summary>
    public void Refused()
    {
        _backoff = Math.Clamp(_backoff * 2, 1, MaxSkippedChecks);
        _skip = _backoff;
        _previous = null;
    }

    /// <summary>The model loaded: a later refusal backs off from the start again.</summary>
    public void Loaded()
    {
        _backoff = 0;
        _skip = 0;
        _previous = null;
    }
}
