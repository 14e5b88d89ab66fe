using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>A point-in-time view of one consumer source, for tests, metrics and the CLI.</summary>
public sealed record ConsumerMetrics(
    IReadOnlyList<TopicPartition> AssignedPartitions,
    IReadOnlyList<TopicPartition> PausedPartitions,
    /// <summary>Records fetched and waiting for downstream demand (bounded by MaxBufferSize).</summary>
    int Buffered,
    /// <summary>The most records ever waiting at once.</summary>
    int BufferHighWatermark,
    /// <summary>How many times the source paused its partitions for lack of demand.</summary>
    long Pauses,
    long Consumed,
    long Emitted,
    /// <summary>Consumed and not yet completed by the committer.</summary>
    int InFlight,
    long Completed,
    long Commits,
    /// <summary>Completions that arrived after their partition was revoked (not committed).</summary>
    long StaleCompletions,
    /// <summary>Records consumed but not committed when their partition was revoked: an upper bound of redelivered duplicates.</summary>
    long RevokedUncommitted,
    long Rebalances,
    IReadOnlyDictionary<TopicPartition, long> CommittedOffsets)
{
    /// <summary>
    /// Records behind the end of each assigned partition (end offset − committed offset), as last
    /// measured by the consumer every couple of seconds; partitions not measured yet are absent.
    /// </summary>
    public IReadOnlyDictionary<TopicPartition, long> Lag { get; init; } = new Dictionary<TopicPartition, long>();

    /// <summary>
    /// Records handed downstream that had not finished when their partition was revoked (the
    /// consumer waits for them, up to its revoke drain timeout): the next owner processes them again.
    /// </summary>
    public long RevokedUnfinished { get; init; }

    /// <summary>
    /// How many times downstream woke the poll thread that waited for room in a full buffer: once
    /// the buffer has drained to half, so about one per half a buffer of records, not one per record.
    /// </summary>
    public long RefillWakeups { get; init; }

    public override string ToString() =>
        $"assigned {AssignedPartitions.Count}, paused {PausedPartitions.Count}, buffered {Buffered} (max {BufferHighWatermark}), " +
        $"pauses {Pauses}, refill wake-ups {RefillWakeups}, consumed {Consumed}, emitted {Emitted}, in flight {InFlight}, completed {Completed}, commits {Commits}, " +
        $"stale {StaleCompletions}, revoked uncommitted {RevokedUncommitted} (unfinished {RevokedUnfinished}), rebalances {Rebalances}, " +
        $"committed [{string.Join(", ", CommittedOffsets.OrderBy(c => c.Key.Partition.Value).Select(c => $"{c.Key.Partition.Value}:{c.Value}"))}]";
}

/// <summary>
/// Controls a running consumer source (Akka.Streams.Kafka's <c>IControl</c>).
/// <see cref="Stop"/> ends the stream's supply of records but keeps the consumer open so the
/// committer can still commit; <see cref="Shutdown"/> closes the consumer.
/// </summary>
public interface IConsumerControl
{
    /// <summary>Stop emitting records; completes when the source has completed.</summary>
    Task Stop();

    /// <summary>Stop and close the consumer (completed offsets of its partitions are committed on the way out).</summary>
    Task Shutdown();

    /// <summary>Completes when the consumer is closed, for whatever reason.</summary>
    Task IsShutdown { get; }

    ConsumerMetrics Metrics { get; }
}
