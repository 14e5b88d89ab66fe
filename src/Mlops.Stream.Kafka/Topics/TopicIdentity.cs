namespace Mlops.Stream.Kafka.Topics;

/// <summary>What <see cref="TopicCatalog.Identify"/> found a topic to be: a topic of <paramref name="Family"/>, for <paramref name="Model"/> (null for a shared family).</summary>
public sealed record TopicIdentity(TopicFamily Family, string? Model);
