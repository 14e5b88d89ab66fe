using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>One change made through the admin API, successful or not: who, what, when, result.</summary>
public sealed record AuditEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("version")] int? Version,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("detail")] string? Detail);

public interface IAuditLog
{
    /// <summary>Records the event (in memory at once, and on the audit topic when Kafka is configured).</summary>
    Task WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default);

    /// <summary>The most recent events, newest first.</summary>
    IReadOnlyList<AuditEvent> Recent(int limit);
}

/// <summary>Counts rollbacks by trigger (the node's metrics implement it).</summary>
public interface IRollbackCounter
{
    void CountRollback(string model, string trigger);
}
