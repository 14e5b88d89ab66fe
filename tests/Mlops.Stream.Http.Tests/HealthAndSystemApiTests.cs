using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Http.Tests;

/// <summary>The endpoint groups alone, on a loopback port, with health checks and a system source the test controls.</summary>
public sealed class HealthAndSystemApiTests : IAsyncLifetime
{
    private static readonly SystemInfo Info = new("1.2.3", "embedded", "127.0.0.1:9092", "akka.tcp://mlops@127.0.0.1:4053", "Up", 1);

    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private HealthStatus _readiness = HealthStatus.Unhealthy;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ISystemInfoSource>(new FixedSystemInfo(Info));
        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("running"), tags: [HealthTags.Live])
            .AddCheck("dependency", () => new HealthCheckResult(_readiness, "dependency is " + _readiness), tags: [HealthTags.Ready])
            .AddCheck("untagged", () => HealthCheckResult.Unhealthy("never asked"));
        _app = builder.Build();
        _app.MapHealthApi();
        _app.MapSystemApi();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Live_runs_only_the_live_checks()
    {
        using var response = await _http.GetAsync("/healthz/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<HealthReportResponse>();
        Assert.Equal(["process"], body!.Checks.Select(c => c.Name));
    }

    [Fact]
    public async Task Ready_answers_503_naming_the_failing_check_then_200_once_it_passes()
    {
        using (var unready = await _http.GetAsync("/healthz/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unready.StatusCode);
            var body = await unready.Content.ReadFromJsonAsync<HealthReportResponse>();
            Assert.Equal("Unhealthy", body!.Status);
            Assert.Equal("dependency is Unhealthy", Assert.Single(body.Checks).Description);
        }

        _readiness = HealthStatus.Degraded;
        using var degraded = await _http.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
    }

    [Fact]
    public async Task System_info_is_served_with_snake_case_names()
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/system"));
        var root = document.RootElement;

        Assert.Equal("embedded", root.GetProperty("kafka_mode").GetString());
        Assert.Equal("127.0.0.1:9092", root.GetProperty("bootstrap_servers").GetString());
        Assert.Equal("akka.tcp://mlops@127.0.0.1:4053", root.GetProperty("akka_address").GetString());
        Assert.Equal("Up", root.GetProperty("cluster_status").GetString());
        Assert.Equal("1.2.3", root.GetProperty("service_version").GetString());
        Assert.Equal(1, root.GetProperty("cluster_members").GetInt32());
    }

    private sealed class FixedSystemInfo(SystemInfo info) : ISystemInfoSource
    {
        public SystemInfo Current() => info;
    }
}
