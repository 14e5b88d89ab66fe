using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Kafka.Supervision;

namespace Mlops.Stream.Kafka;

/// <summary>One client's current outage, as reported by its error callbacks.</summary>
public sealed record KafkaOutage(string Client, string Reason, DateTimeOffset Since);

/// <summary>
/// Broker reachability as seen by the Kafka clients of this process. Clients report errors
/// (librdkafka's error callback) and successes (a delivery, a fetched record, a commit); the host
/// turns this into its readiness check. Transitions are logged once each, so an outage is visible
/// in the log instead of the stream hanging silently. Thread-safe.
/// </summary>
public sealed class KafkaHealthMonitor
{
    private readonly ConcurrentDictionary<string, KafkaOutage> _outages = new();

    public KafkaHealthMonitor(ILogger? logger = null) => Logger = logger ?? NullLogger.Instance;

    public ILogger Logger { get; set; }

    public bool IsReachable => _outages.IsEmpty;

    public IReadOnlyCollection<KafkaOutage> Outages => _outages.Values.ToArray();

    /// <summary>Whether <paramref name="client"/> currently reports the broker unreachable.</summary>
    public bool IsUnreachable(string client) => !_outages.IsEmpty && _outages.ContainsKey(client);

    /// <summary>Classifies a librdkafka error; errors meaning "broker unreachable" start an outage.</summary>
    public void ReportError(string client, Error error)
    {
        switch (KafkaErrorDecider.Decide(error))
        {
            case KafkaErrorAction.ReportOutage:
                ReportUnreachable(client, $"{error.Code}: {error.Reason}");
                break;
            case KafkaErrorAction.Stop:
                Logger.LogError("Kafka client {Client} failed: {Code} {Reason}", client, error.Code, error.Reason);
                break;
            default:
                Logger.LogWarning("Kafka client {Client} reported {Code}: {Reason}", client, error.Code, error.Reason);
                break;
        }
    }

    public void ReportUnreachable(string client, string reason)
    {
        var outage = new KafkaOutage(client, reason, DateTimeOffset.UtcNow);
        if (_outages.TryAdd(client, outage))
            Logger.LogWarning("Kafka unreachable for {Client}: {Reason}. Work pauses until the broker returns.", client, reason);
    }

    public void ReportReachable(string client)
    {
        // Cheap on the hot path: a lookup in an (almost always) empty dictionary.
        if (!_outages.IsEmpty && _outages.TryRemove(client, out var outage))
            Logger.LogInformation("Kafka reachable again for {Client} after {Seconds:F1} s; work resumes.",
                client, (DateTimeOffset.UtcNow - outage.Since).TotalSeconds);
    }
}
