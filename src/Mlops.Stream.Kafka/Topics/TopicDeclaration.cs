namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// One concrete topic that should exist: a family's settings applied to a name. What a
/// <see cref="TopicProvisioner"/> ensures and an <see cref="ITopicCreator"/> creates.
/// </summary>
/// <param name="Name">The topic name.</param>
/// <param name="Partitions">The partition count to create it with; existing topics need at least this many.</param>
/// <param name="RetentionMs">Kafka's <c>retention.ms</c> (-1 keeps records forever); null leaves the broker's default.</param>
/// <param name="CleanupPolicy">Kafka's <c>cleanup.policy</c>; null leaves the broker's default.</param>
public sealed record TopicDeclaration(string Name, int Partitions, long? RetentionMs = null, string? CleanupPolicy = null)
{
    /// <summary>A topic with the given partitions and the broker's default retention and cleanup.</summary>
    public static TopicDeclaration WithPartitions(string name, int partitions) => new(name, partitions);
}
