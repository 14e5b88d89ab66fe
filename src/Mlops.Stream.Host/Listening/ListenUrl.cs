using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace Mlops.Stream.Host.Listening;

/// <summary>
/// One address the HTTP server is told to listen on, read strictly. Kestrel's own reading is lenient in
/// a dangerous way: in <c>http://127.0.0.1:abc</c> it takes <c>127.0.0.1:abc</c> for a host name, and for
/// any host name it listens on every network interface, port 80. So only what Kestrel binds as
/// written passes: <c>localhost</c>, an IP address, or a wildcard (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>,
/// <c>[::]</c>), with a port from 0 to 65535 (or the scheme's default) and no path.
/// </summary>
public sealed record ListenUrl(string Text, string Host, int Port, bool IsLoopback)
{
    /// <summary>Parses <paramref name="text"/>; <paramref name="problem"/> says what is wrong, quoting the text.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ListenUrl? url, [NotNullWhen(false)] out string? problem)
    {
        url = null;
        text = text?.Trim() ?? "";
        problem = ProblemOf(text, out var host, out var port);
        if (problem is null)
        {
            url = new ListenUrl(text, host, port, IsLoopbackHost(host));
        }
        return url is not null;
    }

    private static string? ProblemOf(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        var schemeName = scheme < 0 ? "" : text[..scheme].ToLowerInvariant();
        if (schemeName is not ("http" or "https"))
        {
            return $"'{text}' is not an http:// or https:// URL such as http://127.0.0.1:8080";
        }
        var authority = text[(scheme + 3)..];
        if (authority.EndsWith('/')) authority = authority[..^1];
        if (authority.Contains('/'))
        {
            return $"'{text}' has a path; give the scheme, host and port only, such as http://127.0.0.1:8080";
        }

        string? portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0) return $"'{text}' has an IPv6 address without its closing ']'";
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0 && after[0] != ':') return $"'{text}' has '{after}' after its IPv6 address where a port (':8080') belongs";
            portText = after.Length > 0 ? after[1..] : null;
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return $"'{text}' has '[{host}]', which is not an IPv6 address";
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
            if (host.Length == 0) return $"'{text}' has no host; use 127.0.0.1 for this machine only or 0.0.0.0 for every interface";
            if (!IsHostKestrelBindsAsWritten(host))
            {
                return $"'{text}' names host '{host}', which is not an IP address: the server would listen on every network interface. " +
                       "Use 127.0.0.1 or localhost (this machine only), one of the machine's IP addresses, or 0.0.0.0 (every interface)";
            }
        }

        if (portText is null)
        {
            port = schemeName == "https" ? 443 : 80;
        }
        else if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit)
                 || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return $"'{text}' has port '{portText}', which is not a number from 0 (any free port) to 65535";
        }

        // Kestrel refuses a dynamic port on localhost (it would have to pick one port for two addresses).
        if (port == 0 && string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{text}' asks for any free port on localhost, which the server cannot do; use 127.0.0.1:0";
        }
        return null;
    }

    /// <summary>localhost, a wildcard, or an IPv4 address in dotted-quad form (not the shorthands like '127.1' that IPAddress also reads).</summary>
    private static bool IsHostKestrelBindsAsWritten(string host) =>
        host is "*" or "+"
        || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (host.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit))
            && IPAddress.TryParse(host, out _));

    private static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
