using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// <c>POST /api/v1/models/{model}/drift/baseline</c> over fake served traffic: the window the scan is
/// asked for, the refusals (a bad window or row cap, an unknown model, too few usable rows, Kafka
/// away, a registry that keeps no samples) with their status and code, and the audit of a refusal.
/// </summary>
public sealed class DriftBaselineApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset From = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeServedTraffic _traffic = new();
    private readonly MemoryAuditLog _audit = new();
    private TestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(
            services: services => services
                .AddSingleton<IModelRegistry>(new StubRegistry())
                .AddSingleton<IServedTraffic>(_traffic)
                .AddSingleton<IDriftHistory>(new FakeDriftHistory())
                .AddSingleton(sp => new ModelAdministration(sp.GetRequiredService<IModelRegistry>(), _audit)),
            endpoints: app => app.MapDriftApi());

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("ghost", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z"}""", HttpStatusCode.NotFound, "model_not_found", "ghost")]
    [InlineData("fraud", """{"from":"2026-12-03T11:00:00Z","to":"2026-12-03T10:00:00Z"}""", HttpStatusCode.BadRequest, "invalid_reference", "must end after it starts")]
    [InlineData("fraud", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z","max_rows":9}""", HttpStatusCode.BadRequest, "invalid_reference", "max_rows must be from 10 to 50000")]
    [InlineData("fraud", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z","max_rows":50001}""", HttpStatusCode.BadRequest, "invalid_reference", "max_rows")]
    public async Task A_bad_request_is_refused_before_the_topic_is_read(string model, string body, HttpStatusCode status, string code, string reason)
    {
        using var response = await PostAsync(model, body);

        await AssertRefusedAsync(response, status, code, reason);
        Assert.Null(_traffic.Asked);
    }

    [Fact]
    public async Task A_window_with_too_few_usable_rows_is_refused_and_says_what_was_left_out()
    {
        _traffic.Records.AddRange(Enumerable.Range(0, 5).Select(i => Served(i)));
        _traffic.Records.Add(new ServedRecord("not json"u8.ToArray(), 0, 5, From));

        using var response = await PostAsync("fraud", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z"}""");

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "invalid_reference", "holds 5 usable rows (6 served records, 5 events of 'fraud' read; left out: 1 unreadable); at least 10 are needed");
        Assert.Equal(("fraud", From, From.AddHours(1)), _traffic.Asked);
    }

    [Fact]
    public async Task Kafka_away_is_503()
    {
        _traffic.Unavailable = true;

        using var response = await PostAsync("fraud", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z"}""");

        await AssertRefusedAsync(response, HttpStatusCode.ServiceUnavailable, "kafka_unavailable", "Kafka");
    }

    [Fact]
    public async Task A_registry_that_keeps_no_samples_refuses_the_baseline_and_the_refusal_is_audited()
    {
        _traffic.Records.AddRange(Enumerable.Range(0, 20).Select(i => Served(i)));

        using var response = await PostAsync("fraud", """{"from":"2026-12-03T10:00:00Z","to":"2026-12-03T11:00:00Z"}""");

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "invalid_reference", "does not store reference samples");
        var audited = Assert.Single(_audit.Recent(10));
        Assert.Equal(("reference-baseline", "fraud", 2, "invalid"), (audited.Action, audited.Model, audited.Version, audited.Result));
    }

    private Task<HttpResponseMessage> PostAsync(string model, string body) =>
        _app.Http.PostAsync($"/api/v1/models/{model}/drift/baseline", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code, string reason)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Contains(reason, body.GetProperty("error").GetString());
    }

    /// <summary>A served event of the stub's model: one row of its one feature, "amount".</summary>
    private static ServedRecord Served(int i) => new(Encoding.UTF8.GetBytes($$"""
        {"id":"r{{i}}","model":"fraud","version":"2","inputs":[{"name":"features","datatype":"FP32","shape":[1,1],"data":[{{i}}]}],"outputs":[],
         "request_timestamp":"2026-12-03T10:00:00Z","served_timestamp":"2026-12-03T10:00:00Z"}
        """), 0, i, From);

    private sealed class FakeServedTraffic : IServedTraffic
    {
        public List<ServedRecord> Records { get; } = [];

        public bool Unavailable { get; set; }

        public (string Model, DateTimeOffset From, DateTimeOffset To)? Asked { get; private set; }

        public Task<long> ScanAsync(string model, DateTimeOffset from, DateTimeOffset to, Action<ServedRecord> each, CancellationToken cancellationToken)
        {
            Asked = (model, from, to);
            if (Unavailable) throw new BrokerUnavailableException("Kafka did not answer");
            foreach (var record in Records) each(record);
            return Task.FromResult((long)Records.Count);
        }
    }
}
