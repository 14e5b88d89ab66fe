using System.Text;
using Confluent.Kafka;

namespace Mlops.Stream.Faults;

/// <summary>One record of a topic as the checker sees it: where it is, its bytes, its headers (the last value of each, as text) and its timestamp.</summary>
public sealed record TopicRecord(int Partition, long Offset, byte[]? Key, byte[]? Value, IReadOnlyDictionary<string, string> Headers, DateTimeOffset Timestamp)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    internal static TopicRecord From(ConsumeResult<byte[]?, byte[]?> result)
    {
        var headers = new Dictionary<string, string>();
        foreach (var header in result.Message.Headers ?? [])
        {
            if (header.GetValueBytes() is { } bytes) headers[header.Key] = Encoding.UTF8.GetString(bytes);
        }
        return new TopicRecord(result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value, headers,
            result.Message.Timestamp.UtcDateTime);
    }
}

/// <summary>Reads whole topics back, every partition from its first record to its end at the time of the call.</summary>
public static class TopicReader
{
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The sum of the partitions' end offsets: how many records the topic has taken so far.</summary>
    public static long EndOffsetSum(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "mlops-end-offsets" }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return admin.GetMetadata(topic, BrokerTimeout).Topics.Single().Partitions
            .Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), BrokerTimeout).High.Value);
    }

    /// <exception cref="TimeoutException">The topic could not be read to its end within <paramref name="timeout"/>.</exception>
    public static IReadOnlyList<TopicRecord> ReadAll(string bootstrapServers, string topic, TimeSpan? timeout = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = $"mlops-delivery-check-{Guid.NewGuid():N}", EnableAutoCommit = false,
            EnablePartitionEof = false, FetchWaitMaxMs = 10,
        };
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, BrokerTimeout).Topics.Single();
        if (metadata.Error.IsError) throw new KafkaException(metadata.Error);

        // Where each partition ends now: what is written later belongs to a later read.
        var ends = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var partition in metadata.Partitions)
        {
            var tp = new TopicPartition(topic, partition.PartitionId);
            var marks = consumer.QueryWatermarkOffsets(tp, BrokerTimeout);
            if (marks.High.Value <= marks.Low.Value) continue;
            ends[partition.PartitionId] = marks.High.Value;
            starts.Add(new TopicPartitionOffset(tp, marks.Low));
        }

        var records = new List<TopicRecord>();
        if (starts.Count == 0) return records;
        consumer.Assign(starts);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            while (ends.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Reading {topic} to its end took too long; partitions not read to the end: {string.Join(", ", ends.Keys)}.");
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { Message: not null } result)
                {
                    // Transaction markers take offsets without being records: the position says how far we are.
                    foreach (var (partition, end) in ends.ToList())
                        if (consumer.Position(new TopicPartition(topic, partition)).Value >= end) ends.Remove(partition);
                    continue;
                }
                if (!ends.TryGetValue(result.Partition.Value, out var partitionEnd) || result.Offset.Value >= partitionEnd) continue;
                records.Add(TopicRecord.From(result));
                if (result.Offset.Value >= partitionEnd - 1) ends.Remove(result.Partition.Value);
            }
        }
        finally
        {
            consumer.Close();
        }
        return records;
    }
}
