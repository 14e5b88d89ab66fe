using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Reads a past window of a model's served events for <c>mlops drift baseline</c>: a consumer of
/// its own (no group, no commits) is assigned at each partition's first offset at or after the
/// window's start (Kafka's offsets-for-times lookup) and reads until the partition's records pass
/// the window's end or it reaches the end the partition had when the scan started. Bounded in time
/// by <see cref="ScanTimeout"/>: a window too long to read in it is refused, not sampled in part
/// (a part would be the window's start only, not a sample of it).
/// </summary>
public sealed class KafkaServedTraffic(KafkaAdminReader broker, KafkaClientConfigs configs, TopicCatalog catalog, ILogger<KafkaServedTraffic> logger) : IServedTraffic
{
    public static readonly TimeSpan ScanTimeout = TimeSpan.FromSeconds(60);

    public async Task<long> ScanAsync(string model, DateTimeOffset from, DateTimeOffset to, Action<ServedRecord> each, CancellationToken cancellationToken)
    {
        var topic = catalog[TopicFamilies.Served].TopicFor(model);
        if (!(await broker.TopicsAsync(cancellationToken)).TryGetValue(topic, out var ids)) return 0;
        var partitions = ids.Select(id => new TopicPartition(topic, id)).ToList();
        var low = await broker.OffsetsAsync(partitions, OffsetSpec.Earliest());
        var high = await broker.OffsetsAsync(partitions, OffsetSpec.Latest());
        return await Task.Run(() => Scan(partitions, low, high, from, to, each, cancellationToken), cancellationToken);
    }

    private long Scan(List<TopicPartition> partitions, IReadOnlyDictionary<TopicPartition, long> low, IReadOnlyDictionary<TopicPartition, long> high,
        DateTimeOffset from, DateTimeOffset to, Action<ServedRecord> each, CancellationToken cancellationToken)
    {
        try
        {
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(configs.ReadOnlyConsumer($"mlops-baseline-{Guid.NewGuid():N}"))
                .SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
            var starts = consumer.OffsetsForTimes(partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(from.UtcDateTime))), TimeSpan.FromSeconds(10))
                .ToDictionary(o => o.TopicPartition, o => o.Offset.Value);
            var ranges = partitions
                // No record at or after the start: the lookup answers the end (-1). A broker that
                // cannot look up by time answers -1 too, so the partition's records are checked from its start.
                .Select(p => (Partition: p, From: starts.GetValueOrDefault(p, -1) is var at and >= 0 ? at : low[p], To: high[p]))
                .Where(r => r.From < r.To)
                .ToList();
            if (ranges.Count == 0) return 0;
            consumer.Assign(ranges.Select(r => new TopicPartitionOffset(r.Partition, r.From)));
            var remaining = ranges.ToDictionary(r => r.Partition, r => r.To);
            var deadline = DateTime.UtcNow + ScanTimeout;
            long handed = 0;
            while (remaining.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new BrokerUnavailableException($"the window {from:O} to {to:O} could not be read within {ScanTimeout.TotalSeconds:0} s ({handed} records so far); choose a shorter window");
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                cancellationToken.ThrowIfCancellationRequested();
                if (record is null || !remaining.TryGetValue(record.TopicPartition, out var end)) continue;
                var at = record.Message.Timestamp.UtcDateTime;
                if (at > to.UtcDateTime || record.Offset.Value + 1 >= end)
                {
                    // Past the window (timestamps grow within a partition) or at the scan's end: this partition is done.
                    remaining.Remove(record.TopicPartition);
                    consumer.Pause([record.TopicPartition]);
                }

                if (at < from.UtcDateTime || at > to.UtcDateTime) continue;
                each(new ServedRecord(record.Message.Value, record.Partition.Value, record.Offset.Value, new DateTimeOffset(at, TimeSpan.Zero)));
                handed++;
            }

            logger.LogInformation("Baseline scan of {Topic} from {From:O} to {To:O}: {Records} records", partitions[0].Topic, from, to, handed);
            return handed;
        }
        catch (KafkaException e)
        {
            throw new BrokerUnavailableException($"Kafka did not deliver the served events: {e.Error.Reason}", e);
        }
    }
}
