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
    /// <remarks>
    /// prometheus-net's .NET metrics have no allocation count, so <c>dotnet_gc_allocated_bytes_total</c>
    /// (<see cref="GC.GetTotalAllocatedBytes"/>, read at each scrape) is added: its change over a
    /// run divided by the requests served is the bytes allocated per request (the pipeline bench reads it).
    /// </remarks>
    public static IHostApplicationBuilder AddMlopsMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(_ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);
            var allocated = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter(
                "dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
            registry.AddBeforeCollectCallback(() => allocated.IncTo(GC.GetTotalAllocatedBytes()));
            return new ServingMetrics(registry);
        });
        // The HTTP edge sees only the registry it exports and the port it counts requests through.
        builder.Services.AddSingleton(provider => provider.GetRequiredService<ServingMetrics>().Registry);
        builder.Services.AddSingleton<IRequestCounter>(provider => provider.GetRequiredService<ServingMetrics>());
        builder.Services.AddHostedService<ClusterMetrics>();
        return builder;
    }
}
