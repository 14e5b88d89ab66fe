using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Tests.Infrastructure;

/// <summary>Reads a group's committed offsets and a topic's end offsets with a plain consumer.</summary>
public static class OffsetProbe
{
    public static IReadOnlyDictionary<int, long> Committed(string bootstrapServers, string groupId, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(KafkaTestClient.ConsumerConfig(bootstrapServers, groupId)).Build();
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p));
        return consumer.Committed(tps, TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }

    public static IReadOnlyDictionary<int, long> EndOffsets(string bootstrapServers, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(KafkaTestClient.ConsumerConfig(bootstrapServers, $"probe-{Guid.NewGuid():N}")).Build();
        return Enumerable.Range(0, partitions).ToDictionary(
            p => p,
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }
}

/// <summary>Reads a topic until a number of distinct values has been seen (duplicates allowed).</summary>
public static class TopicProbe
{
    public static IReadOnlySet<string> ReadDistinctValues(string bootstrapServers, string topic, int expectedDistinct, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? KafkaTestClient.DefaultTimeout);
        using var consumer = new ConsumerBuilder<string, string>(KafkaTestClient.ConsumerConfig(bootstrapServers, $"reader-{Guid.NewGuid():N}")).Build();
        consumer.Subscribe(topic);
        var values = new HashSet<string>();
        try
        {
            while (values.Count < expectedDistinct && DateTime.UtcNow < deadline)
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } record)
                    values.Add(record.Message.Value);
        }
        finally
        {
            consumer.Close();
        }
        return values;
    }
}
