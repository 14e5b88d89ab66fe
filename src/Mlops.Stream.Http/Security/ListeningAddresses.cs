using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// Where the server listens, read once it has started (port 0 and wildcards are resolved by then),
/// and whether every address is a loopback one (see <see cref="AccessPolicy"/>).
/// </summary>
public sealed class ListeningAddresses
{
    private readonly Lazy<(IReadOnlyList<string> Addresses, bool LoopbackOnly)> _resolved;

    public ListeningAddresses(IServer server)
    {
        // Resolved on first use: the startup report (at ApplicationStarted) or the first request,
        // both after Kestrel has bound and replaced port 0 and wildcards with what it listens on.
        _resolved = new(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            return (addresses, AreLoopbackOnly(addresses));
        });
    }

    /// <summary>The bound addresses; empty when the server exposes none (then <see cref="LoopbackOnly"/> is false).</summary>
    public IReadOnlyList<string> Addresses => _resolved.Value.Addresses;

    public bool LoopbackOnly => _resolved.Value.LoopbackOnly;

    /// <summary>
    /// True when there is at least one address and each is <c>localhost</c> or a loopback IP.
    /// Wildcards (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>), host names and other IPs are not;
    /// an unknown binding (no addresses) is treated as exposed, so the admin API fails closed.
    /// </summary>
    public static bool AreLoopbackOnly(IReadOnlyCollection<string> addresses) =>
        addresses.Count > 0 && addresses.All(IsLoopback);

    public static bool IsLoopback(string address)
    {
        // Kestrel addresses look like scheme://host:port; wildcards are not valid URI hosts.
        var start = address.IndexOf("://", StringComparison.Ordinal);
        var rest = start < 0 ? address : address[(start + 3)..];
        var slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            host = close < 0 ? rest : rest[1..close];
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon < 0 ? rest : rest[..colon];
        }
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
