using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Testing;
using Prometheus;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// Drift alerts fire when a version's verdict changes (stable → drifted → stable), once per change,
/// audited and POSTed to the webhook; a webhook that fails is tried again, then counted as failed; a
/// webhook that does not answer never holds the job up: alerts beyond the queue are dropped and counted.
/// </summary>
public sealed class DriftAlertsTests
{
    private const string Model = "fraud";

    [Fact]
    public async Task A_version_that_starts_and_stops_drifting_alerts_twice_however_many_windows_drift()
    {
        var audit = new MemoryAuditLog();
        var webhook = new RecordingHandler(_ => HttpStatusCode.OK);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        await using (var alerts = new DriftAlerts(audit, new Uri("http://alerts.test/hook"), new DriftMetrics(registry), NullLogger.Instance, webhook))
        {
            foreach (var drifted in new[] { false, true, true, true, false, false })
            {
                alerts.Observe(Window(version: 1, drifted));
            }
            alerts.Observe(Window(version: 2, drifted: false));
        }

        Assert.Equal(["drift_detected", "drift_resolved"], audit.Events.Select(e => e.Action));
        Assert.All(audit.Events, e => Assert.Equal(("drift-job", Model, 1), (e.Actor, e.Model, e.Version)));
        Assert.Contains("amount, hour", audit.Events[0].Detail);
        var bodies = webhook.Bodies.Select(b => JsonDocument.Parse(b).RootElement).ToList();
        Assert.Equal(["drift_detected", "drift_resolved"], bodies.Select(b => b.GetProperty("event").GetString()));
        Assert.Equal(["amount", "hour"], bodies[0].GetProperty("drifted_features").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(0.5, bodies[0].GetProperty("threshold_share").GetDouble());
        Assert.Equal(2, MetricSample.Read(registry, "mlops_drift_alerts_total", Model, [("outcome", "sent")]));
    }

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_tried_three_times_then_counted_as_failed()
    {
        var webhook = new RecordingHandler(_ => HttpStatusCode.InternalServerError);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        await using (var alerts = new DriftAlerts(null, new Uri("http://alerts.test/hook"), new DriftMetrics(registry), NullLogger.Instance, webhook,
                         retryAfter: TimeSpan.FromMilliseconds(10)))
        {
            alerts.Observe(Window(version: 1, drifted: true));
        }

        Assert.Equal(DriftAlerts.Attempts, webhook.Bodies.Count);
        Assert.Equal(1, MetricSample.Read(registry, "mlops_drift_alerts_total", Model, [("outcome", "failed")]));
    }

    [Fact]
    public async Task A_webhook_that_does_not_answer_never_holds_the_job_up_and_what_does_not_fit_is_dropped()
    {
        var stuck = new TaskCompletionSource();
        var webhook = new RecordingHandler(_ => HttpStatusCode.OK, stuck.Task);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        // A long timeout: the held call must not time out and be tried again while the test fills the queue.
        var alerts = new DriftAlerts(null, new Uri("http://alerts.test/hook"), new DriftMetrics(registry), NullLogger.Instance, webhook,
            timeout: TimeSpan.FromMinutes(2));
        try
        {
            await Eventually.HoldsAsync(() =>
            {
                alerts.Observe(Window(version: 1, drifted: true));   // held by the webhook
                return webhook.Bodies.Count == 1;
            }, "the first alert reaches the webhook");
            // Each version that starts drifting is one alert: the queue takes its capacity, the rest are dropped.
            for (var version = 2; version <= DriftAlerts.QueueCapacity + 11; version++)
            {
                alerts.Observe(Window(version, drifted: true));
            }
            Assert.Equal(10, MetricSample.Read(registry, "mlops_drift_alerts_total", Model, [("outcome", "dropped")]));
        }
        finally
        {
            stuck.SetResult();
            await alerts.DisposeAsync();
        }
        Assert.Equal(1 + DriftAlerts.QueueCapacity, MetricSample.Read(registry, "mlops_drift_alerts_total", Model, [("outcome", "sent")]));
    }

    private static DriftWindowReport Window(int version, bool drifted) => JudgedWindows.Window(Model, version, drifted);

    /// <summary>Answers every request with the status given, after <paramref name="hold"/> completes; keeps the bodies.</summary>
    private sealed class RecordingHandler(Func<string, HttpStatusCode> answer, Task? hold = null) : HttpMessageHandler
    {
        private readonly ConcurrentQueue<string> _bodies = new();

        public IReadOnlyList<string> Bodies => [.. _bodies];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            _bodies.Enqueue(body);
            if (hold is not null) await hold;
            return new HttpResponseMessage(answer(body));
        }
    }
}
