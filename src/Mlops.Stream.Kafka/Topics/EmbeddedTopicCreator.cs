using Confluent.Kafka;
using Mlops.Stream.Kafka.Embedded;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Creates topics on an <see cref="EmbeddedKafka"/> through the mock cluster's own call, since the
/// mock does not implement CreateTopics. The mock keeps no topic configuration, so retention and
/// cleanup policy are not applied: its bounded per-partition log is the only retention there is.
/// </summary>
public sealed class EmbeddedTopicCreator(EmbeddedKafka kafka) : ITopicCreator
{
    public Task<IReadOnlyCollection<string>> CreateAsync(
        IReadOnlyCollection<TopicDeclaration> topics, CancellationToken cancellationToken = default)
    {
        var created = new List<string>();
        foreach (var topic in topics)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var error = kafka.TryCreateTopic(topic.Name, topic.Partitions);
            if (error == ErrorCode.NoError)
            {
                created.Add(topic.Name);
            }
            else if (error != ErrorCode.TopicAlreadyExists)
            {
                throw new InvalidOperationException(
                    $"Embedded Kafka could not create topic '{topic.Name}' with {topic.Partitions} partition(s): {new Error(error).Reason} ({error}).");
            }
        }
        return Task.FromResult<IReadOnlyCollection<string>>(created);
    }
}
