using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Gateway;
using Prometheus;

namespace Mlops.Stream.Host.Metrics;

public static class MetricsHostingExtensions
{
    /// <summary>
    /// The node's Prometheus registry (its own, not prometheus-net's static default, so nodes in one
    /// process keep separate counts): the serving metrics, .NET process metrics, and the cluster
    /// metrics sampled at each scrape. <c>/metrics</c> serves it.
    /// </summary>
    public static IHostApplicationBuilder AddMlopsMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(_ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);
            return new ServingMetrics(registry);
        });
        // The HTTP edge sees only the registry it exports and the port it counts requests through.
        builder.Services.AddSingleton(provider => provider.GetRequiredService<ServingMetrics>().Registry);
        builder.Services.AddSingleton<IRequestCounter>(provider => provider.GetRequiredService<ServingMetrics>());
        builder.Services.AddHostedService<ClusterMetrics>();
        return builder;
    }
}
