using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlops.Stream.Grpc.Internal;
using Mlops.Stream.Grpc.Security;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Grpc;

/// <summary>
/// Runs the gRPC edge on its own port: a second Kestrel server, HTTP/2 only, inside the node's
/// process and lifetime. It is a host of its own rather than another endpoint of the HTTP server
/// so that neither edge sees the other's routes or middleware (the HTTP security middleware would
/// answer gRPC calls with JSON), and so the HTTP server's addresses stay exactly what
/// <c>Http:Url</c> says. What both edges must share comes from the node's services, the same
/// instances: the gateway (and so the batchers), the API keys, the rate limiter, the inference
/// and connection limits, the request counter and the logger factory.
/// </summary>
public sealed class GrpcInferenceServer(IServiceProvider node, IOptions<GrpcServerOptions> options, ILogger<GrpcInferenceServer> logger)
    : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address bound (port 0 resolved), e.g. <c>http://127.0.0.1:8081</c>; null while not listening or off.</summary>
    public string? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            logger.LogInformation("The Open Inference Protocol gRPC service is off ({Section}:{Key}=false)", GrpcServerOptions.Section, nameof(GrpcServerOptions.Enabled));
            return;
        }

        var app = Build(settings.Url);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await app.DisposeAsync();
            throw new GrpcListenException(e.Message.TrimEnd('.'), e);
        }

        _app = app;
        Address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        logger.LogInformation("Open Inference Protocol gRPC (inference.GRPCInferenceService, with reflection) listening on {GrpcAddress}", Address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
        Address = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private WebApplication Build(string url)
    {
        // Empty: no configuration files, environment or console logging of its own; all of that is the node's.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(GrpcInferenceServer).Assembly.GetName().Name });
        // UseKestrelHttpsConfiguration: the core server alone cannot bind an https:// address.
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseUrls(url);
        var certificate = node.GetService<ServerCertificate>();
        var services = builder.Services;
        services.AddSingleton<IHostLifetime, NodeOwnedLifetime>();
        services.AddSingleton<ILoggerFactory>(new NodeLoggerFactory(node.GetRequiredService<ILoggerFactory>()));

        var inference = node.GetService<IOptions<InferenceApiOptions>>() ?? Options.Create(new InferenceApiOptions());
        var limits = node.GetService<IOptions<HttpLimitsOptions>>()?.Value ?? new HttpLimitsOptions();
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            // gRPC needs HTTP/2; without TLS a port speaks it only when it speaks nothing else (h2c),
            // and with TLS, ALPN agrees on it.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
            limits.ApplyTo(kestrel.Limits);
            certificate?.ApplyTo(kestrel);
        });
        services.AddRouting();
        services.AddGrpc(grpc =>
        {
            // The HTTP edge's body limit; a larger message is RESOURCE_EXHAUSTED before any of it is handled.
            grpc.MaxReceiveMessageSize = (int)Math.Min(inference.Value.MaxRequestBodyBytes, int.MaxValue);
            grpc.Interceptors.Add<GrpcAccessInterceptor>();
        });
        services.AddGrpcReflection();

        // Resolved at the first call, not now: the node's gateway needs the actor system, which may
        // start after this server.
        services.AddSingleton(_ => node.GetRequiredService<IInferenceGateway>());
        services.AddSingleton(inference);
        services.AddSingleton(node.GetRequiredService<ApiKeyStore>());
        services.AddSingleton(node.GetRequiredService<IOptions<SecurityOptions>>());
        services.AddSingleton(node.GetRequiredService<IOptions<RateLimiterOptions>>());
        if (node.GetService<IRequestCounter>() is { } counter)
        {
            services.AddSingleton(counter);
        }
        // This server's own addresses: whether a role without keys is open depends on where it listens.
        services.AddSingleton<ListeningAddresses>();

        var app = builder.Build();
        app.MapGrpcService<InferenceGrpcService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
