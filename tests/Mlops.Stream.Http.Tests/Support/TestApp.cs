using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>
/// A real Kestrel host on a loopback port with the inference, models and health endpoint groups over
/// a <see cref="FakeInferenceGateway"/>, registered the way the host does: <c>AddInferenceApi</c>,
/// <c>AddMlopsSecurity</c>, <c>AddMlopsHttpLimits</c>, <c>UseMlopsErrorBodies</c>, <c>UseMlopsSecurity</c>,
/// <c>MapInferenceApi</c>, <c>MapModelsApi</c>, <c>MapHealthApi</c>. With no keys configured and a loopback address, security lets everything through.
/// A test of another endpoint group adds its sources with <c>services</c> and maps it with <c>endpoints</c>.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    /// <summary>
    /// A POST under <c>/api/v1</c> that binds a JSON body the way admin endpoints will, so the JSON
    /// depth limit and the admin role can be tested before the admin API exists. Echoes the body.
    /// </summary>
    public const string JsonEchoPath = "/api/v1/test/echo";

    private readonly WebApplication _app;

    private TestApp(WebApplication app, FakeInferenceGateway gateway, HttpClient http, string boundAddress)
    {
        _app = app;
        Gateway = gateway;
        Http = http;
        BoundAddress = boundAddress;
    }

    public FakeInferenceGateway Gateway { get; }

    public HttpClient Http { get; }

    /// <summary>The address Kestrel reports, e.g. <c>http://0.0.0.0:41234</c>; <see cref="Http"/> reaches it on 127.0.0.1.</summary>
    public string BoundAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestApp> StartAsync(
        Action<InferenceApiOptions>? configure = null,
        IDictionary<string, string?>? configuration = null,
        Action<SecurityOptions>? security = null,
        string url = "http://127.0.0.1:0",
        ILoggerProvider? logs = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? endpoints = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        var gateway = new FakeInferenceGateway();
        builder.Services.AddSingleton<IInferenceGateway>(gateway);
        builder.Services.AddInferenceApi(configure);
        builder.Services.AddMlopsSecurity(security);
        builder.Services.AddMlopsHttpLimits();
        builder.Services.AddHealthChecks();
        var metrics = ServingMetrics.Detached();
        builder.Services.AddSingleton(metrics.Registry);
        builder.Services.AddSingleton<IRequestCounter>(metrics);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            app.UseMlopsErrorBodies();
            app.UseMlopsSecurity();
            app.MapHealthApi();
            app.MapMetricsApi();
            app.MapInferenceApi();
            app.MapModelsApi();
            app.MapPost(JsonEchoPath, (JsonElement body) => TypedResults.Json(body));
            endpoints?.Invoke(app);
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var port = new Uri(address).Port;
        return new TestApp(app, gateway, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") }, address);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
