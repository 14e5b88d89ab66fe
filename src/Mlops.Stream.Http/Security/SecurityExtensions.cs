using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Mlops.Stream.Http.Internal;
using Mlops.Stream.Http.Security.Internal;

namespace Mlops.Stream.Http.Security;

public static class SecurityExtensions
{
    private const string CorsPolicyName = "mlops-cors";

    /// <summary>
    /// API keys, CORS, rate limiting and the JSON depth limit of the HTTP edge, from section
    /// <see cref="SecurityOptions.Section"/> (validated at start). Pair with <see cref="UseMlopsSecurity"/>.
    /// <paramref name="configure"/> runs after the configuration (tests set options this way).
    /// </summary>
    public static IServiceCollection AddMlopsSecurity(this IServiceCollection services, Action<SecurityOptions>? configure = null)
    {
        services.AddValidatedOptions<SecurityOptions, SecurityOptionsValidator>(SecurityOptions.Section, configure);
        services.TryAddSingleton(sp => new ApiKeyStore(
            sp.GetRequiredService<IOptions<SecurityOptions>>(), sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()));
        services.TryAddSingleton<ListeningAddresses>();
        services.AddHostedService<SecurityStartupReport>();

        // Bodies that ASP.NET Core binds (admin API requests) are parsed with this depth limit, and a
        // body it cannot bind throws so BadRequestMiddleware answers with the usual error body.
        services.AddOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>()
            .Configure<IOptions<SecurityOptions>>((json, security) => json.SerializerOptions.MaxDepth = security.Value.MaxJsonDepth);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<SecurityOptions>>((cors, security) =>
        {
            if (security.Value.CorsOrigins.Length > 0)
            {
                cors.AddPolicy(CorsPolicyName, policy => policy
                    .WithOrigins(security.Value.CorsOrigins)
                    .AllowAnyHeader()
                    .AllowAnyMethod()
                    // Browsers hide other response headers from scripts; these two tell a client how to recover.
                    .WithExposedHeaders(HeaderNames.RetryAfter, HeaderNames.WWWAuthenticate));
            }
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<SecurityOptions>>((limiter, security) =>
        {
            var limits = security.Value.RateLimit;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (AccessPolicy.For(context.Request.Path) == RouteAccess.Open)
                {
                    // Probes and scrapers are never limited: a throttled probe would restart a healthy pod.
                    return RateLimitPartition.GetNoLimiter("open");
                }
                var caller = context.GetApiCaller();
                var partition = caller.Role is not null
                    ? "key:" + caller.Name
                    : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitLimit,
                    Window = limits.Window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                var refusal = RateLimitRefusal.Of(rejected.Lease, limits);
                response.Headers.RetryAfter = refusal.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await response.WriteAsJsonAsync(new ErrorResponse(refusal.Message, HttpErrorCodes.RateLimited), cancellationToken);
            };
        });
        return services;
    }

    /// <summary>
    /// Adds the security middleware, in this order: error bodies for unbindable requests, CORS (so
    /// preflights need no key), caller identification, the per-caller rate limiter, then the access
    /// rules of <see cref="AccessPolicy"/>. Call it before mapping the endpoint groups.
    /// </summary>
    public static IApplicationBuilder UseMlopsSecurity(this IApplicationBuilder app)
    {
        var security = app.ApplicationServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
        app.UseMiddleware<BadRequestMiddleware>();
        if (security.CorsOrigins.Length > 0)
        {
            app.UseCors(CorsPolicyName);
        }
        app.UseMiddleware<IdentifyCallerMiddleware>();
        if (security.RateLimit.Enabled)
        {
            app.UseRateLimiter();
        }
        app.UseMiddleware<AccessMiddleware>();
        return app;
    }
}
