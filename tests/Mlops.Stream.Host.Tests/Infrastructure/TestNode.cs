using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>
/// A real node in this process, composed exactly like Program.cs, on loopback with free ports for
/// HTTP and Akka remoting and an embedded Kafka. Dispose stops it the way a SIGTERM would.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private TestNode(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
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
        "--Akka:Port=0",
        "--Kafka:BootstrapServers=",
        $"--Registry:Path={Path.Combine(Path.GetTempPath(), "mlops-test-registry-" + Guid.NewGuid().ToString("N"))}",
        "--Logging:LogLevel:Default=Warning",
        .. extra,
    ];

    /// <summary>Composes the node as Program.cs does; throws what composition throws.</summary>
    public static WebApplication Build(params string[] extraArguments)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = Arguments(extraArguments),
            // appsettings.json is copied next to the test assembly with the host's build output.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddMlopsStreaming();
        var app = builder.Build();
        app.UseMlopsStreaming();
        return app;
    }

    public static async Task<TestNode> StartAsync(params string[] extraArguments)
    {
        var app = Build(extraArguments);
        await app.StartAsync().WaitAsync(Timeout);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new TestNode(app, new Uri(address));
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200, or fails after the timeout with the last answer.</summary>
    public async Task<HttpResponseMessage> WaitForOkAsync(string path)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var response = await Http.GetAsync(path);
            if (response.IsSuccessStatusCode) return response;
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{path} did not answer 200 within {Timeout}; last answer {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            response.Dispose();
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync().WaitAsync(Timeout);
        await App.DisposeAsync();
    }
}
