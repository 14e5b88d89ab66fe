using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// HTTP inference calls to one node (<c>POST /v2/models/{model}/infer</c> with a demo request body),
/// each call timed. The pool opens at most <c>connections</c> connections (kept under the node's
/// default limit of 1,000, past which it closes new ones): more calls at once wait for a connection.
/// </summary>
public sealed class InferClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly byte[] _body = DemoRequests.Body("http-bench");

    public InferClient(Uri node, int connections)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = node, Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>How a call ended: answered (200), refused with 429 (and when the node asks to come back), or failed otherwise.</summary>
    public enum Outcome { Ok, Refused, Failed }

    /// <summary>One inference. Latency is from <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp) to the answer.</summary>
    public async Task<(Outcome Outcome, double Ms, TimeSpan RetryAfter)> InferAsync(string model, long since)
    {
        var content = new ByteArrayContent(_body);
        content.Headers.ContentType = Json;
        try
        {
            using var response = await _http.PostAsync($"/v2/models/{model}/infer", content);
            await response.Content.CopyToAsync(System.IO.Stream.Null);
            var ms = Stopwatch.GetElapsedTime(since).TotalMilliseconds;
            return response.StatusCode switch
            {
                HttpStatusCode.OK => (Outcome.Ok, ms, TimeSpan.Zero),
                HttpStatusCode.TooManyRequests => (Outcome.Refused, ms, response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1)),
                _ => (Outcome.Failed, ms, TimeSpan.Zero),
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (Outcome.Failed, Stopwatch.GetElapsedTime(since).TotalMilliseconds, TimeSpan.Zero);
        }
    }

    public void Dispose() => _http.Dispose();
}
