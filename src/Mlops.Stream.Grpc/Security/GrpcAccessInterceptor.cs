using System.Threading.RateLimiting;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Grpc.Security;

/// <summary>
/// The HTTP edge's security, applied to every gRPC call before its method runs, in the HTTP order:
/// the caller is identified from the metadata <c>authorization: Bearer &lt;key&gt;</c> by the node's
/// <see cref="ApiKeyStore"/>; when <c>Security:RateLimit:Enabled</c>, it takes a permit from the
/// node's own rate limiter, so one key (or one address without a key) has one budget across HTTP
/// and gRPC; then <see cref="AccessPolicy.Decide"/> rules on <see cref="GrpcAccessPolicy.For"/>.
/// Refusals map by <see cref="GrpcErrors.CodeFor"/> (401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
/// 429 RESOURCE_EXHAUSTED with <c>retry-after</c>) and carry the HTTP code in the trailers.
/// </summary>
public sealed class GrpcAccessInterceptor(
    ApiKeyStore keys,
    ListeningAddresses listening,
    IOptions<SecurityOptions> security,
    IOptions<RateLimiterOptions> limiter,
    ILogger<GrpcAccessInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var permit = await AdmitAsync(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var permit = await AdmitAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var permit = await AdmitAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var permit = await AdmitAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The rate-limit permit held for the call (null when none is needed), or the refusal thrown.</summary>
    private async Task<RateLimitLease?> AdmitAsync(ServerCallContext context)
    {
        var access = GrpcAccessPolicy.For(context.Method);
        if (access == RouteAccess.Open)
        {
            return null;
        }

        var http = context.GetHttpContext();
        var caller = await keys.IdentifyBearerAsync(context.RequestHeaders.GetValue("authorization"));
        // The rate limiter partitions by this feature, exactly as for an HTTP request.
        http.Features.Set(caller);
        var permit = TakePermit(http);
        var decision = AccessPolicy.Decide(access, caller, keys, listening.LoopbackOnly);
        if (decision.Allowed)
        {
            return permit;
        }

        permit?.Dispose();
        logger.LogDebug("Refused gRPC {Method} for caller {Caller}: {Status} {Code}", context.Method, caller.Name, decision.StatusCode, decision.Code);
        throw GrpcErrors.Error(GrpcErrors.CodeFor(decision.StatusCode), decision.Message!, decision.Code);
    }

    private RateLimitLease? TakePermit(HttpContext http)
    {
        var limits = security.Value.RateLimit;
        if (!limits.Enabled || limiter.Value.GlobalLimiter is not { } global)
        {
            return null;
        }

        var permit = global.AttemptAcquire(http);
        if (permit.IsAcquired)
        {
            return permit;
        }

        var refusal = RateLimitRefusal.Of(permit, limits);
        permit.Dispose();
        throw GrpcErrors.Error(StatusCode.ResourceExhausted, refusal.Message, HttpErrorCodes.RateLimited, refusal.RetryAfterSeconds);
    }
}
