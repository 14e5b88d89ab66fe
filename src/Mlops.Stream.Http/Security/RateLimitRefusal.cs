using System.Threading.RateLimiting;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// What a caller over its rate limit is told, the same on every edge (HTTP 429 and gRPC
/// RESOURCE_EXHAUSTED): how many whole seconds to wait, at least one, and the message.
/// </summary>
public sealed record RateLimitRefusal(long RetryAfterSeconds, string Message)
{
    public static RateLimitRefusal Of(RateLimitLease lease, RateLimitOptions limits)
    {
        // The fixed-window limiter says when its window resets; without that, a whole window is safe.
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Window;
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        return new RateLimitRefusal(seconds, $"rate limit of {limits.PermitLimit} requests per {limits.Window} exceeded; retry after {seconds} s");
    }
}
