namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Creates topics on one kind of cluster. Two exist because librdkafka's mock cluster does not
/// implement the CreateTopics admin call: <see cref="AdminClientTopicCreator"/> for real brokers,
/// <see cref="EmbeddedTopicCreator"/> for <see cref="Embedded.EmbeddedKafka"/>.
/// </summary>
public interface ITopicCreator
{
    /// <summary>
    /// Creates <paramref name="topics"/> and returns the names it created. A topic that already
    /// exists (someone created it since the caller looked) is left alone and not returned.
    /// </summary>
    /// <exception cref="InvalidOperationException">Any other failure; the message names the topic and the reason.</exception>
    Task<IReadOnlyCollection<string>> CreateAsync(IReadOnlyCollection<TopicDeclaration> topics, CancellationToken cancellationToken = default);
}
