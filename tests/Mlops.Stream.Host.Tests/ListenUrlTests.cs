using Microsoft.Extensions.Configuration;
using Mlops.Stream.Host.Listening;
using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Tests;

/// <summary>Listening addresses are read strictly, and what the server binds must keep a loopback-only configuration on loopback.</summary>
public sealed class ListenUrlTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", "127.0.0.1", 8080, true)]
    [InlineData("http://127.0.0.1:0", "127.0.0.1", 0, true)]
    [InlineData("https://localhost:8443/", "localhost", 8443, true)]
    [InlineData("http://[::1]:8080", "::1", 8080, true)]
    [InlineData("http://127.0.0.1", "127.0.0.1", 80, true)]
    [InlineData("http://0.0.0.0:8080", "0.0.0.0", 8080, false)]
    [InlineData("http://[::]:8080", "::", 8080, false)]
    [InlineData("http://*:8080", "*", 8080, false)]
    [InlineData("http://+:8080", "+", 8080, false)]
    [InlineData("http://10.1.2.3:65535", "10.1.2.3", 65535, false)]
    public void An_address_kestrel_binds_as_written_parses(string text, string host, int port, bool loopback)
    {
        Assert.True(ListenUrl.TryParse(text, out var url, out var problem), problem);

        Assert.Equal((host, port, loopback), (url.Host, url.Port, url.IsLoopback));
    }

    [Theory]
    [InlineData("http://127.0.0.1:abc", "port 'abc'")]
    [InlineData("http://127.0.0.1:70000", "port '70000'")]
    [InlineData("http://127.0.0.1:-1", "port '-1'")]
    [InlineData("http://127.0.0.1:", "port ''")]
    [InlineData("http://127.0.0.l:8080", "not an IP address")]
    [InlineData("http://example.com:8080", "not an IP address")]
    [InlineData("http://127.1:8080", "not an IP address")]
    [InlineData("http://localhost:0", "any free port on localhost")]
    [InlineData("http://127.0.0.1:8080/api", "has a path")]
    [InlineData("ftp://127.0.0.1:21", "not an http:// or https://")]
    [InlineData("127.0.0.1:8080", "not an http:// or https://")]
    [InlineData("http://[::1:8080", "without its closing")]
    [InlineData("http://[nope]:8080", "not an IPv6 address")]
    [InlineData("http://:8080", "no host")]
    [InlineData("", "not an http:// or https://")]
    public void An_address_kestrel_would_read_otherwise_is_refused_quoting_it(string text, string expected)
    {
        Assert.False(ListenUrl.TryParse(text, out _, out var problem));

        Assert.Contains(expected, problem);
        Assert.Contains($"'{text}'", problem);
    }

    [Fact]
    public void Urls_win_over_http_url_and_each_of_them_is_checked_naming_urls()
    {
        var configuration = Configuration(("urls", "http://127.0.0.1:8080; http://127.0.0.1:x"));

        var error = Assert.Throws<ConfigurationException>(() => ListenUrls.FromConfiguration(configuration, "http://127.0.0.1:9090"));

        Assert.Equal("urls", error.Key);
        Assert.Contains("'http://127.0.0.1:x'", error.Problem);
    }

    [Fact]
    public void Kestrel_endpoints_win_over_urls_and_are_named_by_their_own_key()
    {
        var configuration = Configuration(("urls", "http://127.0.0.1:8080"), ("Kestrel:Endpoints:Public:Url", "http://0.0.0.0:abc"));

        var error = Assert.Throws<ConfigurationException>(() => ListenUrls.FromConfiguration(configuration, "http://127.0.0.1:9090"));

        Assert.Equal("Kestrel:Endpoints:Public:Url", error.Key);
    }

    [Fact]
    public void Without_urls_the_node_listens_on_http_url()
    {
        var urls = ListenUrls.FromConfiguration(Configuration(), "http://127.0.0.1:9090");

        var only = Assert.Single(urls.All);
        Assert.Equal(("Http:Url", 9090), (only.Key, only.Url.Port));
    }

    [Theory]
    [InlineData("http://[::]:80")]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://127.0.0.1:8080,http://10.0.0.5:8080")]
    public void Loopback_addresses_that_end_up_bound_beyond_loopback_are_an_error_naming_the_key(string bound)
    {
        var configured = ListenUrls.FromConfiguration(Configuration(), "http://127.0.0.1:8080").All;

        var error = BoundAddressCheck.Mismatch(configured, bound.Split(','));

        Assert.NotNull(error);
        Assert.Equal("Http:Url", error.Key);
        Assert.Contains(bound.Split(',').Last(), error.Problem);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080", "http://localhost:8080")]
    [InlineData("http://0.0.0.0:8080", "http://0.0.0.0:8080")]
    public void Addresses_bound_as_configured_pass(string configuredUrl, string bound)
    {
        var configured = ListenUrls.FromConfiguration(Configuration(("urls", configuredUrl)), "http://127.0.0.1:9090").All;

        Assert.Null(BoundAddressCheck.Mismatch(configured, [bound]));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();
}
