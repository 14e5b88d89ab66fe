using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Listening;

/// <summary>One configured listening address and the key it came from.</summary>
public sealed record ConfiguredListenUrl(string Key, ListenUrl Url);

/// <summary>
/// The addresses the HTTP server is told to listen on, from the setting that wins in ASP.NET Core:
/// <c>Kestrel:Endpoints:&lt;name&gt;:Url</c> when any endpoint is configured, else <c>urls</c>
/// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>; several separated by ';'), else <c>Http:Url</c>.
/// </summary>
public sealed class ListenUrls(IReadOnlyList<ConfiguredListenUrl> all)
{
    private const string KestrelEndpoints = "Kestrel:Endpoints";

    public IReadOnlyList<ConfiguredListenUrl> All { get; } = all;

    /// <summary>Reads and checks every address; the first that does not parse throws, naming its key.</summary>
    /// <exception cref="ConfigurationException">An address does not parse (see <see cref="ListenUrl"/>).</exception>
    public static ListenUrls FromConfiguration(IConfiguration configuration, string httpUrl)
    {
        var parsed = new List<ConfiguredListenUrl>();
        foreach (var (key, text) in Configured(configuration, httpUrl))
        {
            if (!ListenUrl.TryParse(text, out var url, out var problem)) throw new ConfigurationException(key, problem);
            parsed.Add(new ConfiguredListenUrl(key, url));
        }
        return new ListenUrls(parsed);
    }

    /// <summary>The key of the address a server error names (Kestrel's bind errors quote the address), else of the first one.</summary>
    public string KeyFor(string serverError) =>
        (All.FirstOrDefault(c => serverError.Contains(c.Url.Text, StringComparison.OrdinalIgnoreCase)) ?? All[0]).Key;

    private static IEnumerable<(string Key, string? Text)> Configured(IConfiguration configuration, string httpUrl)
    {
        var endpoints = configuration.GetSection(KestrelEndpoints).GetChildren().ToList();
        if (endpoints.Count > 0)
        {
            return endpoints.Select(e => ($"{KestrelEndpoints}:{e.Key}:Url", e["Url"]));
        }
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => (WebHostDefaults.ServerUrlsKey, (string?)u));
        }
        return [($"{HttpOptions.Section}:{nameof(HttpOptions.Url)}", httpUrl)];
    }
}
