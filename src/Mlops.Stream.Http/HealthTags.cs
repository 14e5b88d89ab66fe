namespace Mlops.Stream.Http;

/// <summary>
/// Tags that put a health check behind an endpoint of <see cref="HealthApi"/>. Register every check
/// with one of these; a check without either is never asked.
/// </summary>
public static class HealthTags
{
    /// <summary>Checked by <c>/healthz/live</c>: failing means the process should be restarted.</summary>
    public const string Live = "live";

    /// <summary>Checked by <c>/healthz/ready</c>: failing means send no traffic yet (cluster not joined, Kafka unreachable).</summary>
    public const string Ready = "ready";
}
