using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Faults;

/// <summary>Everything a model's serving read and wrote on Kafka: its request, prediction, served-event and dead-letter topics.</summary>
public sealed record ModelTopicContents(
    IReadOnlyList<TopicRecord> Requests,
    IReadOnlyList<TopicRecord> Predictions,
    IReadOnlyList<TopicRecord> Served,
    IReadOnlyList<TopicRecord> DeadLetters)
{
    /// <summary>Reads the four topics from their start to their current end.</summary>
    public static ModelTopicContents Read(string bootstrapServers, ModelTopics topics) => new(
        TopicReader.ReadAll(bootstrapServers, topics.Requests),
        TopicReader.ReadAll(bootstrapServers, topics.Predictions),
        TopicReader.ReadAll(bootstrapServers, topics.Served),
        TopicReader.ReadAll(bootstrapServers, topics.DeadLetters));
}
