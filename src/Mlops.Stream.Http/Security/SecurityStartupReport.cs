using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// Once the server listens (addresses resolved), logs how the edge is secured: key counts per role
/// (never a key), CORS origins, rate limit, and a warning for every role left open.
/// </summary>
internal sealed class SecurityStartupReport(
    IHostApplicationLifetime lifetime,
    ApiKeyStore keys,
    ListeningAddresses listening,
    IOptions<SecurityOptions> options,
    ILogger<SecurityStartupReport> logger) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStarted.Register(Report);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        return Task.CompletedTask;
    }

    private void Report()
    {
        var security = options.Value;
        var addresses = string.Join(", ", listening.Addresses);
        logger.LogInformation(
            "HTTP security: {AdminKeys} admin key(s), {InferKeys} infer key(s); listening on {Addresses} ({Scope}); CORS origins: {CorsOrigins}; rate limit: {RateLimit}",
            keys.AdminKeyCount,
            keys.InferKeyCount,
            addresses,
            listening.LoopbackOnly ? "loopback only" : "beyond loopback",
            security.CorsOrigins.Length == 0 ? "none" : string.Join(", ", security.CorsOrigins),
            security.RateLimit.Enabled ? $"{security.RateLimit.PermitLimit} requests per {security.RateLimit.Window} per caller" : "off");

        var howTo = $"set {SecurityOptions.Section}:{nameof(SecurityOptions.AdminKeys)} or {SecurityOptions.AdminKeyVariable}";
        if (!keys.HasKeys(ApiRole.Admin))
        {
            if (listening.LoopbackOnly)
            {
                logger.LogWarning("No admin API key is configured: the admin API (/api/v1) is open to every local process on {Addresses}; {HowTo} before exposing the node", addresses, howTo);
            }
            else
            {
                logger.LogWarning("No admin API key is configured and the node listens on {Addresses}: the admin API (/api/v1) refuses every call with 403 until you {HowTo}", addresses, howTo);
            }
        }
        if (!keys.HasKeys(ApiRole.Infer))
        {
            logger.LogWarning(
                "No inference API key is configured: inference and model metadata (/v2) are open to anyone who can reach {Addresses}; {HowTo} to require one",
                addresses, $"set {SecurityOptions.Section}:{nameof(SecurityOptions.InferKeys)} or {SecurityOptions.InferKeyVariable}");
        }
    }
}
