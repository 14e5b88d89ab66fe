using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Kafka.Connection;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 11 end to end on one node with its embedded broker and the demo model, windows of 200
/// events: reference-like traffic (drawn from the model's reference profile by <c>mlops load</c>)
/// gives windows without an alert (false alarms counted); a served-topic record that is no served
/// event is counted as bad and the job goes on; traffic shifted by two standard deviations gives a
/// window with dataset drift, on the drift topic (read back by the API), in <c>/metrics</c> and in
/// <c>mlops drift status</c>.
/// </summary>
public sealed class DriftEndToEndTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int WindowEvents = 200;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Reference_like_traffic_raises_no_alert_shifted_traffic_does_within_one_window_and_a_bad_served_event_is_counted()
    {
        await using var node = await TestNode.StartAsync($"--Drift:WindowEvents={WindowEvents}");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout);   // on by default

        // Reference-like traffic: exactly two windows of version 1.
        await LoadAsync(node, drift: 0, seed: 1);
        var reference = await WaitForWindowsAsync(node, windows => windows.Count == 2, "two windows of reference-like traffic");
        var falseAlarms = reference.Count(w => w.GetProperty("dataset").GetProperty("verdict").GetString() == "drifted");
        output.WriteLine($"reference-like windows: {reference.Count}, false alarms: {falseAlarms}; drifted shares: " +
                         string.Join(", ", reference.Select(w => w.GetProperty("dataset").GetProperty("drifted_share").GetRawText())));
        Assert.Equal(0, falseAlarms);
        Assert.All(reference, w => Assert.Equal((WindowEvents, "count"), (w.GetProperty("events").GetInt32(), w.GetProperty("closed_by").GetString())));

        // A record on the served topic that is no served event: counted by kind, skipped.
        await ProduceToServedTopicAsync(node, Encoding.UTF8.GetBytes("this is not a served event"));
        await WaitForMetricAsync(node, m => m.Sum("mlops_drift_bad_events_total", ("model", Model), ("kind", "unreadable")) == 1,
            "the bad served event is counted");

        // Shifted traffic: the first window of it drifts.
        await LoadAsync(node, drift: 2, seed: 2);
        var all = await WaitForWindowsAsync(node, windows => windows.Count >= 3, "a window of the shifted traffic");
        var shifted = all[0];
        Assert.Equal("drifted", shifted.GetProperty("dataset").GetProperty("verdict").GetString());
        Assert.True(shifted.GetProperty("dataset").GetProperty("drifted_share").GetDouble() >= 0.5);
        using (var status = await node.Http.GetAsync($"/api/v1/models/{Model}/drift"))
            Assert.True(JsonDocument.Parse(await status.Content.ReadAsStringAsync()).RootElement.GetProperty("versions")[0].GetProperty("drift_detected").GetBoolean());

        var metrics = await WaitForMetricAsync(node, m => m.Sum("mlops_drift_detected", ("model", Model), ("version", "1")) == 1
                                                        && m.Series("mlops_drift_consumer_lag", ("model", Model)).Any(),
            "/metrics shows the drift and the drift group's lag");
        Assert.True(metrics.Sum("mlops_drift_windows_total", ("model", Model), ("version", "1")) >= 3);
        Assert.True(metrics.Sum("mlops_drift_events_total", ("model", Model)) >= 3 * WindowEvents);
        Assert.Equal(30, metrics.Series("mlops_drift_score", ("model", Model), ("version", "1"), ("method", "population_stability_index")).Count());

        var (code, text, error) = await MlopsCli.RunAsync("drift", "status", Model, "--url", node.Address.ToString());
        Assert.True(code == 0, error);
        Assert.StartsWith($"{Model} version 1: DRIFT DETECTED in the latest window", text);
    }

    [Fact]
    public async Task With_drift_turned_off_no_job_runs_and_the_drift_metrics_are_still_declared()
    {
        await using var node = await TestNode.StartAsync("--Drift:Enabled=false");

        await Assert.ThrowsAsync<ActorNotFoundException>(() =>
            node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout));
        var metrics = await node.Http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE mlops_drift_detected gauge", metrics);
        Assert.Contains("# TYPE mlops_drift_windows_total counter", metrics);
    }

    /// <summary>400 requests through the Kafka path (two windows), every one predicted.</summary>
    private async Task LoadAsync(TestNode node, double drift, int seed)
    {
        var (code, report, error) = await MlopsCli.RunAsync("load", Model, "--rate", "400", "--duration", "1s", "--drift", drift.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", "json", "--url", node.Address.ToString());
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(report).RootElement;
        Assert.Equal((2 * WindowEvents, 0L), (json.GetProperty("predicted").GetInt64(), json.GetProperty("missing").GetInt64()));
        output.WriteLine($"load drift {drift}: {report.Trim()}");
    }

    /// <summary>Version 1's windows from the API (newest first) once <paramref name="condition"/> holds.</summary>
    private static async Task<List<JsonElement>> WaitForWindowsAsync(TestNode node, Func<List<JsonElement>, bool> condition, string what) =>
        await Eventually.ReadsAsync(async () =>
            {
                using var response = await node.Http.GetAsync($"/api/v1/models/{Model}/drift");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var versions = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("versions");
                return versions.GetArrayLength() == 0 ? [] : versions[0].GetProperty("windows").EnumerateArray().Select(w => w.Clone()).ToList();
            }, condition, what, Timeout,
            windows => string.Join("; ", windows.Select(w => $"{w.GetProperty("events")} events {w.GetProperty("dataset").GetProperty("verdict")}")),
            TimeSpan.FromMilliseconds(200));

    private static Task<PrometheusText> WaitForMetricAsync(TestNode node, Func<PrometheusText, bool> condition, string what) =>
        Eventually.ReadsAsync(async () => new PrometheusText(await node.Http.GetStringAsync("/metrics")), condition, what, Timeout,
            metrics => string.Join('\n', metrics.Text.Split('\n').Where(l => l.StartsWith("mlops_drift", StringComparison.Ordinal))),
            TimeSpan.FromMilliseconds(200));

    private static async Task ProduceToServedTopicAsync(TestNode node, byte[] value)
    {
        var bootstrap = node.App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        await producer.ProduceAsync($"mlops.served.{Model}.v1", new Message<string, byte[]> { Key = "bad", Value = value });
    }
}
