using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Host.Listening;

/// <summary>
/// Once the server listens, compares what it actually bound with what was configured: addresses that
/// were all loopback must still be loopback. If the server listens beyond this machine anyway, the
/// start fails rather than serve other hosts the operator never meant to reach. Runs in
/// <see cref="IHostedLifecycleService.StartedAsync"/>, after Kestrel has bound every address.
/// </summary>
internal sealed class BoundAddressCheck(IServer server, ListenUrls configured) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        if (Mismatch(configured.All, bound) is { } error) throw error;
        return Task.CompletedTask;
    }

    /// <summary>The error when loopback-only addresses were configured but something else is bound; otherwise null.</summary>
    public static ConfigurationException? Mismatch(IReadOnlyList<ConfiguredListenUrl> configured, IReadOnlyCollection<string> bound)
    {
        if (configured.Count == 0 || !configured.All(c => c.Url.IsLoopback) || ListeningAddresses.AreLoopbackOnly(bound))
        {
            return null;
        }
        return new ConfigurationException(configured[0].Key,
            $"asks for this machine only ({string.Join(", ", configured.Select(c => c.Url.Text))}) but the server listens on " +
            $"{(bound.Count == 0 ? "unknown addresses" : string.Join(", ", bound))}; refusing to serve beyond loopback");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
