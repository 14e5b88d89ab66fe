using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>An audit log in memory, for the drift job's audited actions (alerts, canary withdrawals).</summary>
internal sealed class MemoryAuditLog : IAuditLog
{
    public List<AuditEvent> Events { get; } = [];

    public Task WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        lock (Events) Events.Add(auditEvent);
        return Task.CompletedTask;
    }

    public IReadOnlyList<AuditEvent> Recent(int limit) => Events;
}
