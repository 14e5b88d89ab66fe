using Mlops.Stream.Kafka;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Reads the last records of a topic, for the routes that show a topic's recent history (the audit
/// trail, drift windows): a consumer of its own, assigned at fixed offsets (no group, no commits),
/// reads from <c>end − limit</c> to the end of each partition and is closed again. Bounded by the
/// limit per partition, and by <see cref="ReadTimeout"/>.
/// </summary>
public sealed class KafkaRecentRecords(KafkaAdminReader broker, KafkaClientConfigs configs)
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At most <paramref name="limit"/> records of each partition, the newest ones, per partition
    /// oldest first; empty when the topic does not exist.
    /// </summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer, or did not deliver the records in time.</exception>
    public async Task<IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>> ReadAsync(string topic, int limit, CancellationToken cancellationToken)
    {
        if (!(await broker.TopicsAsync(cancellationToken)).TryGetValue(topic, out var ids)) return [];
        var partitions = ids.Select(id => new TopicPartition(topic, id)).ToList();
        var low = await broker.OffsetsAsync(partitions, OffsetSpec.Earliest());
        var high = await broker.OffsetsAsync(partitions, OffsetSpec.Latest());
        var ranges = partitions
            .Select(p => (Partition: p, From: Math.Max(low[p], high[p] - limit), To: high[p]))
            .Where(r => r.From < r.To)
            .ToList();
        if (ranges.Count == 0) return [];
        return await Task.Run(() => Read(ranges, cancellationToken), cancellationToken)
            ?? throw new BrokerUnavailableException($"Kafka did not deliver the last records of {topic} within {ReadTimeout.TotalSeconds:0} s");
    }

    /// <summary>Consumes each range to its end; null when the broker does not deliver them in time.</summary>
    private List<ConsumeResult<byte[]?, byte[]?>>? Read(List<(TopicPartition Partition, long From, long To)> ranges, CancellationToken cancellationToken)
    {
        try
        {
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(configs.ReadOnlyConsumer($"mlops-read-{Guid.NewGuid():N}"))
                .SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
            consumer.Assign(ranges.Select(r => new TopicPartitionOffset(r.Partition, r.From)));
            var remaining = ranges.ToDictionary(r => r.Partition, r => r.To);
            var records = new List<ConsumeResult<byte[]?, byte[]?>>();
            var deadline = DateTime.UtcNow + ReadTimeout;
            while (remaining.Count > 0)
            {
                if (DateTime.UtcNow > deadline) return null;
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                cancellationToken.ThrowIfCancellationRequested();
                if (record is null) continue;
                if (record.Offset.Value + 1 >= remaining.GetValueOrDefault(record.TopicPartition, long.MaxValue)) remaining.Remove(record.TopicPartition);
                records.Add(record);
            }
            return records;
        }
        catch (KafkaException e)
        {
            throw new BrokerUnavailableException($"Kafka did not deliver records: {e.Error.Reason}", e);
        }
    }
}
