using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// Connection limits of the edge (<c>Http:Limits</c>): a flood of connections is refused at the door,
/// idle and slow clients are closed by the timeouts, and the node keeps answering throughout.
/// </summary>
public sealed class HttpLimitsTests
{
    // Generous against a loaded 2-core machine; each test states the timeout it waits for.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_defaults_are_1000_connections_2_minute_keep_alive_10_second_headers_and_240_bytes_per_second_after_5_seconds()
    {
        await using var app = await TestApp.StartAsync();

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1000, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(240, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinRequestBodyDataRate.GracePeriod);
    }

    [Fact]
    public async Task Connections_past_the_limit_are_closed_at_once_while_those_within_it_and_the_health_probe_keep_working()
    {
        const int limit = 20, extra = 10;
        await using var app = await TestApp.StartAsync(configuration: Limits(("MaxConcurrentConnections", $"{limit}")));
        // The client's pooled connection is one of the limit; it must keep answering through the flood.
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/healthz/live")).StatusCode);

        var flood = new List<RawHttpConnection>();
        try
        {
            for (var i = 0; i < limit - 1 + extra; i++)
            {
                flood.Add(await RawHttpConnection.OpenAsync(app.Http.BaseAddress!.Port));
            }

            // The server accepts the extra connections and closes them at once; idle ones within the
            // limit stay open until the keep-alive timeout (two minutes), long after this test.
            var open = flood.Select(c => c.Closed).ToList();
            for (var closed = 0; closed < extra; closed++)
            {
                open.Remove(await Task.WhenAny(open).WaitAsync(Patience));
            }
            Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/healthz/live")).StatusCode);
            Assert.Equal(limit - 1, flood.Count(c => !c.Closed.IsCompleted));
        }
        finally
        {
            foreach (var connection in flood) await connection.DisposeAsync();
        }

        // Once the flood is gone, new connections are served again.
        using var fresh = new HttpClient { BaseAddress = app.Http.BaseAddress, Timeout = Patience };
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/healthz/live")).StatusCode);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_keep_alive_timeout()
    {
        // Kestrel's own default is 130 s: only the configured 2 s closes it within the test's patience.
        await using var app = await TestApp.StartAsync(configuration: Limits(("KeepAliveTimeout", "00:00:02")));
        await using var idle = await RawHttpConnection.OpenAsync(app.Http.BaseAddress!.Port);

        var sent = await idle.Closed.WaitAsync(Patience);

        Assert.Equal("", sent);
    }

    [Fact]
    public async Task Headers_sent_slower_than_the_headers_timeout_get_408_and_the_connection_closes()
    {
        // Kestrel's own default is 30 s; the configured 2 s must apply well within 20 s.
        await using var app = await TestApp.StartAsync(configuration: Limits(("RequestHeadersTimeout", "00:00:02")));
        await using var slow = await RawHttpConnection.OpenAsync(app.Http.BaseAddress!.Port);

        await slow.SendAsync("GET /healthz/live HTTP/1.1\r\nHost: localhost\r\n");   // never the blank line that ends the headers
        var sent = await slow.Closed.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.StartsWith("HTTP/1.1 408", sent);
    }

    [Fact]
    public async Task An_infer_body_slower_than_the_minimum_rate_gets_408_with_the_error_body()
    {
        // The default minimum rate (240 bytes/s after 5 s of grace); 10 bytes of 1000 never reach it.
        await using var app = await TestApp.StartAsync();
        await using var slow = await RawHttpConnection.OpenAsync(app.Http.BaseAddress!.Port);

        await slow.SendAsync("POST /v2/models/fraud/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
                             "Content-Length: 1000\r\n\r\n{\"id\":\"r1\"");
        var sent = await slow.Closed.WaitAsync(Patience);

        Assert.StartsWith("HTTP/1.1 408", sent);
        Assert.Contains("\"code\":\"request_timeout\"", sent);
        Assert.Empty(app.Gateway.Calls);
    }

    [Theory]
    [InlineData("MaxConcurrentConnections", "0")]
    [InlineData("KeepAliveTimeout", "00:00:00")]
    [InlineData("RequestHeadersTimeout", "-00:00:01")]
    [InlineData("MinRequestBodyDataRate", "-1")]
    [InlineData("MinRequestBodyDataRateGracePeriod", "00:00:01")]
    public async Task An_invalid_limit_stops_the_start_naming_its_key(string name, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(configuration: Limits((name, value))));

        Assert.StartsWith($"{HttpLimitsOptions.Section}:{name} must", Assert.Single(error.Failures));
    }

    private static Dictionary<string, string?> Limits(params (string Name, string Value)[] limits) =>
        limits.ToDictionary(l => $"{HttpLimitsOptions.Section}:{l.Name}", l => (string?)l.Value);
}
