using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka.Connection;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 11 end to end on one node with its embedded broker and the demo model, windows of 200
/// events: reference-like traffic (drawn from the model's reference profile by <c>mlops load</c>)
/// gives windows without an alert (false alarms counted); a served-topic record that is no served
/// event is counted as bad and the job goes on; traffic shifted by two standard deviations gives a
/// window with dataset drift, on the drift topic (read back by the API), in <c>/metrics</c> and in
/// <c>mlops drift status</c>, and alerted once: a webhook call and an audit event. With labels on the feedback topic for part of the traffic, the window
/// that counts them reports the accuracy of the predictions the node gave.
/// </summary>
public sealed class DriftEndToEndTests(ITestOutputHelper output)
{
    private const string Model = "fraud-demo";
    private const int WindowEvents = 200;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Reference_like_traffic_raises_no_alert_shifted_traffic_does_within_one_window_and_a_bad_served_event_is_counted()
    {
        await using var webhook = await AlertReceiver.StartAsync();
        await using var node = await TestNode.StartAsync($"--Drift:WindowEvents={WindowEvents}", $"--Drift:AlertWebhookUrl={webhook.Url}");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout);   // on by default

        // Reference-like traffic: exactly two windows of version 1.
        await LoadAsync(node, drift: 0, seed: 1);
        var reference = await WaitForWindowsAsync(node, windows => windows.Count == 2, "two windows of reference-like traffic");
        var falseAlarms = reference.Count(w => w.GetProperty("dataset").GetProperty("verdict").GetString() == "drifted");
        output.WriteLine($"reference-like windows: {reference.Count}, false alarms: {falseAlarms}; drifted shares: " +
                         string.Join(", ", reference.Select(w => w.GetProperty("dataset").GetProperty("drifted_share").GetRawText())));
        Assert.Equal(0, falseAlarms);
        Assert.Empty(webhook.Alerts);
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

        // The alert: one webhook call and one audit event for the version that started drifting.
        await Eventually.HoldsAsync(() => !webhook.Alerts.IsEmpty, "the webhook is called", Timeout);
        var alert = Assert.Single(webhook.Alerts);
        Assert.Equal(("drift_detected", Model, 1), (alert.GetProperty("event").GetString(), alert.GetProperty("model").GetString(), alert.GetProperty("version").GetInt32()));
        Assert.Equal(shifted.GetProperty("dataset").GetProperty("drifted_count").GetInt32(), alert.GetProperty("drifted_features").GetArrayLength());
        var audit = await Eventually.ReadsAsync(() => node.Http.GetStringAsync("/api/v1/audit"), body => body.Contains("drift_detected"),
            "the alert is audited", Timeout);
        var audited = JsonDocument.Parse(audit).RootElement.EnumerateArray().Single(e => e.GetProperty("action").GetString() == "drift_detected");
        Assert.Equal(("drift-job", Model, 1), (audited.GetProperty("actor").GetString(), audited.GetProperty("model").GetString(), audited.GetProperty("version").GetInt32()));
        Assert.Equal(1, (await WaitForMetricAsync(node, m => m.Sum("mlops_drift_alerts_total", ("model", Model), ("outcome", "sent")) == 1,
            "the webhook call is counted")).Sum("mlops_drift_alerts_total", ("model", Model), ("outcome", "sent")));
    }

    /// <summary>A webhook receiver on a free loopback port that keeps every JSON body POSTed to it.</summary>
    private sealed class AlertReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private AlertReceiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentQueue<JsonElement> Alerts { get; } = new();

        public static async Task<AlertReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            AlertReceiver? receiver = null;
            app.MapPost("/alerts", (JsonElement body) =>
            {
                receiver!.Alerts.Enqueue(body.Clone());
                return Results.Ok();
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            receiver = new AlertReceiver(app, address + "/alerts");
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
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

    [Fact]
    public async Task Labels_for_part_of_the_traffic_give_the_accuracy_the_predictions_had_and_bad_feedback_is_counted()
    {
        const int window = 20;
        await using var node = await TestNode.StartAsync($"--Drift:WindowEvents={window}", "--Drift:WindowSpan=01:00:00", "--Drift:FeedbackLabelWait=00:00:02");
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
        await node.ActorSystem.ActorSelection($"/user/{DriftHostingExtensions.SingletonName}").ResolveOne(Timeout);

        // Rows with their true class (30% fraud), served over HTTP: the first window.
        var data = FraudDataGenerator.Generate(2 * window, seed: 7, fraudRate: 0.3);
        var predicted = new int[2 * window];
        for (var i = 0; i < window; i++) predicted[i] = await InferAsync(node, $"fb-{i}", data.Row(i).ToArray());
        await WaitForWindowsAsync(node, windows => windows.Count == 1, "the first window");

        // The true class of 14 of its 20 requests, by index and by name, after the window closed, with `mlops feedback`;
        // and three bad records written straight to the topic (the node refuses such labels).
        int[] labelled = [.. Enumerable.Range(0, window).Where(i => i % 3 != 2)];
        using var folder = new TempDirectory("drift-feedback-");
        var file = Path.Combine(folder.Path, "labels.jsonl");
        await File.WriteAllLinesAsync(file, labelled.Select(i => Feedback($"fb-{i}", i % 2 == 0 ? $"{data.Labels[i]}" : data.Labels[i] == 1 ? "\"fraud\"" : "\"legit\"")));
        var (sent, sentText, sentError) = await MlopsCli.RunAsync("feedback", Model, "--file", file, "--url", node.Address.ToString());
        Assert.True(sent == 0, sentError);
        Assert.Equal($"Wrote {labelled.Length} label(s) to mlops.feedback.{Model}.v1.", sentText.Trim());
        await ProduceAsync(node, $"mlops.feedback.{Model}.v1",
            [.. new[] { "this is no feedback", """{"label":1}""", """{"id":"never-served","label":1}""" }.Select(Encoding.UTF8.GetBytes)]);
        await WaitForMetricAsync(node, m => m.Sum("mlops_drift_labels_total", ("model", Model)) == labelled.Length
                                            && m.Sum("mlops_drift_bad_feedback_total", ("model", Model), ("kind", "unreadable")) == 1
                                            && m.Sum("mlops_drift_bad_feedback_total", ("model", Model), ("kind", "missing_id")) == 1
                                            && m.Sum("mlops_drift_unmatched_labels_total", ("model", Model)) == 1,
            "the labels joined, the bad records counted by kind and the unknown id given up");

        // The next window counts the labels (they came after their events' window closed).
        for (var i = window; i < 2 * window; i++) predicted[i] = await InferAsync(node, $"fb-{i}", data.Row(i).ToArray());
        var windows = await WaitForWindowsAsync(node, w => w.Count == 2, "the second window");

        var right = labelled.Count(i => predicted[i] == data.Labels[i]);
        var expectedAccuracy = (double)right / labelled.Length;
        var performance = windows[0].GetProperty("performance");
        output.WriteLine($"predictions {string.Join("", predicted)}, truths {string.Join("", data.Labels)}; performance {performance.GetRawText()}");
        Assert.Equal((labelled.Length, labelled.Length, "binary"),
            (performance.GetProperty("labelled").GetInt32(), performance.GetProperty("late").GetInt32(), performance.GetProperty("average").GetString()));
        Assert.Equal(expectedAccuracy, performance.GetProperty("accuracy").GetDouble(), 1e-12);
        var truePositives = labelled.Count(i => predicted[i] == 1 && data.Labels[i] == 1);
        Assert.Equal(Ratio(truePositives, labelled.Count(i => data.Labels[i] == 1)), Number(performance.GetProperty("recall")));
        Assert.Equal(Ratio(truePositives, labelled.Count(i => predicted[i] == 1)), Number(performance.GetProperty("precision")));
        Assert.Equal(0, windows[1].GetProperty("performance").GetProperty("labelled").GetInt32());

        // The first window is the prediction baseline; the second is judged against it.
        Assert.True(windows[1].GetProperty("prediction_drift").GetProperty("is_baseline").GetBoolean());
        var judged = windows[0].GetProperty("prediction_drift");
        Assert.Equal(["probabilities[legit]", "probabilities[fraud]", "predicted_class"],
            judged.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("feature").GetString()));

        var metrics = await WaitForMetricAsync(node, m => m.Series("mlops_drift_accuracy", ("model", Model), ("version", "1")).Any(), "the accuracy gauge");
        Assert.Equal(expectedAccuracy, metrics.Sum("mlops_drift_accuracy", ("model", Model), ("version", "1")), 1e-9);
        var (code, text, error) = await MlopsCli.RunAsync("drift", "status", Model, "--url", node.Address.ToString());
        Assert.True(code == 0, error);
        Assert.Contains("Performance against feedback labels (binary precision and recall):", text);
    }

    /// <summary>One request over HTTP; its predicted class, from the "label" output.</summary>
    private static Task<int> InferAsync(TestNode node, string id, float[] row) => DemoRequests.InferAsync(node, Model, id, row);

    private static string Feedback(string id, string label) => $$"""{"id":"{{id}}","label":{{label}}}""";

    private static double? Ratio(int numerator, int denominator) => denominator == 0 ? null : (double)numerator / denominator;

    private static double? Number(JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : value.GetDouble();

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

    private static Task ProduceToServedTopicAsync(TestNode node, byte[] value) => ProduceAsync(node, $"mlops.served.{Model}.v1", value);

    private static async Task ProduceAsync(TestNode node, string topic, params byte[][] values)
    {
        var bootstrap = node.App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        foreach (var value in values) await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "k", Value = value });
    }
}
