using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Mlops.Stream.Cli;

/// <summary>
/// A node's admin API address, key and timeout, as resolved from options and the environment, and
/// the CA certificates (PEM) to trust for an https:// node whose certificate the system does not trust.
/// </summary>
public sealed record AdminEndpoint(Uri BaseUrl, string? Key, TimeSpan Timeout, X509Certificate2Collection? TrustedRoots = null)
{
    /// <summary>The address as the user wrote it (no trailing slash), for messages.</summary>
    public string Display => BaseUrl.ToString().TrimEnd('/');
}

/// <summary>An answer of the admin API: its raw JSON (printed as-is by <c>--output json</c>) and the parsed value.</summary>
internal sealed record ApiAnswer<T>(string Json, T Value);

/// <summary>
/// The HTTP side of the CLI: one call per command against the admin API, with the bearer key.
/// Every failure becomes a <see cref="CliException"/> with the exit code scripts rely on: 4xx is
/// <see cref="ExitCodes.Refused"/> with the server's message and code; no connection, a timeout, 5xx or
/// a body that is not the expected JSON is <see cref="ExitCodes.Unavailable"/>.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private readonly AdminEndpoint _endpoint;
    private readonly HttpClient _http;

    public AdminClient(AdminEndpoint endpoint)
    {
        _endpoint = endpoint;
        // Relative paths resolve under the base URL, so a node behind a path prefix
        // (http://gateway/mlops/) works: the base must end with '/'.
        var baseUrl = endpoint.BaseUrl.AbsoluteUri.EndsWith('/') ? endpoint.BaseUrl : new Uri(endpoint.BaseUrl.AbsoluteUri + "/");
        _http = new HttpClient(Handler(endpoint))
        {
            BaseAddress = baseUrl,
            Timeout = endpoint.Timeout,
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("mlops-cli", typeof(AdminClient).Assembly.GetName().Version?.ToString() ?? "0"));
        if (endpoint.Key is { Length: > 0 } key)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    /// <summary>With trusted roots given, the node's certificate must chain to one of them (and still match its name).</summary>
    private static SocketsHttpHandler Handler(AdminEndpoint endpoint)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        if (endpoint.TrustedRoots is { } roots)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            handler.SslOptions.CertificateChainPolicy = policy;
        }
        return handler;
    }

    /// <summary>
    /// Lets this client's calls take at least <paramref name="timeout"/> (a promotion that waits for its
    /// replica must outlast its own wait, whatever --timeout says). Call before the first request.
    /// </summary>
    /// <summary>How long a call may take (<c>--timeout</c>, or longer once <see cref="AllowAtLeast"/> raised it).</summary>
    public TimeSpan Timeout => _http.Timeout;

    public void AllowAtLeast(TimeSpan timeout)
    {
        if (timeout > _http.Timeout) _http.Timeout = timeout;
    }

    public Task<ApiAnswer<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), type, ct);

    public Task<ApiAnswer<T>> PostAsync<T>(string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, type, ct);

    public static HttpContent Json<TBody>(TBody body, JsonTypeInfo<TBody> type) =>
        new StringContent(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json");

    /// <summary>A path segment for a model name, escaped so a name cannot change the route.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary>
    /// A GET whose answer is a file (an HTML page, a PNG), not the admin API's JSON: its bytes and
    /// media type. Refusals are read as usual (the node answers errors in JSON); an answer of another
    /// media type than <paramref name="mediaType"/> is <see cref="ExitCodes.Unavailable"/>, so a proxy's
    /// page is never saved as the file asked for.
    /// </summary>
    public async Task<byte[]> DownloadAsync(string path, string mediaType, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, path);
        message.Headers.Accept.Clear();
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.5));
        var (response, body) = await ReachAsync(async () =>
        {
            var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            return (response, await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
        }, ct).ConfigureAwait(false);

        using (response)
        {
            if (!response.IsSuccessStatusCode) throw Refusal(response, Encoding.UTF8.GetString(body));
            var answered = response.Content.Headers.ContentType?.MediaType;
            if (!string.Equals(answered, mediaType, StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Unavailable,
                    $"unexpected answer from {_endpoint.Display} (HTTP {(int)response.StatusCode}): {answered ?? "no media type"}, not {mediaType}");
            return body;
        }
    }

    /// <summary>
    /// A streaming GET (NDJSON): returns once the node answered with success headers, before any
    /// line. HttpClient's timeout covers only that part; the lines take as long as they take.
    /// </summary>
    public async Task<NdjsonStream> OpenStreamAsync(string path, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, path);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(NdjsonStream.MediaType));
        var response = await ReachAsync(() => _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct), ct).ConfigureAwait(false);
        try
        {
            if (!response.IsSuccessStatusCode)
                throw Refusal(response, await ReachAsync(() => response.Content.ReadAsStringAsync(ct), ct).ConfigureAwait(false));
            return new NdjsonStream(response, await ReachAsync(() => response.Content.ReadAsStreamAsync(ct), ct).ConfigureAwait(false), _endpoint.Display);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private async Task<ApiAnswer<T>> SendAsync<T>(Func<HttpRequestMessage> request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var message = request();
        var (response, body) = await ReachAsync(async () =>
        {
            var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            return (response, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        }, ct).ConfigureAwait(false);

        using (response)
        {
            if (!response.IsSuccessStatusCode) throw Refusal(response, body);
            try
            {
                var value = JsonSerializer.Deserialize(body, type);
                if (value is null) throw new JsonException("empty JSON value");
                return new ApiAnswer<T>(body, value);
            }
            catch (JsonException e)
            {
                throw new CliException(ExitCodes.Unavailable,
                    $"unexpected answer from {_endpoint.Display} (HTTP {(int)response.StatusCode}): not the admin API's JSON ({e.Message})");
            }
        }
    }

    /// <summary>One exchange with the node; not reaching it and HttpClient's timeout become exit code 3.</summary>
    private async Task<TResult> ReachAsync<TResult>(Func<Task<TResult>> exchange, CancellationToken ct)
    {
        try
        {
            return await exchange().ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            throw new CliException(ExitCodes.Unavailable,
                $"cannot reach {_endpoint.Display}: {Innermost(e)} (trust the node's CA with --ca-cert FILE or {GlobalOptions.CaCertificateVariable})");
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"cannot reach {_endpoint.Display}: {Innermost(e)}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            // HttpClient.Timeout surfaces as a cancellation that the caller did not ask for.
            throw new CliException(ExitCodes.Unavailable,
                $"no answer from {_endpoint.Display} within {_http.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (raise --timeout for slow calls)");
        }
    }

    /// <summary>The one line for an HTTP error: the server's message and code when it sent its usual body.</summary>
    private CliException Refusal(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        ErrorDto? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body, CliJsonContext.Default.ErrorDto);
        }
        catch (JsonException)
        {
            // Not our error body (a proxy's HTML page, plain text): fall back to the raw text below.
        }

        var message = error?.Error is { Length: > 0 } text ? text : FirstLine(body) ?? response.ReasonPhrase ?? "no message";
        var detail = error?.Code is { Length: > 0 } code ? $"{code}, HTTP {status}" : $"HTTP {status}";
        if (response.StatusCode == HttpStatusCode.TooManyRequests && response.Headers.RetryAfter?.Delta is { } wait)
            detail += $", retry after {wait.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
        var exitCode = status is >= 400 and < 500 ? ExitCodes.Refused : ExitCodes.Unavailable;
        return new CliException(exitCode, $"{message} ({detail})");
    }

    private static string? FirstLine(string body)
    {
        var line = body.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        if (end >= 0) line = line[..end];
        if (line.IsEmpty) return null;
        return line.Length > 200 ? string.Concat(line[..200], "…") : line.ToString();
    }

    /// <summary>
    /// What went wrong, in the socket's words: "Connection refused (127.0.0.1:8080)". When the message
    /// only points at its inner exception (TLS failures), the innermost one says more.
    /// </summary>
    internal static string Innermost(HttpRequestException e)
    {
        if (!e.Message.Contains("inner exception", StringComparison.OrdinalIgnoreCase)) return e.Message;
        Exception inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner.Message;
    }

    public void Dispose() => _http.Dispose();
}
