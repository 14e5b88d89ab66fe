using Confluent.Kafka;
using Mlops.Stream.Kafka.Internal;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>
/// The offset context of one consumed record. It travels beside the element through
/// <c>FlowWithContext</c> stages to <see cref="Committer"/>, which marks it completed. The
/// epoch identifies the assignment the record was consumed under: completions from a revoked
/// assignment are ignored, so a record another consumer now owns is never committed from here.
/// </summary>
public readonly record struct CommittableOffset
{
    internal CommittableOffset(CommitCoordinator coordinator, TopicPartition partition, long offset, long epoch)
    {
        Coordinator = coordinator;
        TopicPartition = partition;
        Offset = offset;
        Epoch = epoch;
    }

    internal CommitCoordinator Coordinator { get; }
    public TopicPartition TopicPartition { get; }
    public long Offset { get; }
    /// <summary>
    /// The assignment of its partition this record was consumed under: a new number each time the
    /// partition is assigned to this consumer, so records of one assignment share it.
    /// </summary>
    public long Epoch { get; }
}
