using Mlops.Stream.Kafka;
using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Actors.Lifecycle;

[JsonSerializable(typeof(AuditEvent))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;

/// <summary>The audit topic's record value: one <see cref="AuditEvent"/> as JSON.</summary>
public static class AuditRecords
{
    public static byte[] Serialize(AuditEvent auditEvent) => JsonSerializer.SerializeToUtf8Bytes(auditEvent, AuditJsonContext.Default.AuditEvent);

    /// <summary>The event a record value holds, or null when it holds none (another writer's garbage, a truncated value).</summary>
    public static AuditEvent? TryParse(ReadOnlySpan<byte> value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, AuditJsonContext.Default.AuditEvent);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The audit log: every admin change is written to the <c>mlops.audit.v1</c> topic (keyed by model;
/// the durable record, for other tools) and kept in a bounded in-memory list that
/// <c>GET /api/v1/audit</c> reads (this node's recent changes). A write to Kafka that fails is
/// logged; the change it describes has already happened, so it is not undone.
/// </summary>
public sealed class AuditLog(IProducer<string?, byte[]>? producer, string topic, ILogger logger, int capacity = 1000) : IAuditLog, IDisposable
{
    private readonly LinkedList<AuditEvent> _recent = new();

    /// <summary>An audit log writing to <paramref name="topic"/> through a producer of its own (disposed with it).</summary>
    public static AuditLog ToKafka(string bootstrapServers, IReadOnlyDictionary<string, string> producerProperties, string topic, ILogger logger)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers };
        foreach (var (key, value) in producerProperties) config.Set(key, value);
        return new AuditLog(new ProducerBuilder<string?, byte[]>(config).SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build(), topic, logger);
    }

    public async Task WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        lock (_recent)
        {
            _recent.AddFirst(auditEvent);
            if (_recent.Count > capacity) _recent.RemoveLast();
        }
        logger.LogInformation("Audit: {Actor} {Action} {Model} {Version}: {Result} {Detail}",
            auditEvent.Actor, auditEvent.Action, auditEvent.Model, auditEvent.Version, auditEvent.Result, auditEvent.Detail);
        if (producer is null) return;
        try
        {
            await producer.ProduceAsync(topic, new Message<string?, byte[]>
            {
                Key = auditEvent.Model,
                Value = AuditRecords.Serialize(auditEvent),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            logger.LogError(e, "Audit event {Id} could not be written to {Topic}", auditEvent.Id, topic);
        }
    }

    public IReadOnlyList<AuditEvent> Recent(int limit)
    {
        lock (_recent) return _recent.Take(Math.Max(0, limit)).ToArray();
    }

    public void Dispose() => producer?.Dispose();
}
