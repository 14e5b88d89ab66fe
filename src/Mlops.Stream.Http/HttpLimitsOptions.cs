using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Internal;

namespace Mlops.Stream.Http;

/// <summary>
/// Section <c>Http:Limits</c>: how many connections the server holds and how long an idle or slow
/// client may keep one. Without them a flood of idle connections takes every file descriptor and the
/// process dies; with them, connections past the limit are closed as soon as they are accepted and
/// idle or trickling ones are closed by the timeouts, so the node keeps serving.
/// </summary>
public sealed class HttpLimitsOptions
{
    public const string Section = "Http:Limits";

    /// <summary>
    /// Open connections at once, all clients together; past it a new connection is closed at once.
    /// 1000 is far more than the callers of one node need and far below the process's descriptor limit.
    /// </summary>
    public long MaxConcurrentConnections { get; set; } = 1000;

    /// <summary>How long a connection may sit idle between requests (or before its first one) before the server closes it.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a client may take to send a request's headers; past it the server answers 408 and closes.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Slowest accepted request body, in bytes per second, after <see cref="MinRequestBodyDataRateGracePeriod"/>; slower is 408. 0 turns the check off.</summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>How long a body may start slowly before <see cref="MinRequestBodyDataRate"/> applies; more than 1 s (the server checks once a second).</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Hands the limits to a Kestrel server: the HTTP edge's, and the gRPC edge's, which shares them.</summary>
    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxConcurrentConnections = MaxConcurrentConnections;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.MinRequestBodyDataRate = MinRequestBodyDataRate > 0 ? new MinDataRate(MinRequestBodyDataRate, MinRequestBodyDataRateGracePeriod) : null;
    }
}

/// <summary>Checks <see cref="HttpLimitsOptions"/> at start; every message names the configuration key.</summary>
public sealed class HttpLimitsOptionsValidator : IValidateOptions<HttpLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpLimitsOptions options)
    {
        const string section = HttpLimitsOptions.Section;
        var failures = new List<string>();
        if (options.MaxConcurrentConnections < 1)
        {
            failures.Add($"{section}:{nameof(HttpLimitsOptions.MaxConcurrentConnections)} must be at least 1 (found {options.MaxConcurrentConnections}).");
        }
        if (options.KeepAliveTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{section}:{nameof(HttpLimitsOptions.KeepAliveTimeout)} must be a positive duration such as 00:02:00 (found {options.KeepAliveTimeout}).");
        }
        if (options.RequestHeadersTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{section}:{nameof(HttpLimitsOptions.RequestHeadersTimeout)} must be a positive duration such as 00:00:10 (found {options.RequestHeadersTimeout}).");
        }
        if (options.MinRequestBodyDataRate < 0 || double.IsNaN(options.MinRequestBodyDataRate))
        {
            failures.Add($"{section}:{nameof(HttpLimitsOptions.MinRequestBodyDataRate)} must be 0 (off) or more bytes per second (found {options.MinRequestBodyDataRate}).");
        }
        // Kestrel checks data rates once a second, so it refuses a grace period of a second or less.
        if (options.MinRequestBodyDataRateGracePeriod <= TimeSpan.FromSeconds(1))
        {
            failures.Add($"{section}:{nameof(HttpLimitsOptions.MinRequestBodyDataRateGracePeriod)} must be more than 1 second, such as 00:00:05 (found {options.MinRequestBodyDataRateGracePeriod}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class HttpLimitsServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="HttpLimitsOptions"/> from <see cref="HttpLimitsOptions.Section"/> (then
    /// <paramref name="configure"/>, for tests), validates them at start and hands them to Kestrel.
    /// </summary>
    public static IServiceCollection AddMlopsHttpLimits(this IServiceCollection services, Action<HttpLimitsOptions>? configure = null)
    {
        services.AddValidatedOptions<HttpLimitsOptions, HttpLimitsOptionsValidator>(HttpLimitsOptions.Section, configure);
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<HttpLimitsOptions>>((kestrel, limits) => limits.Value.ApplyTo(kestrel.Limits));
        return services;
    }
}
