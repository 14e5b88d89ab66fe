using System.Text.Json;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Reads back the last window records of a model's drift topic for <c>GET /api/v1/models/{model}/drift</c>,
/// so any node answers whichever node runs the job (<see cref="KafkaRecentRecords"/>). A record
/// that is no drift window is skipped and logged once.
/// </summary>
public sealed class KafkaDriftHistory(KafkaRecentRecords recent, TopicCatalog catalog, ILogger<KafkaDriftHistory> logger) : IDriftHistory
{
    private int _unreadableLogged;

    public async Task<IReadOnlyList<DriftWindowRecord>> RecentAsync(string model, int scan, CancellationToken cancellationToken)
    {
        var windows = new List<DriftWindowRecord>();
        foreach (var record in await recent.ReadAsync(catalog[TopicFamilies.Drift].TopicFor(model), scan, cancellationToken))
        {
            try
            {
                var value = record.Message.Value ?? throw new JsonException("the record has no value");
                var report = DriftWindowJson.Deserialize(value);
                windows.Add(new DriftWindowRecord(report.Version, report.Dataset.Drifted, JsonSerializer.Deserialize<JsonElement>(value)));
            }
            catch (JsonException e)
            {
                if (Interlocked.Exchange(ref _unreadableLogged, 1) == 0)
                    logger.LogWarning("The drift topic holds a record that is no drift window ({TopicPartitionOffset}: {Reason}); skipped", record.TopicPartitionOffset, e.Message);
            }
        }
        return windows;
    }
}
