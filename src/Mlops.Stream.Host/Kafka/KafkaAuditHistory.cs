using Mlops.Stream.Actors.Lifecycle;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Reads the last events of the audit topic, which every node writes, so <c>mlops audit</c> on any
/// node shows the cluster's changes (<see cref="KafkaRecentRecords"/>: the last <c>limit</c> records
/// of each partition); a record that holds no event is skipped and logged once.
/// </summary>
public sealed class KafkaAuditHistory(KafkaRecentRecords recent, TopicCatalog catalog, ILogger<KafkaAuditHistory> logger)
    : IAuditHistory
{
    private int _unreadableLogged;

    public async Task<IReadOnlyList<AuditEvent>?> RecentAsync(int limit, CancellationToken cancellationToken)
    {
        var topic = catalog[TopicFamilies.Audit].TopicFor(null);
        try
        {
            var events = new List<AuditEvent>();
            foreach (var record in await recent.ReadAsync(topic, limit, cancellationToken))
            {
                if (record.Message.Value is { } value && AuditRecords.TryParse(value) is { } auditEvent) events.Add(auditEvent);
                else if (Interlocked.Exchange(ref _unreadableLogged, 1) == 0)
                    logger.LogWarning("The audit topic holds a record that is no audit event ({TopicPartitionOffset}); skipped", record.TopicPartitionOffset);
            }
            return events.OrderByDescending(e => e.Timestamp).Take(limit).ToList();
        }
        catch (BrokerUnavailableException e)
        {
            logger.LogDebug(e, "The audit topic {Topic} could not be read", topic);
            return null;
        }
    }
}
