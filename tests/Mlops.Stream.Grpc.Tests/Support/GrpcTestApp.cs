using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Grpc.Tests.Support;

/// <summary>
/// Both edges of a node over one <see cref="FakeInferenceGateway"/>: the HTTP edge composed as the
/// host composes it (inference API, security, limits) and the gRPC edge by <c>AddMlopsGrpc</c>, each
/// on a free loopback port, sharing the gateway, keys, rate limiter and request counter.
/// </summary>
public sealed class GrpcTestApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private GrpcTestApp(WebApplication app, FakeInferenceGateway gateway, RecordingCounter counter, Uri http, string grpc)
    {
        _app = app;
        Gateway = gateway;
        Counter = counter;
        Http = new HttpClient { BaseAddress = http };
        GrpcAddress = grpc;
        _channel = GrpcChannel.ForAddress(grpc);
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
    }

    public FakeInferenceGateway Gateway { get; }

    public RecordingCounter Counter { get; }

    public HttpClient Http { get; }

    /// <summary>The gRPC server's bound address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string GrpcAddress { get; }

    public CallInvoker Channel => _channel.CreateCallInvoker();

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; }

    public static async Task<GrpcTestApp> StartAsync(Action<InferenceApiOptions>? inference = null, Action<SecurityOptions>? security = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var gateway = new FakeInferenceGateway();
        var counter = new RecordingCounter();
        builder.Services.AddSingleton<IInferenceGateway>(gateway);
        builder.Services.AddSingleton<IRequestCounter>(counter);
        builder.Services.AddInferenceApi(inference);
        builder.Services.AddMlopsSecurity(security);
        builder.Services.AddMlopsHttpLimits();
        builder.Services.AddHealthChecks();
        builder.Services.AddMlopsGrpc(o => o.Url = "http://127.0.0.1:0");
        var app = builder.Build();
        try
        {
            app.UseMlopsErrorBodies();
            app.UseMlopsSecurity();
            app.MapHealthApi();
            app.MapInferenceApi();
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var http = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var grpc = app.Services.GetRequiredService<GrpcInferenceServer>().Address!;
        return new GrpcTestApp(app, gateway, counter, new Uri(http), grpc);
    }

    /// <summary>Call options carrying <paramref name="key"/> as <c>authorization: Bearer</c> metadata (none for null).</summary>
    public static CallOptions WithKey(string? key, DateTime? deadline = null) =>
        new(headers: key is null ? null : new Metadata { { "authorization", "Bearer " + key } }, deadline: deadline);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
