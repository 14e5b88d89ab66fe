using Mlops.Stream.Host.Cluster;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Grpc;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Listening;
using Mlops.Stream.Host.Logging;
using Mlops.Stream.Host.Metrics;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Host;

public static class MlopsStreamingExtensions
{
    /// <summary>
    /// Everything a Mlops.Stream node runs: console logging, HTTP listening address and security, the
    /// Open Inference Protocol gRPC service on its own port, Kafka (external or embedded),
    /// the Akka cluster with sharding, the drift jobs, metrics, health checks and the system information endpoint's source.
    /// Production and tests compose the node through this one call.
    /// </summary>
    public static WebApplicationBuilder AddMlopsStreaming(this WebApplicationBuilder builder)
    {
        builder.AddMlopsLogging();
        builder.AddMlopsHttp();
        builder.AddMlopsGrpc();
        builder.AddMlopsKafka();
        builder.AddMlopsMetrics();
        builder.AddMlopsRegistry();
        builder.AddMlopsServing();
        builder.AddMlopsDrift();
        builder.AddMlopsAkka();
        builder.Services.AddSingleton<ISystemInfoSource, SystemInfoSource>();
        return builder;
    }

    /// <summary>
    /// Listens on <c>Http:Url</c> unless ASP.NET Core's own <c>urls</c> setting (<c>--urls</c>,
    /// <c>ASPNETCORE_URLS</c>) is given, which then wins as it does in any ASP.NET Core app. Every
    /// address is read strictly before Kestrel sees it (<see cref="ListenUrl"/>), and what Kestrel
    /// bound is checked once it listens (<see cref="BoundAddressCheck"/>). Connection limits come from
    /// <c>Http:Limits</c>; API keys, CORS and rate limits from the <c>Security</c> section, put in
    /// front of the endpoints by <c>MapMlopsApis</c>.
    /// </summary>
    public static WebApplicationBuilder AddMlopsHttp(this WebApplicationBuilder builder)
    {
        var http = builder.Configuration.BindValidatedNow<HttpOptions, HttpOptionsValidator>(HttpOptions.Section);
        builder.Services.AddValidatedOptions<HttpOptions, HttpOptionsValidator>(HttpOptions.Section);
        var listenUrls = ListenUrls.FromConfiguration(builder.Configuration, http.Url);
        builder.Services.AddSingleton(listenUrls);
        builder.AddMlopsTls(listenUrls);
        builder.Services.AddHostedService<BoundAddressCheck>();
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(http.Url);
        }
        builder.Services.AddMlopsHttpLimits();
        builder.Services.AddHealthChecks();
        builder.Services.AddInferenceApi();
        builder.Services.AddMlopsSecurity();
        builder.Services.AddMlopsApiDocs();
        return builder;
    }

    /// <summary>
    /// Stops what a start that failed part-way left running (the actor system, the embedded Kafka, the
    /// server), so the process can exit. Errors while stopping are dropped: the failure that matters
    /// has been reported already, and a service that never started may fail to stop.
    /// </summary>
    public static async Task StopAfterFailedStartAsync(this WebApplication app)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await app.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // See above: nothing more to report.
        }
        await app.DisposeAsync();
    }
}
