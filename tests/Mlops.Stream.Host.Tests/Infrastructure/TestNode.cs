using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http;

namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>
/// A real node in this process, composed exactly like Program.cs, on loopback with free ports for
/// HTTP and Akka remoting and an embedded Kafka. Dispose stops it the way a SIGTERM would.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _registry;

    private TestNode(WebApplication app, Uri address, TempDirectory registry)
    {
        App = app;
        Address = address;
        _registry = registry;
        Http = new HttpClient { BaseAddress = address, Timeout = Timeout };
    }

    public WebApplication App { get; }

    /// <summary>The HTTP address Kestrel actually bound (the port is chosen at start).</summary>
    public Uri Address { get; }

    public HttpClient Http { get; }

    public ActorSystem ActorSystem => App.Services.GetRequiredService<ActorSystem>();

    /// <summary>The arguments every test node gets; <paramref name="extra"/> ones come later and win.</summary>
    public static string[] Arguments(params string[] extra) =>
    [
        "--Http:Url=http://127.0.0.1:0",
        "--Grpc:Url=http://127.0.0.1:0",
        "--Akka:Port=0",
        "--Kafka:BootstrapServers=",
        "--Logging:LogLevel:Default=Warning",
        .. extra,
    ];

    /// <summary>Composes the node as Program.cs does; throws what composition throws.</summary>
    public static WebApplication Build(params string[] extraArguments) => Build(registry: null, extraArguments);

    private static WebApplication Build(TempDirectory? registry, string[] extraArguments)
    {
        // A registry of its own unless the test names one (a later argument wins); Build alone is
        // for composition checks that never start the node, so a fresh unused path does.
        var registryPath = registry?.Path ?? Path.Combine(Path.GetTempPath(), "mlops-test-registry-" + Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = Arguments([$"--Registry:Path={registryPath}", .. extraArguments]),
            // appsettings.json is copied next to the test assembly with the host's build output.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddMlopsStreaming();
        var app = builder.Build();
        app.MapMlopsApis();
        return app;
    }

    public static async Task<TestNode> StartAsync(params string[] extraArguments)
    {
        var registry = new TempDirectory("mlops-test-registry-");
        try
        {
            var app = Build(registry, extraArguments);
            await app.StartAsync().WaitAsync(Timeout);
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            return new TestNode(app, new Uri(address), registry);
        }
        catch
        {
            registry.Dispose();
            throw;
        }
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200, or fails after the timeout with the last answer.</summary>
    public Task<HttpResponseMessage> WaitForOkAsync(string path) =>
        Eventually.ReadsAsync(() => Http.GetAsync(path), response => response.IsSuccessStatusCode, $"{path} answers 200", Timeout,
            response => $"{(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}", TimeSpan.FromMilliseconds(100));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            await App.StopAsync().WaitAsync(Timeout);
            await App.DisposeAsync();
        }
        finally
        {
            _registry.Dispose();
        }
    }
}
