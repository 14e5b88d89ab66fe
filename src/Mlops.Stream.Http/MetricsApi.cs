using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Inference.Gateway;
using Prometheus;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /metrics</c>: the node's registry in the Prometheus text format. Open to the scraper
/// without a key, like the health routes (see <see cref="Security.AccessPolicy"/>).
/// </summary>
public static class MetricsApi
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/metrics", async (HttpContext context, CancellationToken cancellationToken) =>
        {
            var registry = context.RequestServices.GetRequiredService<CollectorRegistry>();
            context.Response.ContentType = ContentType;
            await registry.CollectAndExportAsTextAsync(context.Response.Body, cancellationToken);
        }).WithTags("Metrics").WithSummary("The node's metrics in the Prometheus text format")
            .Produces<string>(StatusCodes.Status200OK, "text/plain");
        return endpoints;
    }
}
