using System.Collections.Concurrent;
using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>An audit log in memory, newest first, for the admin routes' audited changes.</summary>
internal sealed class MemoryAuditLog : IAuditLog
{
    private readonly ConcurrentStack<AuditEvent> _events = new();

    public Task WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        _events.Push(auditEvent);
        return Task.CompletedTask;
    }

    public IReadOnlyList<AuditEvent> Recent(int limit) => [.. _events.Take(limit)];
}
