using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// <c>GET /api/v1/models/{model}/drift</c> over a fake drift history: windows grouped by version,
/// newest version and newest window first, the windows per version bounded, the topic read with a
/// bounded scan, and every refusal's status and code.
/// </summary>
public sealed class DriftApiTests : IAsyncLifetime
{
    private readonly FakeDriftHistory _history = new();
    private TestApp _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(
            services: services => services.AddSingleton<IModelRegistry>(new StubRegistry()).AddSingleton<IDriftHistory>(_history),
            endpoints: app => app.MapDriftApi());
        _http = _app.Http;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Windows_come_per_version_newest_first_with_the_latest_windows_verdict_as_drift_detected()
    {
        // The topic's order: oldest first, versions interleaved.
        _history.Records.AddRange([Window(1, 1, false), Window(2, 1, false), Window(1, 2, true), Window(2, 2, true), Window(1, 3, false)]);

        using var response = await _http.GetAsync("/api/v1/models/fraud/drift");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("fraud", body.GetProperty("model").GetString());
        var versions = body.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([2, 1], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal([true, false], versions.Select(v => v.GetProperty("drift_detected").GetBoolean()));
        Assert.Equal([2, 1], versions[0].GetProperty("windows").EnumerateArray().Select(w => w.GetProperty("n").GetInt32()));
        Assert.Equal([3, 2, 1], versions[1].GetProperty("windows").EnumerateArray().Select(w => w.GetProperty("n").GetInt32()));
        Assert.Equal(DriftApi.MaxScan, _history.LastScan);
    }

    [Fact]
    public async Task Windows_limits_how_many_of_each_version_come_back()
    {
        _history.Records.AddRange(Enumerable.Range(1, 30).Select(n => Window(1, n, false)));

        using var defaulted = await _http.GetAsync("/api/v1/models/fraud/drift");
        using var three = await _http.GetAsync("/api/v1/models/fraud/drift?windows=3");

        Assert.Equal(DriftApi.DefaultWindows, Windows(await defaulted.Content.ReadAsStringAsync()).Count);
        Assert.Equal([30, 29, 28], Windows(await three.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_model_without_windows_yet_has_no_versions()
    {
        using var response = await _http.GetAsync("/api/v1/models/fraud/drift");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"model":"fraud","versions":[]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/v1/models/ghost/drift", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("/api/v1/models/fraud/drift?windows=0", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/v1/models/fraud/drift?windows=101", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/v1/models/fraud/drift?windows=x", HttpStatusCode.BadRequest, "bad_request")]
    public async Task Refusals_have_their_status_and_code(string path, HttpStatusCode status, string code)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Kafka_not_answering_is_503_kafka_unavailable()
    {
        _history.Unavailable = true;

        using var response = await _http.GetAsync("/api/v1/models/fraud/drift");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("kafka_unavailable", await response.Content.ReadAsStringAsync());
    }

    /// <summary>A stand-in window record: its version and a number <c>n</c> telling windows apart.</summary>
    private static DriftWindowRecord Window(int version, int n, bool drifted) =>
        new(version, drifted, JsonDocument.Parse($$"""{"version":{{version}},"n":{{n}}}""").RootElement.Clone());

    private static List<int> Windows(string body) =>
        [.. JsonDocument.Parse(body).RootElement.GetProperty("versions")[0].GetProperty("windows").EnumerateArray().Select(w => w.GetProperty("n").GetInt32())];
}
