using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Http;

/// <summary>
/// Liveness and readiness, kept apart as Kubernetes probes expect: <c>/healthz/live</c> runs the
/// checks tagged <see cref="HealthTags.Live"/>, <c>/healthz/ready</c> those tagged
/// <see cref="HealthTags.Ready"/>. 200 when healthy or degraded, 503 when unhealthy, JSON either way.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/healthz").WithTags("Health");
        var readiness = new ReadinessLog(endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Mlops.Stream.Http.Readiness"));
        group.MapGet("/live", (HealthCheckService health, CancellationToken cancellationToken) =>
            CheckAsync(health, HealthTags.Live, null, cancellationToken))
            .WithSummary("Liveness: the process works (Kubernetes liveness probe)").Produces<HealthReportResponse>(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/ready", (HealthCheckService health, CancellationToken cancellationToken) =>
            CheckAsync(health, HealthTags.Ready, readiness, cancellationToken))
            .WithSummary("Readiness: the node serves its models (Kubernetes readiness probe); 200 healthy or degraded, 503 unhealthy, with the reasons")
            .Produces<HealthReportResponse>(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static async Task<Results<Ok<HealthReportResponse>, JsonHttpResult<HealthReportResponse>>> CheckAsync(
        HealthCheckService health, string tag, ReadinessLog? log, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(tag), cancellationToken);
        log?.Observe(report);
        var body = HealthReportResponse.From(report);
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }
}
