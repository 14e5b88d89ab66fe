using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Faults;

/// <summary>Everything a model's serving read and wrote on Kafka: its request, prediction, served-event and dead-letter topics.</summary>
public sealed record ModelTopicContents(
    IReadOnlyList<TopicRecord> Requests,
    IReadOnlyList<TopicRecord> Predictions,
    IReadOnlyList<TopicRecord> Served,
    IReadOnlyList<TopicRecord> DeadLetters)
{
    /// <summary>Records of the four topics the broker dropped before they were read (its log cap, <see cref="BrokerLogCap"/>), by topic; empty when none.</summary>
    public IReadOnlyDictionary<string, long> DroppedByBroker { get; init; } = new Dictionary<string, long>();

    /// <summary>Where each request partition starts now: a prediction for an offset below it answers a request the broker dropped.</summary>
    public IReadOnlyDictionary<int, long> RequestLogStarts { get; init; } = new Dictionary<int, long>();

    /// <summary>Reads the four topics from their start to their current end, and what the broker dropped from their start.</summary>
    public static ModelTopicContents Read(string bootstrapServers, ModelTopics topics)
    {
        string[] names = [topics.Requests, topics.Predictions, topics.Served, topics.DeadLetters];
        var dropped = names.Select(topic => (topic, BrokerLogCap.DroppedRecords(bootstrapServers, topic))).Where(d => d.Item2 > 0).ToDictionary();
        return new ModelTopicContents(
            TopicReader.ReadAll(bootstrapServers, topics.Requests),
            TopicReader.ReadAll(bootstrapServers, topics.Predictions),
            TopicReader.ReadAll(bootstrapServers, topics.Served),
            TopicReader.ReadAll(bootstrapServers, topics.DeadLetters))
        {
            DroppedByBroker = dropped,
            RequestLogStarts = BrokerLogCap.LogStarts(bootstrapServers, topics.Requests),
        };
    }
}
