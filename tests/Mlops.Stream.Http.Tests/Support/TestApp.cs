using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>
/// A real Kestrel host on a loopback port with the inference and models endpoint groups over a
/// <see cref="FakeInferenceGateway"/>, registered the way the host will: <c>AddInferenceApi</c>,
/// <c>MapInferenceApi</c>, <c>MapModelsApi</c>.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, FakeInferenceGateway gateway, HttpClient http)
    {
        _app = app;
        Gateway = gateway;
        Http = http;
    }

    public FakeInferenceGateway Gateway { get; }

    public HttpClient Http { get; }

    public static async Task<TestApp> StartAsync(
        Action<InferenceApiOptions>? configure = null,
        IDictionary<string, string?>? configuration = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        var gateway = new FakeInferenceGateway();
        builder.Services.AddSingleton<IInferenceGateway>(gateway);
        builder.Services.AddInferenceApi(configure);
        var app = builder.Build();
        app.MapInferenceApi();
        app.MapModelsApi();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new TestApp(app, gateway, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
