using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Lifecycle;

namespace Mlops.Stream.Actors.Drift;

/// <summary>The body a drift webhook receives: what changed, for which version, in which window, and which features drifted.</summary>
public sealed record DriftAlert(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("window_start")] DateTimeOffset WindowStart,
    [property: JsonPropertyName("window_end")] DateTimeOffset WindowEnd,
    [property: JsonPropertyName("events")] int Events,
    [property: JsonPropertyName("drifted_features")] IReadOnlyList<string> DriftedFeatures,
    [property: JsonPropertyName("drifted_share")] double DriftedShare,
    [property: JsonPropertyName("threshold_share")] double ThresholdShare)
{
    public const string Detected = "drift_detected";
    public const string Resolved = "drift_resolved";
}

/// <summary>
/// Tells people when a version's data starts drifting and when it stops: on the window whose
/// dataset verdict turns to drifted (and back to stable), an audit event (action
/// <see cref="DriftAlert.Detected"/> or <see cref="DriftAlert.Resolved"/>, actor <c>drift-job</c>)
/// and, when a webhook URL is configured, a JSON POST of <see cref="DriftAlert"/>. A drift that
/// lasts alerts once, not every window (the <c>mlops_drift_detected</c> gauge shows it meanwhile);
/// a job that restarts alerts again for a version still drifting. The webhook never slows the job:
/// alerts wait in a bounded queue (<see cref="QueueCapacity"/>; one that does not fit is dropped
/// and counted) and each is tried <see cref="Attempts"/> times with a timeout.
/// </summary>
public sealed class DriftAlerts : IAsyncDisposable
{
    public const int QueueCapacity = 100;
    public const int Attempts = 3;
    public const string AuditActor = "drift-job";

    private readonly IAuditLog? _audit;
    private readonly Uri? _webhook;
    private readonly HttpClient? _http;
    private readonly DriftMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _retryAfter;
    private readonly ConcurrentDictionary<(string Model, int Version), bool> _drifting = new();
    private readonly Channel<DriftAlert> _queue = Channel.CreateBounded<DriftAlert>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,   // TryWrite then refuses, so the drop is seen and counted
    });
    private readonly Task _sender;

    /// <param name="handler">The webhook's HTTP handler; tests pass their own.</param>
    /// <param name="retryAfter">Wait before the second attempt, doubled before the third (default 1 s).</param>
    public DriftAlerts(IAuditLog? audit, Uri? webhook, DriftMetrics metrics, ILogger logger, HttpMessageHandler? handler = null,
        TimeSpan? retryAfter = null, TimeSpan? timeout = null)
    {
        _audit = audit;
        _webhook = webhook;
        _metrics = metrics;
        _logger = logger;
        _retryAfter = retryAfter ?? TimeSpan.FromSeconds(1);
        if (webhook is not null)
            _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null) { Timeout = timeout ?? TimeSpan.FromSeconds(5) };
        _sender = webhook is null ? Task.CompletedTask : Task.Run(SendAsync);
    }

    /// <summary>Called for every window the job published; alerts when the version's verdict changed.</summary>
    public void Observe(DriftWindowReport window)
    {
        var drifted = window.Dataset.Drifted;
        var key = (window.Model, window.Version);
        var was = _drifting.TryGetValue(key, out var before) && before;
        _drifting[key] = drifted;
        if (drifted == was) return;
        var alert = new DriftAlert(drifted ? DriftAlert.Detected : DriftAlert.Resolved, window.Model, window.Version, window.Start, window.End,
            window.Events, [.. window.Features.Where(f => f.Drifted).Select(f => f.Feature)], window.Dataset.DriftedShare, window.Dataset.Threshold);
        Audit(alert);
        if (_webhook is null) return;
        if (!_queue.Writer.TryWrite(alert))
        {
            _metrics.CountAlert(alert.Model, "dropped");
            _logger.LogWarning("Drift alert for {Model} version {Version} dropped: {Capacity} alerts already wait for the webhook", alert.Model, alert.Version, QueueCapacity);
        }
    }

    private void Audit(DriftAlert alert)
    {
        if (_audit is null) return;
        var detail = alert.Event == DriftAlert.Detected
            ? $"{alert.DriftedFeatures.Count} feature(s) drifted in the window {alert.WindowStart:O} to {alert.WindowEnd:O} ({alert.Events} events): {string.Join(", ", alert.DriftedFeatures.Take(10))}"
            : $"the window {alert.WindowStart:O} to {alert.WindowEnd:O} ({alert.Events} events) is stable again";
        var written = _audit.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, AuditActor, alert.Event, alert.Model,
            alert.Version, alert.Event == DriftAlert.Detected ? "drifted" : "stable", detail));
        // The audit log logs its own write failures; nothing here waits for Kafka.
        _ = written.ContinueWith(t => _logger.LogWarning(t.Exception, "Drift alert of {Model} not audited", alert.Model), TaskContinuationOptions.OnlyOnFaulted);
    }

    private async Task SendAsync()
    {
        await foreach (var alert in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var outcome = await PostAsync(alert).ConfigureAwait(false);
            _metrics.CountAlert(alert.Model, outcome);
        }
    }

    private async Task<string> PostAsync(DriftAlert alert)
    {
        var wait = _retryAfter;
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var response = await _http!.PostAsJsonAsync(_webhook, alert).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return "sent";
                problem = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                problem = e.Message;
            }
            if (attempt == Attempts)
            {
                _logger.LogWarning("Drift alert {Event} for {Model} version {Version} could not be sent to the webhook after {Attempts} attempts: {Problem}",
                    alert.Event, alert.Model, alert.Version, Attempts, problem);
                return "failed";
            }
            await Task.Delay(wait).ConfigureAwait(false);
            wait *= 2;
        }
    }

    /// <summary>Sends what is queued (bounded by the attempts and their timeouts), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _sender.ConfigureAwait(false);
        _http?.Dispose();
    }
}
