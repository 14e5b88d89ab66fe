using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Reads the last events of the audit topic, which every node writes, so <c>mlops audit</c> on any
/// node shows the cluster's changes. A consumer of its own, assigned at fixed offsets (no group, no
/// commits), reads from <c>end − limit</c> to the end of each partition and is closed again; a
/// record that holds no event is skipped and logged once.
/// </summary>
public sealed class KafkaAuditHistory(KafkaAdminReader broker, KafkaClientConfigs configs, TopicCatalog catalog, ILogger<KafkaAuditHistory> logger)
    : IAuditHistory
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);
    private int _unreadableLogged;

    public async Task<IReadOnlyList<AuditEvent>?> RecentAsync(int limit, CancellationToken cancellationToken)
    {
        var topic = catalog[TopicFamilies.Audit].TopicFor(null);
        try
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
            var events = await Task.Run(() => Read(ranges, cancellationToken), cancellationToken);
            return events?.OrderByDescending(e => e.Timestamp).Take(limit).ToList();
        }
        catch (Exception e) when (e is BrokerUnavailableException or KafkaException)
        {
            logger.LogDebug(e, "The audit topic {Topic} could not be read", topic);
            return null;
        }
    }

    /// <summary>Consumes each range to its end; null when the broker does not deliver them in time.</summary>
    private List<AuditEvent>? Read(List<(TopicPartition Partition, long From, long To)> ranges, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(configs.ReadOnlyConsumer($"mlops-audit-{Guid.NewGuid():N}")).Build();
        consumer.Assign(ranges.Select(r => new TopicPartitionOffset(r.Partition, r.From)));
        var remaining = ranges.ToDictionary(r => r.Partition, r => r.To);
        var events = new List<AuditEvent>();
        var deadline = DateTime.UtcNow + ReadTimeout;
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline) return null;
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            cancellationToken.ThrowIfCancellationRequested();
            if (record is null) continue;
            if (record.Offset.Value + 1 >= remaining.GetValueOrDefault(record.TopicPartition, long.MaxValue)) remaining.Remove(record.TopicPartition);
            if (record.Message.Value is { } value && AuditRecords.TryParse(value) is { } auditEvent) events.Add(auditEvent);
            else if (Interlocked.Exchange(ref _unreadableLogged, 1) == 0)
                logger.LogWarning("The audit topic holds a record that is no audit event ({TopicPartitionOffset}); skipped", record.TopicPartitionOffset);
        }
        return events;
    }
}
