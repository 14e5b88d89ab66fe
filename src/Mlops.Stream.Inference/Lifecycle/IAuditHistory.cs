namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// The cluster's audit trail, as every node wrote it (the audit topic), for <c>GET /api/v1/audit</c>
/// and <c>mlops audit</c>: one node's own memory only knows what that node did.
/// </summary>
public interface IAuditHistory
{
    /// <summary>The most recent events of the whole cluster, newest first; null when the trail cannot be read now.</summary>
    Task<IReadOnlyList<AuditEvent>?> RecentAsync(int limit, CancellationToken cancellationToken);
}
