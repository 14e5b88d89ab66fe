namespace Mlops.Stream.Kafka.Topics;

/// <summary>What a <see cref="TopicProvisioner"/> found and did, topic by topic.</summary>
/// <param name="Created">Topics it created with their declared partitions.</param>
/// <param name="Existing">Topics that existed with at least their declared partitions.</param>
/// <param name="Mismatched">Topics that existed with fewer partitions than declared: not fixed, reported.</param>
public sealed record ProvisioningReport(
    IReadOnlyList<string> Created,
    IReadOnlyList<string> Existing,
    IReadOnlyList<PartitionMismatch> Mismatched)
{
    /// <summary>True when every declared topic exists with at least its declared partitions.</summary>
    public bool AllSatisfied => Mismatched.Count == 0;
}

/// <summary>
/// A topic that exists with fewer partitions than its family declares. Using it would cap the
/// parallelism the service was sized for (one consumer per partition), so it is reported rather
/// than silently used; adding partitions would move keys between partitions, so it is not automatic.
/// </summary>
public sealed record PartitionMismatch(string Topic, int DeclaredPartitions, int ActualPartitions);
